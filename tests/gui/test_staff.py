"""Staff in the window: the first run sets up the pharmacist-in-charge, who signs and adds staff."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from pharmacist_tool.case import load_case
from pharmacist_tool.errors import UserError
from tests.conftest import EXAMPLE_FILES
from tests.gui.driver import (
    ALT,
    CTRL,
    Keyboard,
    choose_outcome,
    confirm_checklist,
    fill_case,
    resolve_findings,
    sign,
    wait_for_password_check,
)

pytestmark = pytest.mark.gui

PASSWORD = "copper kettle autumn road"


def _records() -> list[Any]:
    from pharmacist_tool.records.db import open_database
    from pharmacist_tool.records.reading import fetch_page

    with open_database() as db:
        return fetch_page(db)


def _activate(qtbot: Any, dialog: Any) -> None:
    """A desktop activates a dialog that opens; the offscreen platform needs telling."""
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog, timeout=2000)


def _sign_in(kb: Keyboard, name: str, password: str) -> None:
    window = kb.window
    window.login_user.setFocus()
    kb.type(name)
    kb.press(Qt.Key.Key_Return)
    assert kb.focus is window.login_password
    kb.type(password)
    kb.press(Qt.Key.Key_Return)
    wait_for_password_check(kb.qtbot, window)


def test_first_run_from_an_empty_database_to_a_signed_record(window: Any, qtbot: Any) -> None:
    kb = Keyboard(qtbot, window)
    qtbot.waitUntil(lambda: "No users are set up yet" in window.login_status.text())
    _sign_in(kb, "rosei", "anything")
    dialog = window.first_user_dialog
    qtbot.waitUntil(dialog.isVisible)
    assert "pharmacist-in-charge" in dialog.windowTitle()
    _activate(qtbot, dialog)
    assert QApplication.focusWidget() is dialog.username
    kb.type("rosei")
    kb.tab()
    kb.type("R. Osei, PharmD")
    kb.tab()
    kb.type(PASSWORD)
    kb.tab()
    kb.type(PASSWORD)
    kb.press(Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert "rosei is set up as the pharmacist-in-charge" in window.login_status.text()
    kb.reactivate()
    assert kb.focus is window.login_password
    kb.type(PASSWORD)
    kb.press(Qt.Key.Key_Return)
    wait_for_password_check(qtbot, window)
    assert "R. Osei, PharmD (pharmacist)" in window.login_status.text()
    assert window.users_button.isVisible(), "the pharmacist-in-charge manages staff"

    case = load_case(next(p for p in EXAMPLE_FILES if p.name.startswith("01")))
    case.alcohol = "none"
    kb.press(Qt.Key.Key_N, CTRL)
    fill_case(kb, case)
    resolve_findings(kb)
    confirm_checklist(kb)
    choose_outcome(kb, "handed-over")
    assert window.missing() == [], window.missing()
    with qtbot.waitSignal(window.signed, timeout=30_000):
        sign(kb, "rosei", PASSWORD)
    [record] = _records()
    assert record.patient_name == case.patient.name


def test_an_administrator_adds_a_technician_in_the_window(window: Any, qtbot: Any) -> None:
    from pharmacist_tool.gui import signing, staff
    from pharmacist_tool.records.reading import list_events

    db = signing.database(None)
    staff.create_pharmacist_in_charge(db, "rosei", PASSWORD, full_name="R. Osei")
    kb = Keyboard(qtbot, window)
    _sign_in(kb, "rosei", PASSWORD)
    with qtbot.waitSignal(window.users_button.clicked):  # a button's Alt+letter clicks it
        kb.press(Qt.Key.Key_M, ALT)  # Users — manage staff… (after a short animation)
    dialog = window.users_dialog
    qtbot.waitUntil(dialog.isVisible)
    _activate(qtbot, dialog)
    assert [dialog.table.item(r, 0).text() for r in range(dialog.table.rowCount())] == ["rosei"]
    dialog.username.setFocus()
    kb.type("tmoss")
    kb.tab()
    kb.type("T. Moss")
    kb.tab()
    kb.choose(staff.ROLE_WORDS["technician"])
    kb.tab()
    kb.type("second kettle morning")
    kb.tab()
    kb.type("second kettle morning")
    dialog.own_password.setFocus()
    kb.type("not my password")
    dialog.add_user()
    wait_for_password_check(qtbot, dialog)
    assert dialog.message.text().startswith("✖ Not done: Wrong user name or password")
    assert staff.list_staff(db)[-1].username == "rosei", "nothing added"
    dialog.own_password.setFocus()
    kb.type(PASSWORD)
    dialog.add_button.click()
    wait_for_password_check(qtbot, dialog)
    assert dialog.message.text() == "✓ tmoss added as technician.", dialog.message.text()
    rows = {
        dialog.table.item(r, 0).text(): dialog.table.item(r, 2).text()
        for r in range(dialog.table.rowCount())
    }
    assert rows == {"rosei": "pharmacist + administrator", "tmoss": "technician"}
    assert dialog.selected().username == "tmoss"
    added = [e for e in list_events(db, action="user-added") if e.detail.get("new_user") == "tmoss"]
    assert added and added[0].username == "rosei"
    dialog.reject()

    kb.press(Qt.Key.Key_Q, CTRL | Qt.KeyboardModifier.ShiftModifier)  # sign out
    _sign_in(kb, "tmoss", "second kettle morning")
    assert "T. Moss (technician)" in window.login_status.text()
    assert not window.users_button.isVisible()
    window.act_users.trigger()  # File ▸ Users…
    assert "Only an administrator" in window.message_box.text()


def test_an_administrator_changes_resets_unlocks_and_deactivates(
    window: Any, qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtWidgets import QMessageBox

    from pharmacist_tool.gui import signing, staff
    from pharmacist_tool.records.users import authenticate

    db = signing.database(None)
    staff.create_pharmacist_in_charge(db, "rosei", PASSWORD, full_name="R. Osei")
    rosei = authenticate(db, "rosei", PASSWORD, purpose="admin")
    staff.add(db, rosei, "tmoss", "technician", "second kettle morning", full_name="T. Moss")
    for _ in range(5):  # five wrong passwords lock the account
        with pytest.raises(UserError):
            authenticate(db, "tmoss", "wrong guess again")
    kb = Keyboard(qtbot, window)
    _sign_in(kb, "rosei", PASSWORD)
    window.open_users()
    dialog = window.users_dialog
    dialog.table.selectRow(1)
    assert dialog.selected().username == "tmoss"
    assert dialog.table.item(1, 3).text().startswith("locked until")

    def as_admin(action: Any) -> str:
        dialog.own_password.setText(PASSWORD)
        action()
        wait_for_password_check(qtbot, dialog)
        return str(dialog.message.text())

    assert as_admin(dialog.unlock) == "✓ tmoss is unlocked."
    assert dialog.table.item(1, 3).text() == "active"
    dialog.role.setCurrentIndex(dialog.role.findData("pharmacist"))
    assert as_admin(dialog.change_role) == "✓ tmoss is now pharmacist."
    dialog.new_password.setText("fresh paint window")
    dialog.new_repeat.setText("fresh paint window")
    assert as_admin(dialog.reset_password).startswith("✓ tmoss's password was reset")
    assert authenticate(db, "tmoss", "fresh paint window").role == "pharmacist"
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    assert as_admin(dialog.deactivate) == "✓ tmoss is deactivated."
    assert dialog.table.item(1, 3).text() == "deactivated"
    # The last administrator cannot be removed by mistake: the records refuse and say why.
    dialog.table.selectRow(0)
    message = as_admin(dialog.deactivate)
    assert message.startswith("✖ Not done:") and "administrator" in message, message


def test_the_users_screen_names_a_shared_printed_name_and_renames(
    qtbot: Any, tmp_path: Any
) -> None:
    from pharmacist_tool.gui.users_view import UsersDialog
    from pharmacist_tool.records import users
    from pharmacist_tool.records.db import open_database
    from tests.records.helpers import PASSWORD as OLD_PASSWORD
    from tests.records.test_shared_printed_name import _database_before_the_rule

    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    _database_before_the_rule(url, tmp_path)
    with open_database(url) as db:
        admin = users.authenticate(db, "rosei", OLD_PASSWORD, purpose="admin")
        dialog = UsersDialog(None, db, admin)
        qtbot.addWidget(dialog)
        dialog.show()
        assert dialog.clashes.isVisible()
        assert "rosei and rosei2 are active and sign as 'Rita Osei'" in dialog.clashes.text()
        dialog.table.selectRow(1)
        assert dialog.selected().username == "rosei2"
        assert dialog.printed_name.text() == "rita  OSEI"
        dialog.printed_name.setText("Rita Osei (locum)")
        dialog.own_password.setText(OLD_PASSWORD)
        dialog.rename_button.click()
        wait_for_password_check(qtbot, dialog)
        assert dialog.message.text() == "✓ rosei2 now signs as Rita Osei (locum).", (
            dialog.message.text()
        )
        assert not dialog.clashes.isVisible()
        assert dialog.table.item(1, 1).text() == "Rita Osei (locum)"
        dialog.reject()
