"""The lock screen: after the idle minutes (or Ctrl+L) the patient's data is hidden until the
person at the counter gives their password again. A part of ``MainWindow``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from pharmacist_tool.errors import UserError
from pharmacist_tool.gui.session_screen import LOCKED, START, START_TITLE
from pharmacist_tool.gui.widgets import add_row, heading, note
from pharmacist_tool.gui.window_base import WindowBase

if TYPE_CHECKING:
    from pharmacist_tool.records.users import AuthenticatedUser


log = logging.getLogger(__name__)


def _unlocking_user(name: str, password: str, database: str | None) -> AuthenticatedUser | None:
    """The user who unlocks (password checked; in the worker). None when the database has no
    users: nobody to check against, the lock only hid the data from view."""
    from pharmacist_tool.gui import signing

    try:
        return signing.authenticate(name, password, database)
    except signing.NoUsersError:
        return None


class IdleWatcher(QObject):
    """Restarts the idle timer on every key press or mouse action anywhere in the application."""

    INPUT = {  # noqa: RUF012
        QEvent.Type.KeyPress,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseMove,
        QEvent.Type.Wheel,
        QEvent.Type.TouchBegin,
    }

    def __init__(self, timer: QTimer) -> None:
        super().__init__()
        self.timer = timer

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() in self.INPUT and self.timer.isActive():
            self.timer.start()
        return False


class LockScreen(WindowBase):
    """The lock screen's widgets and actions (mixed into ``MainWindow``)."""

    def _build_lock(self) -> QWidget:
        page = QWidget()
        outer = QVBoxLayout(page)
        outer.addStretch(1)
        outer.addWidget(heading("Locked"), 0, Qt.AlignmentFlag.AlignHCenter)
        self.lock_note = note("The window locked after a pause. Patient data is hidden.")
        self.lock_note.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        outer.addWidget(self.lock_note)
        box = QWidget()
        form = QFormLayout(box)
        self.unlock_user = QLineEdit()
        self.unlock_password = QLineEdit()
        self.unlock_password.setEchoMode(QLineEdit.EchoMode.Password)
        add_row(form, "&User:", self.unlock_user, "Who unlocks")
        add_row(form, "&Password:", self.unlock_password, "The password of that user")
        self.unlock_button = QPushButton("Un&lock")
        form.addRow(self.unlock_button)
        outer.addWidget(box, 0, Qt.AlignmentFlag.AlignHCenter)
        # Below the form, at a fixed width, centred by stretches: a wrapped label placed with
        # an alignment is given the height of the page's full width (one line) and clipped.
        self.unlock_message = note()
        self.unlock_message.setAccessibleName("Unlock message")
        self.unlock_message.setFixedWidth(box.fontMetrics().averageCharWidth() * 64)
        message_row = QHBoxLayout()
        message_row.addStretch(1)
        message_row.addWidget(self.unlock_message)
        message_row.addStretch(1)
        outer.addLayout(message_row)
        outer.addStretch(2)
        self.unlock_button.clicked.connect(self.unlock)
        self.unlock_password.returnPressed.connect(self.unlock)
        return page

    # -- idle lock --------------------------------------------------------------------------------

    def lock(self) -> None:
        if self.stack.currentIndex() == LOCKED:
            return
        self.save_now()
        if self.user is not None:
            from pharmacist_tool.gui import signing

            signing.logout(self.user, self.database, "idle-lock")
        self._before_lock = self.stack.currentIndex()
        for dialog in self.findChildren(QWidget):
            if dialog.isWindow() and dialog is not self and dialog.isVisible():
                dialog.hide()
        self.stack.setCurrentIndex(LOCKED)
        self.menuBar().setEnabled(False)
        self.setWindowTitle("Locked — Pharmacist tool")
        self.unlock_user.setText(self.user_name)
        self.unlock_password.clear()
        self.unlock_message.setText("")
        (self.unlock_password if self.user_name else self.unlock_user).setFocus()

    def unlock(self) -> None:
        """Check the password in the worker (the window keeps running); then unlock."""
        if self.password_check.running:
            return
        name, password = self.unlock_user.text().strip(), self.unlock_password.text()
        self.unlock_password.clear()
        if self.user_name and name != self.user_name:
            self.unlock_message.setText(
                f"Only {self.user_name} can unlock this session (or close the window; "
                "the session is saved)."
            )
            return
        database = self.database
        self.password_check.start(
            lambda: _unlocking_user(name, password, database),
            self._unlocked,
            self._unlock_failed,
            busy=(self.unlock_user, self.unlock_password, self.unlock_button),
            status=self.unlock_message,
        )

    def _unlock_failed(self, error: Exception) -> None:
        if isinstance(error, UserError):
            self.unlock_message.setText(f"✖ {error}")
            self.unlock_password.setFocus()
            return
        log.error("unlock failed", exc_info=error)
        self.unlock_message.setText(
            f"✖ The records database cannot be reached ({type(error).__name__}). The session "
            "is saved: you may close the window and open it again."
        )

    def _unlocked(self, user: AuthenticatedUser | None) -> None:
        if self.stack.currentIndex() != LOCKED:
            return
        if user is not None:
            self.user = user
            self.user_name = user.username
        self.menuBar().setEnabled(True)
        self.stack.setCurrentIndex(getattr(self, "_before_lock", START))
        self.idle.start()
        if self.current.case is not None:
            self._update_banner()
            self.go_step(self.current_step())
        else:
            self.setWindowTitle(START_TITLE)
