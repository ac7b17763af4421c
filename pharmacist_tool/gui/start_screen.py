"""The start screen: new session, case files, records, settings, the unfinished sessions (no
patient names until someone signs in), who is at the counter, first run and the Users screen.

A part of ``MainWindow`` (``window.py``), which holds one session at a time.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from pharmacist_tool.counselling import drafts
from pharmacist_tool.errors import UserError
from pharmacist_tool.gui.session_screen import LOCKED, START
from pharmacist_tool.gui.widgets import add_row, heading, note
from pharmacist_tool.gui.window_base import WindowBase

if TYPE_CHECKING:
    from pharmacist_tool.records.users import AuthenticatedUser


log = logging.getLogger(__name__)

LOOK_UP_HINT = "Type the programme id, or the name and the date of birth."


class StartScreen(WindowBase):
    """The start screen's widgets and actions (mixed into ``MainWindow``)."""

    counter_changed = Signal(str)
    """Who is at the counter now: a user name after sign-in, "" after sign-out."""

    def _build_start(self) -> QWidget:
        page = QWidget()
        outer = QVBoxLayout(page)
        outer.setContentsMargins(32, 24, 32, 24)
        outer.addWidget(heading("Counselling desk"))
        self.start_note = note("")
        outer.addWidget(self.start_note)
        # First run: the handout needs the pharmacy's name and phone; ask until they are given.
        self.pharmacy_button = QPushButton("Give the pharmacy's name and phone for the h&andout…")
        self.pharmacy_button.clicked.connect(self.ask_pharmacy_details)
        outer.addWidget(self.pharmacy_button)

        row = QHBoxLayout()
        actions = QGroupBox("Start")
        al = QVBoxLayout(actions)
        self.new_button = QPushButton("&New session (Ctrl+N)")
        self.open_button = QPushButton("&Open case file… (Ctrl+O)")
        self.records_button = QPushButton("&Records (Ctrl+R)")
        self.settings_button = QPushButton("Se&ttings (Ctrl+,)")
        self.users_button = QPushButton("Users — &manage staff…")
        self.users_button.setAccessibleName("Users")
        self.users_button.setVisible(False)  # shown to an administrator once signed in
        start_buttons = (self.new_button, self.open_button, self.records_button,
                         self.settings_button, self.users_button)  # fmt: skip
        for b in start_buttons:
            b.setAutoDefault(True)
            al.addWidget(b)
        al.addStretch(1)
        row.addWidget(actions, 1)

        resume = QGroupBox("Unfinished sessions (saved automatically)")
        rl = QVBoxLayout(resume)
        self.drafts_list = QListWidget()
        self.drafts_list.setAccessibleName("Unfinished sessions")
        self.drafts_list.setAccessibleDescription("Enter resumes the selected session")
        self.drafts_list.itemActivated.connect(lambda _item: self.resume_selected())
        rl.addWidget(self.drafts_list, 1)
        buttons = QHBoxLayout()
        self.resume_button = QPushButton("R&esume selected")
        self.discard_button = QPushButton("&Discard selected…")
        buttons.addWidget(self.resume_button)
        buttons.addWidget(self.discard_button)
        buttons.addStretch(1)
        rl.addLayout(buttons)
        row.addWidget(resume, 2)
        outer.addLayout(row, 1)
        from pharmacist_tool.gui.course_panel import start_row  # the course across visits

        outer.addWidget(start_row(self), 1)
        self.returning.find_button.setText("&Look up")  # Alt+F is the File menu

        counter = QGroupBox("At the counter")
        form = QFormLayout(counter)
        self.login_user = QLineEdit()
        self.login_password = QLineEdit()
        self.login_password.setEchoMode(QLineEdit.EchoMode.Password)
        add_row(form, "&User:", self.login_user, "Your user name")
        add_row(form, "&Password:", self.login_password, "Your password")
        self.login_button = QPushButton("Si&gn in")
        self.login_status = note(
            "Nobody is signed in. A technician may prepare; a pharmacist signs."
        )
        self.login_status.setAccessibleName("Who is at the counter")
        form.addRow(self.login_button)
        form.addRow(self.login_status)
        outer.addWidget(counter)

        self.new_button.clicked.connect(self.new_session)
        self.open_button.clicked.connect(self.open_case_dialog)
        self.records_button.clicked.connect(self.open_records)
        self.settings_button.clicked.connect(self.open_settings)
        self.users_button.clicked.connect(self.open_users)
        self.resume_button.clicked.connect(self.resume_selected)
        self.discard_button.clicked.connect(self.discard_selected)
        self.login_button.clicked.connect(self.sign_in)
        self.login_password.returnPressed.connect(self.sign_in)
        self.login_user.returnPressed.connect(self.login_password.setFocus)
        return page

    def resume_selected(self) -> None:
        item = self.drafts_list.currentItem()
        if item is None:
            return
        self.resume(item.data(Qt.ItemDataRole.UserRole))

    def resume(self, draft_id: str) -> bool:
        try:
            draft = drafts.load_draft(draft_id)
        except Exception as error:  # a damaged draft must not stop the counter
            log.exception("cannot load draft %s", draft_id)
            self.show_error("This unfinished session cannot be opened", str(error))
            return False
        self.save_now()
        self.open_case(
            draft.case,
            typed=draft.meta.typed,
            meta=draft.meta,
        )
        return True

    def discard_selected(self) -> None:
        item = self.drafts_list.currentItem()
        if item is None:
            return
        answer = QMessageBox.question(
            self,
            "Discard the unfinished session?",
            f"Discard {item.text()}? What was typed in it is deleted; nothing is signed.",
            QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        if answer == QMessageBox.StandardButton.Discard:
            drafts.remove_draft(item.data(Qt.ItemDataRole.UserRole))
            self._refresh_start()

    def _refresh_start(self) -> None:
        self.drafts_list.clear()
        found = drafts.list_drafts()
        for meta in found:
            d = drafts.describe(meta)
            step = self.pages[min(max(meta.step, 0), 6)].short
            # Nobody signed in: no patient names on the screen (anyone at the counter sees it).
            who = [d["patient"], d["medicine"]] if self.user is not None else ["Session"]
            parts = [*who, f"step {meta.step + 1} {step}", f"saved {d['updated']}"]
            item = QListWidgetItem(" · ".join(part for part in parts if part))
            item.setData(Qt.ItemDataRole.UserRole, meta.id)
            self.drafts_list.addItem(item)
        if found:
            self.drafts_list.setCurrentRow(0)
            hidden = " Patient names show once someone signs in." if self.user is None else ""
            self.start_note.setText(
                f"{len(found)} unfinished session{'s' * (len(found) != 1)} kept from before: "
                f"select one and press Enter to carry on where you left off.{hidden}"
            )
        else:
            self.start_note.setText("Start a new session, open a case file, or look up records.")
        self.resume_button.setEnabled(bool(found))
        self.discard_button.setEnabled(bool(found))
        if self._painted:
            self.due_list.refresh()

    def sign_in(self) -> None:
        """Check the password in the worker (the window keeps running); then sign in."""
        from pharmacist_tool.gui import signing

        name, password = self.login_user.text().strip(), self.login_password.text()
        if self.password_check.running:
            return
        self.login_password.clear()
        database = self.database
        self.password_check.start(
            lambda: signing.authenticate(name, password, database),
            self._signed_in,
            self._sign_in_failed,
            busy=(self.login_user, self.login_password, self.login_button),
            status=self.login_status,
        )

    def _sign_in_failed(self, error: Exception) -> None:
        from pharmacist_tool.gui import signing

        if isinstance(error, signing.NoUsersError):
            self.login_status.setText("Nobody is signed in: no users are set up yet.")
            self.ask_first_user()
        elif isinstance(error, UserError):
            self.login_status.setText(f"✖ Not signed in: {error}")
        else:  # the database is unreachable: say so, keep working
            log.error("sign-in failed", exc_info=error)
            self.login_status.setText(
                f"✖ Not signed in: the records database cannot be reached ({type(error).__name__})."
            )

    def _signed_in(self, user: AuthenticatedUser) -> None:
        self.user = user
        self.user_name = user.username
        role = user.role
        self.login_status.setText(f"✓ At the counter: {self.user_display()} ({role})")
        self.counter_label.setText(f"At the counter: {self.user_display()} ({role})")
        self.review.user.setText(self.user_name)
        self.unlock_user.setText(self.user_name)
        self._show_admin_tools()
        if not self.returning.isEnabled():
            self.returning.setEnabled(True)
            self.returning.result.setText(LOOK_UP_HINT)
        self.due_list.reveal()
        self.counter_changed.emit(self.user_name)
        if self.stack.currentIndex() == START:
            note = self.start_note.text()
            self._refresh_start()  # the unfinished sessions now show their patients' names
            if note.startswith("✓"):
                self.start_note.setText(note)

    def _show_admin_tools(self) -> None:
        from pharmacist_tool.gui import signing, staff

        try:
            admin = staff.can_administer(signing.database(self.database), self.user)
        except Exception:
            log.exception("checking administrator rights")
            admin = False
        self.users_button.setVisible(admin)

    def sign_out(self) -> None:
        """The person at the counter leaves: record it, save the session and show the start
        screen, where the session waits among the unfinished ones."""
        if self.user is None or self.stack.currentIndex() == LOCKED:
            return
        from pharmacist_tool.gui import signing

        self.save_now()
        signing.logout(self.user, self.database, "logout")
        name = self.user_display()
        self.user = None
        self.user_name = ""
        self.review.user.clear()
        self.unlock_user.clear()
        self.counter_label.setText("Nobody signed in")
        self.users_button.setVisible(False)
        self.close_session()  # the patient's data leaves the screen; the draft is listed
        self.conceal_patients()
        self.login_status.setText(f"{name} signed out. Nobody is signed in.")
        self.counter_changed.emit("")

    def conceal_patients(self) -> None:
        """Nobody signed in: the due list and the returning patient's course leave the screen,
        and the records, Settings and open dialogs with them."""
        self.due_list.conceal()
        self.returning.who.clear()
        self.returning.born.clear()
        if self.returning.course is not None:  # (no records module before the first paint)
            self.returning.look_up()  # nothing typed: the course panel is hidden
        self.returning.result.setText("Sign in to look up a returning patient.")
        self.returning.setEnabled(False)
        for dialog in self.findChildren(QDialog):
            if dialog.isVisible():
                dialog.reject()

    def ask_first_user(self) -> None:
        from pharmacist_tool.gui.dialogs import FirstUserDialog

        dialog = FirstUserDialog(self, self.database)
        dialog.created.connect(self._first_user_created)
        dialog.open()
        self.first_user_dialog = dialog

    def _first_user_created(self, username: str) -> None:
        self.login_user.setText(username)
        self.login_status.setText(
            f"✓ {username} is set up as the pharmacist-in-charge: signs records and manages "
            "staff (Users, Alt+M). Sign in with the new password."
        )
        self.login_password.setFocus()

    def check_users(self) -> None:
        """Say on the start screen when the records database has no users yet."""
        if self.user is not None:
            return
        from pharmacist_tool.gui import signing, staff

        try:
            empty = not staff.has_users(signing.database(self.database))
        except Exception:  # the database is unreachable: sign-in will say so
            log.exception("checking for users")
            return
        if empty:
            self.login_status.setText(
                "No users are set up yet: Sign in sets up the first one, the pharmacist-in-charge."
            )

    def open_users(self) -> None:
        """The Users screen, for administrators (and the pharmacist-in-charge)."""
        if self.stack.currentIndex() == LOCKED:
            return
        from pharmacist_tool.gui import signing, staff

        if self.user is None:
            self.show_error("Users", "Sign in as an administrator first (At the counter).")
            return
        db = signing.database(self.database)
        if not staff.can_administer(db, self.user):
            self.show_error(
                "Users",
                f"Only an administrator manages staff; {self.user.username} is a {self.user.role}.",
            )
            return
        from pharmacist_tool.gui.users_view import UsersDialog

        dialog = UsersDialog(self, db, self.user)
        dialog.open()
        self.users_dialog = dialog
