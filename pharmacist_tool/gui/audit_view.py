"""The Audit trail, for administrators: every audit event (when, action, who, about what, the
detail, whether its signature verifies), filtered by day and user.

Opened from the Users screen. Showing it asks the administrator's password again, like every
change to staff; the records check the rights, audit the reading and make the listing
(``records.audit_trail``): this screen only lays it out.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from pharmacist_tool.errors import UserError
from pharmacist_tool.gui import authority, staff
from pharmacist_tool.gui.password_check import PasswordCheck
from pharmacist_tool.gui.widgets import add_row, fit_to_screen, note

if TYPE_CHECKING:
    from pharmacist_tool.records.audit_trail import AuditTrail
    from pharmacist_tool.records.db import Database
    from pharmacist_tool.records.users import AuthenticatedUser

log = logging.getLogger(__name__)

COLUMNS = ["When", "Action", "Who", "About", "Detail", "Signature"]
EVERYONE = "Everyone"
_NOT_VERIFYING = QColor(180, 0, 0)


def _read(
    db: Database, username: str, password: str, since_text: str, user: str | None
) -> AuditTrail:
    """In the worker: the password again, then the trail as the records give it."""
    from pharmacist_tool.records.audit_trail import read_as_administrator
    from pharmacist_tool.records.reading import parse_date

    since = parse_date(since_text, "Since")
    admin = staff.check_admin(db, username, password)
    return read_as_administrator(db, admin, since=since, user=user)


class AuditTrailDialog(QDialog):
    def __init__(self, parent: QWidget | None, db: Database, admin: AuthenticatedUser) -> None:
        super().__init__(parent)
        self.db = db
        self.admin = admin
        self.password_check = PasswordCheck(self)
        self.trail: AuditTrail | None = None
        self.setWindowTitle("Audit trail")
        fit_to_screen(self, 1100, 700)
        layout = QVBoxLayout(self)
        layout.addWidget(
            note(
                "Every event in the records' audit log, oldest first, and whether its "
                "signature verifies. Showing it asks your password again and is itself "
                "kept in the audit log."
            )
        )
        form = QFormLayout()
        self.since = QLineEdit()
        self.since.setPlaceholderText("YYYY-MM-DD (blank: from the start)")
        add_row(form, "&Since:", self.since, "Events on or after this day (UTC)")
        self.user = QComboBox()
        add_row(form, "&User:", self.user, "Events done by this user, or about them")
        self.own_password = QLineEdit()
        self.own_password.setEchoMode(QLineEdit.EchoMode.Password)
        add_row(form, "Your pass&word:", self.own_password, "Asked again to show the trail")
        layout.addLayout(form)
        self.show_button = QPushButton("S&how")
        self.show_button.setDefault(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.show_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.message = note()
        self.message.setAccessibleName("Audit trail message")
        layout.addWidget(self.message)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setAccessibleName("Audit events")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        layout.addWidget(self.table, 1)
        close_row = QHBoxLayout()
        close_row.addStretch(1)
        self.close_button = QPushButton("&Close  Esc")
        self.close_button.setAutoDefault(False)
        close_row.addWidget(self.close_button)
        layout.addLayout(close_row)

        self.show_button.clicked.connect(self.show_trail)
        self.close_button.clicked.connect(self.reject)
        self._fill_users()
        refused = authority.check(db, admin.username, authority.Right.AUDIT)
        if refused:
            self.message.setText(f"✖ {refused}")
            self.show_button.setEnabled(False)
        self.own_password.setFocus(Qt.FocusReason.OtherFocusReason)

    def _fill_users(self) -> None:
        self.user.addItem(EVERYONE, None)
        try:
            names = sorted(user.username for user in staff.list_staff(self.db))
        except Exception:
            log.exception("listing users for the audit trail")
            names = []
        for name in names:
            self.user.addItem(name, name)

    def show_trail(self) -> bool:
        """Check the password and read the trail in the worker; False while one is running."""
        if self.password_check.running or not self.show_button.isEnabled():
            return False
        db, username = self.db, self.admin.username
        password, since, user = (
            self.own_password.text(),
            self.since.text(),
            self.user.currentData(),
        )
        self.own_password.clear()
        return self.password_check.start(
            lambda: _read(db, username, password, since, user),
            self._shown,
            self._not_shown,
            busy=[self.show_button, self.since, self.user, self.own_password],
            status=self.message,
        )

    def _shown(self, trail: AuditTrail) -> None:
        self.trail = trail
        lines = trail.lines
        self.table.setRowCount(len(lines))
        for r, line in enumerate(lines):
            signature = line.signature if line.verifies else f"✖ {line.signature}"
            values = [
                f"{line.at.astimezone():%Y-%m-%d %H:%M:%S}",
                line.action,
                line.actor or "—",
                line.subject or "",
                line.detail_text(),
                signature,
            ]
            for c, value in enumerate(values):
                item = QTableWidgetItem(value)
                if not line.verifies:
                    item.setForeground(QBrush(_NOT_VERIFYING))
                    item.setToolTip("\n".join(line.problems))
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()
        failing = sum(1 for line in lines if not line.verifies)
        shown = f"{len(lines)} event{'s' if len(lines) != 1 else ''}"
        if trail.chain_problems:
            self.message.setText(
                f"✖ {shown}; the records do NOT verify ({trail.chain_problems} problem(s)), "
                f"{failing} of these events among them. Run pharmacist-tool verify."
            )
        else:
            self.message.setText(f"✓ {shown}; every signature and link verifies.")

    def _not_shown(self, error: Exception) -> None:
        if isinstance(error, UserError):
            self.message.setText(f"✖ Not shown: {error}")
            self.own_password.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        log.error("reading the audit trail", exc_info=error)
        self.message.setText(f"✖ Not shown: an unexpected error ({type(error).__name__}).")
