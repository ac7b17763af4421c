"""The Users screen, for administrators: staff listed with their training; add, change role,
rename, reset password, unlock, deactivate, record training; printed names that several active
users share, and training lapsed, missing or lapsing soon, are named; the Audit trail
(``audit_view``) opens from here. Every change asks the administrator's own password again; the
records audit it.

All calls go through ``gui.staff`` (the one door to the records' users).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from pharmacist_tool.errors import UserError
from pharmacist_tool.gui import authority, staff
from pharmacist_tool.gui.authority import Right
from pharmacist_tool.gui.password_check import PasswordCheck
from pharmacist_tool.gui.widgets import add_row, fit_to_screen, note

if TYPE_CHECKING:
    from pharmacist_tool.records.db import Database
    from pharmacist_tool.records.training import TrainingStatus
    from pharmacist_tool.records.users import AuthenticatedUser, UserInfo

log = logging.getLogger(__name__)

COLUMNS = ["User name", "Full name", "Role", "Status", "Last sign-in", "Training"]


def _password_field() -> QLineEdit:
    field = QLineEdit()
    field.setEchoMode(QLineEdit.EchoMode.Password)
    return field


class UsersDialog(QDialog):
    changed = Signal(str)
    """A change was made (in words, as shown)."""

    def __init__(self, parent: QWidget | None, db: Database, admin: AuthenticatedUser) -> None:
        super().__init__(parent)
        self.db = db
        self.admin = admin
        self.password_check = PasswordCheck(self)
        self.setWindowTitle("Users")
        fit_to_screen(self, 900, 640)
        layout = QVBoxLayout(self)
        layout.addWidget(
            note(
                f"Signed in as {admin.printed_name}. Every change asks your password again and "
                "is kept in the audit log."
            )
        )
        self.clashes = note()
        self.clashes.setAccessibleName("Printed names shared")
        layout.addWidget(self.clashes)
        self.training_alerts = note()
        self.training_alerts.setAccessibleName("Training lapsed or due")
        layout.addWidget(self.training_alerts)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setAccessibleName("Users")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        layout.addWidget(self.table, 1)

        row = QHBoxLayout()
        selected = QGroupBox("The selected user")
        form = QFormLayout(selected)
        self.role = QComboBox()
        for role in staff.roles():
            self.role.addItem(staff.ROLE_WORDS.get(role, role), role)
        self.change_role_button = QPushButton("C&hange role")
        self.change_role_button.setAutoDefault(False)
        add_row(form, "R&ole:", self.role, "The role of the selected user")
        form.addRow(self.change_role_button)
        self.printed_name = QLineEdit()
        self.rename_button = QPushButton("Rena&me")
        self.rename_button.setAutoDefault(False)
        add_row(form, "Pr&inted name:", self.printed_name, "The name the user signs with")
        form.addRow(self.rename_button)
        self.new_password = _password_field()
        add_row(form, "&New password:", self.new_password, "For the selected user")
        self.new_repeat = _password_field()
        add_row(form, "Re&type:", self.new_repeat, "The new password again")
        self.reset_button = QPushButton("&Reset password")
        self.unlock_button = QPushButton("Un&lock")
        self.deactivate_button = QPushButton("&Deactivate…")
        buttons = QHBoxLayout()
        for b in (self.reset_button, self.unlock_button, self.deactivate_button):
            b.setAutoDefault(False)
            buttons.addWidget(b)
        form.addRow(buttons)
        row.addWidget(selected, 1)

        adding = QGroupBox("Add a user")
        form = QFormLayout(adding)
        self.username = QLineEdit()
        self.full_name = QLineEdit()
        self.new_role = QComboBox()
        self.new_role.addItem("Choose a role…", "")  # no default: what a user may do is chosen
        for role in staff.roles():
            self.new_role.addItem(staff.ROLE_WORDS.get(role, role), role)
        self.password = _password_field()
        self.repeat = _password_field()
        add_row(form, "&User name:", self.username, "No spaces, e.g. tmoss")
        add_row(form, "&Full name:", self.full_name, "As printed with signatures")
        add_row(form, "Rol&e:", self.new_role, "What this user may do")
        add_row(form, "&Password:", self.password, "At least 8 characters; a few words")
        add_row(form, "Repeat pa&ssword:", self.repeat, "The same password again")
        self.new_admin = QCheckBox("Also administrator rights (manages staff)")
        self.new_admin.setAccessibleName("Administrator rights")
        form.addRow(self.new_admin)
        self.add_button = QPushButton("&Add user")
        self.add_button.setAutoDefault(False)
        form.addRow(self.add_button)
        row.addWidget(adding, 1)
        layout.addLayout(row)
        layout.addWidget(self._training_box())

        bottom = QFormLayout()
        self.own_password = _password_field()
        add_row(bottom, "Your pass&word:", self.own_password, "Asked again for every change")
        layout.addLayout(bottom)
        self.message = note()
        self.message.setAccessibleName("Users message")
        layout.addWidget(self.message)
        close_row = QHBoxLayout()
        self.audit_button = QPushButton("&View the audit trail…")
        self.audit_button.setAutoDefault(False)
        self.audit_button.setVisible(authority.check(db, admin.username, Right.AUDIT) is None)
        close_row.addWidget(self.audit_button)
        close_row.addStretch(1)
        self.close_button = QPushButton("&Close  Esc")
        self.close_button.setAutoDefault(False)
        close_row.addWidget(self.close_button)
        layout.addLayout(close_row)

        self.add_button.clicked.connect(self.add_user)
        self.change_role_button.clicked.connect(self.change_role)
        self.rename_button.clicked.connect(self.rename)
        self.reset_button.clicked.connect(self.reset_password)
        self.unlock_button.clicked.connect(self.unlock)
        self.deactivate_button.clicked.connect(self.deactivate)
        self.close_button.clicked.connect(self.reject)
        self.audit_button.clicked.connect(self.open_audit_trail)
        self.register: list[TrainingStatus] = []
        self.record_training_button.clicked.connect(self.record_training)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.refresh()

    def open_audit_trail(self) -> None:
        """The Audit trail, for an administrator (the records check the rights again)."""
        from pharmacist_tool.gui.audit_view import AuditTrailDialog

        dialog = AuditTrailDialog(self, self.db, self.admin)
        dialog.open()
        self.audit_dialog = dialog

    def _training_box(self) -> QGroupBox:
        """Recording that the selected user was trained on a programme."""
        box = QGroupBox("Training of the selected user")
        form = QFormLayout(box)
        self.training_of = note()
        self.training_of.setAccessibleName("Training of the selected user")
        form.addRow(self.training_of)
        self.programme = QComboBox()
        try:
            for key, name in staff.training_programmes():
                self.programme.addItem(name, key)
        except Exception:
            log.exception("listing the programmes")
        self.trained_on = QLineEdit()
        self.trained_on.setPlaceholderText("YYYY-MM-DD")
        self.trained_on.setMaxLength(10)
        add_row(form, "Pro&gramme:", self.programme, "The programme the user was trained on")
        add_row(form, "Da&y trained:", self.trained_on, "YYYY-MM-DD, today or earlier")
        self.record_training_button = QPushButton("Record training")
        self.record_training_button.setAutoDefault(False)
        form.addRow(self.record_training_button)
        return box

    # -- the list --------------------------------------------------------------------------------

    def refresh(self, select: str | None = None) -> None:
        try:
            self.users = staff.list_staff(self.db)
        except Exception as error:
            log.exception("listing users")
            self.message.setText(f"✖ The users cannot be listed ({type(error).__name__}).")
            self.users = []
        self.table.setRowCount(len(self.users))
        for r, user in enumerate(self.users):
            role = user.role + (" + administrator" if getattr(user, "is_admin", False) else "")
            last = user.last_login_at
            values = [
                user.username,
                user.full_name,
                role,
                staff.status_words(user),
                f"{last.astimezone():%Y-%m-%d %H:%M}" if last else "never",
            ]
            for c, value in enumerate(values):
                self.table.setItem(r, c, QTableWidgetItem(value))
        self._show_training()
        self.table.resizeColumnsToContents()
        self._show_clashes()
        names = [u.username for u in self.users]
        target = select if select in names else None
        if target is not None or self.users:
            self.table.selectRow(names.index(target) if target is not None else 0)

    def _show_training(self) -> None:
        today = dt.date.today()
        try:
            self.register = staff.training_register(self.db, today)
        except Exception:
            log.exception("reading the training register")
            self.register = []
        for r, user in enumerate(self.users):
            mine = [s for s in self.register if s.username == user.username]
            words = "; ".join(f"{s.programme}: {s.state}" for s in mine) or "—"
            self.table.setItem(r, len(COLUMNS) - 1, QTableWidgetItem(words))
        alerts = staff.training_alerts(self.register, today)
        self.training_alerts.setText("\n".join(f"⚠ Training: {text}" for text in alerts))
        self.training_alerts.setVisible(bool(alerts))

    def _show_clashes(self) -> None:
        try:
            found = staff.printed_name_clashes(self.db)
        except Exception:
            log.exception("checking printed names")
            found = []
        self.clashes.setText("\n".join(f"⚠ {text}" for text in found))
        self.clashes.setVisible(bool(found))

    def selected(self) -> UserInfo | None:
        rows = self.table.selectionModel().selectedRows()
        return self.users[rows[0].row()] if rows else None

    def _selection_changed(self) -> None:
        user = self.selected()
        if user is not None:
            self.role.setCurrentIndex(max(0, self.role.findData(user.role)))
            self.printed_name.setText(user.full_name)
            today = dt.date.today()
            mine = [s for s in self.register if s.username == user.username]
            self.training_of.setText(
                "\n".join(f"{s.programme_name} ({s.programme}): {s.text(today)}" for s in mine)
                or f"No training recorded for {user.username}."
            )

    # -- changes ---------------------------------------------------------------------------------

    def _do(
        self,
        what: str,
        action: Callable[[AuthenticatedUser], object],
        select: str | None = None,
        then: Callable[[], None] | None = None,
    ) -> bool:
        """The administrator's password again, then ``action(admin)``, both in the worker (the
        window keeps running; the form is disabled until done). ``then`` runs once done.
        False when another change is still being checked."""
        db, username = self.db, self.admin.username
        password = self.own_password.text()
        if self.password_check.running:
            return False
        self.own_password.clear()

        def work() -> None:
            action(staff.check_admin(db, username, password))

        return self.password_check.start(
            work,
            lambda _: self._done(what, select, then),
            self._not_done,
            busy=self.busy_widgets(),
            status=self.message,
        )

    def busy_widgets(self) -> list[QWidget]:
        """What is disabled while a change is checked and made (no change twice)."""
        return [w for w in self.findChildren(QWidget) if w is not self.close_button]

    def _done(self, what: str, select: str | None, then: Callable[[], None] | None) -> None:
        self.message.setText(f"✓ {what}")
        self.refresh(select)
        if then is not None:
            then()
        self.changed.emit(what)

    def _not_done(self, error: Exception) -> None:
        if isinstance(error, UserError):
            self.message.setText(f"✖ Not done: {error}")
            self.own_password.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        log.error("changing users", exc_info=error)
        self.message.setText(f"✖ Not done: an unexpected error ({type(error).__name__}).")

    def add_user(self) -> None:
        name = self.username.text().strip()
        if self.password.text() != self.repeat.text():
            self.message.setText("✖ Not done: the two passwords differ.")
            return
        role = self.new_role.currentData()
        if not role:
            self.message.setText("✖ Not done: choose the new user's role (Alt+E).")
            self.new_role.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        password, full_name = self.password.text(), self.full_name.text()
        rights = self.new_admin.isChecked()

        def added() -> None:
            for field in (self.username, self.full_name, self.password, self.repeat):
                field.clear()
            self.new_role.setCurrentIndex(0)
            self.new_admin.setChecked(False)

        self._do(
            f"{name} added as {role}" + (" with administrator rights." if rights else "."),
            lambda admin: staff.add(
                self.db, admin, name, role, password, full_name=full_name, admin_rights=rights
            ),
            select=name,
            then=added,
        )

    def change_role(self) -> None:
        user = self.selected()
        if user is None:
            return
        role = self.role.currentData()
        self._do(
            f"{user.username} is now {role}.",
            lambda admin: staff.change_role(self.db, admin, user.username, role),
            select=user.username,
        )

    def rename(self) -> None:
        user = self.selected()
        if user is None:
            return
        printed = " ".join(self.printed_name.text().split())
        self._do(
            f"{user.username} now signs as {printed}.",
            lambda admin: staff.rename(self.db, admin, user.username, printed),
            select=user.username,
        )

    def reset_password(self) -> None:
        user = self.selected()
        if user is None:
            return
        if self.new_password.text() != self.new_repeat.text():
            self.message.setText("✖ Not done: the two new passwords differ.")
            return
        password = self.new_password.text()

        def reset() -> None:
            self.new_password.clear()
            self.new_repeat.clear()

        self._do(
            f"{user.username}'s password was reset: tell them in person.",
            lambda admin: staff.reset_password(self.db, admin, user.username, password),
            select=user.username,
            then=reset,
        )

    def unlock(self) -> None:
        user = self.selected()
        if user is None:
            return
        self._do(
            f"{user.username} is unlocked.",
            lambda admin: staff.unlock(self.db, admin, user.username),
            select=user.username,
        )

    def deactivate(self) -> None:
        user = self.selected()
        if user is None:
            return
        answer = QMessageBox.question(
            self,
            "Deactivate the user?",
            f"Deactivate {user.username}? They can no longer sign in; their signed records stay.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        self._do(
            f"{user.username} is deactivated.",
            lambda admin: staff.deactivate(self.db, admin, user.username),
            select=user.username,
        )

    def record_training(self) -> None:
        user = self.selected()
        programme = self.programme.currentData()
        if user is None or not programme:
            return
        text = self.trained_on.text().strip()
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            self.message.setText(f"✖ Not done: “{text}” is not a date (write it as YYYY-MM-DD).")
            self.trained_on.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        self._do(
            f"{user.username}'s training on {programme} on {day.isoformat()} is recorded.",
            lambda admin: staff.record_training(self.db, admin, user.username, programme, day),
            select=user.username,
        )
