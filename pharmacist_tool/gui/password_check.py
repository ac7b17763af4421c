"""Password checks off the window's thread.

A password check is slow on purpose (argon2, about 0.3 s), and a records call waits on the
database besides. ``PasswordCheck`` runs one such call at a time in a worker thread while the
window keeps painting, its timers keep running and the fields of the form stay disabled (so
nothing is submitted twice); the result is applied on the window's thread.

The records calls open their own database sessions in the thread that runs them (``Database``
is an engine with a pool: each session checks out a connection in the calling thread), so the
worker never shares a connection with the window.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TypeVar

import shiboken6
from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal, Slot
from PySide6.QtWidgets import QApplication, QLabel, QWidget

log = logging.getLogger(__name__)

T = TypeVar("T")

CHECKING = "○ Checking the password…"


class _Finished(QObject):
    finished = Signal()


class _Job(QRunnable):
    """Runs ``work`` in the pool and says when it is done (from the worker thread)."""

    def __init__(self, work: Callable[[], None]) -> None:
        super().__init__()
        self.setAutoDelete(False)  # Python owns the job until its result is applied
        self.work = work
        self.signals = _Finished()

    def run(self) -> None:
        try:
            self.work()
        finally:
            self.signals.finished.emit()


class PasswordCheck(QObject):
    """One password check (and the records call it guards) at a time, in a worker thread."""

    settled = Signal()
    """The result has been applied (on the window's thread)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._job: _Job | None = None
        """The last job, kept until the next one: its thread may still be returning from it
        when its result is applied."""
        self._running = False
        self._apply: Callable[[], None] | None = None
        self._disabled: list[QWidget] = []
        self._focus: QWidget | None = None

    @property
    def running(self) -> bool:
        return self._running

    def start(
        self,
        work: Callable[[], T],
        on_done: Callable[[T], None],
        on_error: Callable[[Exception], None],
        *,
        busy: Sequence[QWidget] = (),
        status: QLabel | None = None,
        text: str = CHECKING,
    ) -> bool:
        """Run ``work`` in the worker; then ``on_done(result)`` or ``on_error(error)`` on the
        window's thread. ``busy`` widgets are disabled meanwhile and ``status`` says
        ``text``. False (and nothing runs) while another check is running."""
        if self._running:
            return False
        self._pool.waitForDone(1000)  # the last job's thread has returned (at once, in practice)
        results: list[T] = []
        errors: list[Exception] = []

        def run() -> None:
            try:
                results.append(work())
            except Exception as error:  # handed to the window's thread, never lost
                errors.append(error)

        def apply() -> None:
            if errors:
                on_error(errors[0])
            elif results:
                on_done(results[0])
            else:  # the worker ended without a result or an error (cannot normally happen)
                on_error(RuntimeError("the check ended without a result"))

        self._focus = QApplication.focusWidget()
        self._disabled = [w for w in busy if w.isEnabled()]
        for widget in self._disabled:
            widget.setEnabled(False)
        if status is not None:
            status.setText(text)
        self._apply = apply
        self._running = True
        self._job = _Job(run)
        self._job.signals.finished.connect(self._finished, Qt.ConnectionType.QueuedConnection)
        self._pool.start(self._job)
        return True

    @Slot()
    def _finished(self) -> None:
        apply, self._apply, self._running = self._apply, None, False
        for widget in self._disabled:
            widget.setEnabled(True)
        self._disabled = []
        focus, self._focus = self._focus, None
        # The widget that had the focus may have been deleted meanwhile (its dialog closed).
        alive = focus is not None and shiboken6.isValid(focus)
        if alive and focus is not None and focus.isEnabled() and focus.isVisible():
            focus.setFocus(Qt.FocusReason.OtherFocusReason)  # where the person left it
        try:
            if apply is not None:
                apply()
        finally:
            self.settled.emit()

    def wait(self, timeout_ms: int = 10_000) -> bool:
        """Wait for a running check to end (the window is closing); its result is dropped."""
        done = self._pool.waitForDone(timeout_ms)
        self._apply = None
        return bool(done)
