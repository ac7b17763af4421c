"""Starting the window: the application, crash handling, Qt messages to the log, ``--smoke``.

``run_gui`` is what ``pharmacist-tool gui`` calls (the CLI checked for a display already).
Start-up stays lean: only Qt and the case/engine/knowledge code load before the first paint;
the records (SQLAlchemy) and the handout (ReportLab) load when they are first used.
"""

from __future__ import annotations

import logging
import os
import sys
import time
import traceback
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from PySide6.QtCore import QMessageLogContext, QtMsgType

    from pharmacist_tool.gui.window import MainWindow
    from pharmacist_tool.settings import Settings

log = logging.getLogger(__name__)

_T0 = time.perf_counter()


def _process_age() -> float | None:
    """Seconds since this process started (Linux), so the smoke time includes Python's start."""
    try:
        ticks = os.sysconf("SC_CLK_TCK")
        start = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19]) / ticks
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return max(0.0, uptime - start)
    except (OSError, ValueError, IndexError):
        return None


def _qt_message_handler(mode: QtMsgType, context: QMessageLogContext, message: str) -> None:
    from PySide6.QtCore import QtMsgType

    level = {
        QtMsgType.QtDebugMsg: logging.DEBUG,
        QtMsgType.QtInfoMsg: logging.INFO,
        QtMsgType.QtWarningMsg: logging.WARNING,
        QtMsgType.QtCriticalMsg: logging.ERROR,
        QtMsgType.QtFatalMsg: logging.CRITICAL,
    }.get(mode, logging.WARNING)
    where = f" ({context.file}:{context.line})" if context and context.file else ""
    logging.getLogger("qt").log(level, "%s%s", message, where)


class CrashHandler:
    """``sys.excepthook``: log the trace, save the session once more, show what happened."""

    def __init__(self) -> None:
        self.window: MainWindow | None = None
        self.showing = False
        self.previous = sys.excepthook

    def __call__(
        self, kind: type[BaseException], error: BaseException, tb: TracebackType | None
    ) -> None:
        if issubclass(kind, KeyboardInterrupt):
            self.previous(kind, error, tb)
            return
        trace = "".join(traceback.format_exception(kind, error, tb))
        log.critical("unexpected error in the window\n%s", trace)
        window = self.window
        if window is not None:
            try:
                window.save_now()
            except Exception:
                log.exception("saving the session after an error failed")
        if self.showing:
            return
        from pharmacist_tool import paths
        from pharmacist_tool.gui.dialogs import CrashDialog
        from pharmacist_tool.logs import LOG_FILE_NAME

        self.showing = True
        try:
            summary = f"{kind.__name__}: {error}"
            dialog = CrashDialog(window, summary, trace, str(paths.log_dir() / LOG_FILE_NAME))
            self.dialog = dialog
            dialog.exec()
        finally:
            self.showing = False


FAULT_LOG_NAME = "window-fault.log"
RUNNING_NAME = "window-running"
"""A file in the log folder naming the running window's process; removed when it closes."""


def _process_gone(text: str) -> bool:
    """The process a running-marker names has ended (it is neither this one nor alive)."""
    try:
        pid = int(text.strip())
    except ValueError:
        return True
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def watch_for_hard_crashes() -> str:
    """Keep a hard crash's trace (a fault inside Qt kills the process before any Python hook
    runs): ``faulthandler`` writes it to a file in the log folder, and a marker file says the
    window is running until it closes. Returns a note when the previous run stopped abruptly
    (a fatal error's trace in the file, or the marker of a process that is gone); the file is
    then kept beside and started afresh."""
    import faulthandler

    from pharmacist_tool import paths

    try:
        folder = paths.log_dir()
        path, marker = folder / FAULT_LOG_NAME, folder / RUNNING_NAME
        previous = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
        was_running = marker.read_text(encoding="utf-8") if marker.exists() else ""
        stopped = "Fatal Python error" in previous or (
            bool(was_running.strip()) and _process_gone(was_running)
        )
        kept = path.with_suffix(".previous.log")
        if stopped and previous.strip():
            kept.write_text(previous, encoding="utf-8")
        handle = path.open("w", encoding="utf-8")
        marker.write_text(f"{os.getpid()}\n", encoding="utf-8")
    except OSError:
        return ""
    faulthandler.enable(handle)
    _keep_open.append(handle)
    if not stopped:
        return ""
    where = f" The details are in {kept}." if previous.strip() else ""
    log.error("the window stopped abruptly last time:\n%s", previous or "(no trace was left)")
    return "The window stopped abruptly last time; any session in progress is listed below." + where


def send_fatal_errors_to_the_log() -> None:
    """Python's fatal errors ("Fatal Python error: …") are written to the process's standard
    error by C code, which then turns ``faulthandler`` off and aborts: point that at the fault
    file in the log folder, and keep Python's own ``sys.stderr`` on the terminal."""
    if not _keep_open:
        return
    handle = _keep_open[-1]
    try:
        sys.stderr.flush()
        terminal = os.dup(2)
        os.dup2(handle.fileno(), 2)
        sys.stderr = os.fdopen(terminal, "w", buffering=1, errors="backslashreplace")
    except OSError:
        log.exception("keeping fatal errors in the log folder")


def stopped_cleanly() -> None:
    """The window closed as it should: no notice at the next start."""
    from pharmacist_tool import paths

    try:
        (paths.log_dir() / RUNNING_NAME).unlink(missing_ok=True)
    except OSError:
        log.exception("removing the running marker")


_keep_open: list[TextIO] = []


def _load_settings() -> tuple[Settings, str]:
    from pharmacist_tool.errors import UserError
    from pharmacist_tool.settings import Settings, load_settings

    try:
        return load_settings(), ""
    except UserError as error:
        return Settings(), str(error)


def example_case_path() -> Path:
    from pharmacist_tool import paths

    found = sorted(paths.resource("examples").glob("01-*.json"))
    if not found:
        raise FileNotFoundError(
            "the bundled example case (resources/examples/01-*.json) is missing"
        )
    return found[0]


def create_window(database: str | None = None) -> MainWindow:
    """The main window with this machine's settings (used by ``run_gui`` and the tests)."""
    from pharmacist_tool.gui.window import MainWindow

    settings, problem = _load_settings()
    window = MainWindow(settings, database)
    if problem:
        window.start_note.setText(f"⚠ {problem} Using the default settings.")
    return window


def run_gui(case_path: str | None = None, smoke: bool = False, database: str | None = None) -> int:
    from pharmacist_tool.logs import setup_logging

    setup_logging()
    from pharmacist_tool.gui.platform_check import platform_problem

    problem = platform_problem()
    if problem is not None:
        log.error("Qt's platform plugin cannot be loaded: %s", problem.detail)
        print(f"pharmacist-tool: {problem.message()}", file=sys.stderr)
        return 2
    # Qt-free modules first: once PySide6 is loaded, its import hook inspects every module
    # imported after it, which makes each later import slower.
    from PySide6.QtCore import QTimer, qInstallMessageHandler
    from PySide6.QtWidgets import QApplication

    import pharmacist_tool.case
    import pharmacist_tool.counselling.drafts
    import pharmacist_tool.gui.services
    import pharmacist_tool.settings  # noqa: F401

    qInstallMessageHandler(_qt_message_handler)
    from pharmacist_tool.gui.widgets import application

    app = QApplication(sys.argv[:1]) if QApplication.instance() is None else application()
    app.setApplicationName("pharmacist-tool")
    app.setApplicationDisplayName("Pharmacist tool")
    app.setOrganizationName("PharmacistTool")
    # Armed once Qt has started: a machine that cannot start Qt is no crash of a session.
    crashed_before = "" if smoke else watch_for_hard_crashes()
    if not smoke:
        send_fatal_errors_to_the_log()
    crash = CrashHandler()
    sys.excepthook = crash

    window = create_window(database)
    crash.window = window
    if crashed_before:
        window.start_note.setText(f"⚠ {crashed_before} " + window.start_note.text())
    if smoke:
        window.open_case_file(example_case_path())
    elif case_path:
        window.open_case_file(case_path)

    if smoke:
        painted: list[float] = []

        def first_paint() -> None:
            painted.append(time.perf_counter())
            app.exit(0)

        window.first_painted.connect(first_paint)
        QTimer.singleShot(10_000, app.quit)  # a platform that never paints must not hang a check
        window.show()
        app.exec()
        if not painted:
            print("pharmacist-tool: the window was not painted within 10 s", file=sys.stderr)
            return 1
        elapsed = painted[0] - _T0
        age = _process_age()
        if age is not None:
            age -= time.perf_counter() - painted[0]
        total = f"; {age:.3f} s since the process started" if age is not None else ""
        print(f"first paint after {elapsed:.3f} s{total}")
        window.close()
        # The check is done: leave without tearing down hundreds of widgets one by one
        # (the operating system frees them at once); logs and output are flushed first.
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)

    window.show()
    status = app.exec()
    from pharmacist_tool.gui import signing

    signing.close_all()
    stopped_cleanly()
    return int(status)
