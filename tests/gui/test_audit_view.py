"""The Audit trail in the window: an administrator opens it from the Users screen, types their
password, and reads every event with whether its signature verifies, filtered by day and user;
nobody else sees it. The real window, the real records (SQLite), driven by pytest-qt."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from PySide6.QtCore import Qt

from tests.gui.conftest import PASSWORD
from tests.gui.driver import ALT, Keyboard, wait_for_password_check

pytestmark = pytest.mark.gui


def _sign_in(kb: Keyboard, name: str) -> None:
    window = kb.window
    window.login_user.setFocus()
    kb.type(name)
    kb.press(Qt.Key.Key_Return)
    kb.type(PASSWORD)
    kb.press(Qt.Key.Key_Return)
    wait_for_password_check(kb.qtbot, window)


def _rows(dialog: Any) -> list[list[str]]:
    table = dialog.table
    return [
        [table.item(r, c).text() for c in range(table.columnCount())]
        for r in range(table.rowCount())
    ]


def _show(qtbot: Any, dialog: Any, *, since: str = "", user: str | None = None) -> str:
    dialog.since.setText(since)
    dialog.user.setCurrentIndex(dialog.user.findData(user))
    dialog.own_password.setText(PASSWORD)
    dialog.show_button.click()
    wait_for_password_check(qtbot, dialog)
    return str(dialog.message.text())


def _open_trail(qtbot: Any, window: Any) -> Any:
    kb = Keyboard(qtbot, window)
    _sign_in(kb, "admin")
    window.open_users()
    users_dialog = window.users_dialog
    qtbot.waitUntil(users_dialog.isVisible)
    assert users_dialog.audit_button.isVisible()
    users_dialog.activateWindow()
    qtbot.waitUntil(users_dialog.isActiveWindow, timeout=2000)
    with qtbot.waitSignal(users_dialog.audit_button.clicked):  # View the audit trail…
        qtbot.keyClick(users_dialog.own_password, Qt.Key.Key_V, ALT)
    dialog = users_dialog.audit_dialog
    qtbot.waitUntil(dialog.isVisible)
    return dialog


def test_an_administrator_reads_every_event_filtered_by_day_and_user(
    window: Any, qtbot: Any, users: dict[str, str]
) -> None:
    dialog = _open_trail(qtbot, window)
    assert dialog.table.rowCount() == 0, "nothing is shown before the password"
    message = _show(qtbot, dialog)
    assert message.startswith("✓") and "every signature and link verifies" in message, message
    rows = _rows(dialog)
    actions = [row[1] for row in rows]
    assert actions.count("user-added") == 3 and "login" in actions
    added = next(row for row in rows if row[1] == "user-added" and row[3] == "user tmoss")
    assert added[2] == "admin" and "role=technician" in added[4]
    assert added[5] == "verifies"
    assert rows[-1][1:3] == ["audit-read", "admin"]  # the reading itself, audited first
    assert {row[5] for row in rows} <= {"verifies", "unsigned"}

    _show(qtbot, dialog, user="tmoss")
    assert {row[3] for row in _rows(dialog)} == {"user tmoss"}
    tomorrow = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)).isoformat()
    assert _show(qtbot, dialog, since=tomorrow).startswith("✓ 0 events")
    assert _rows(dialog) == []
    message = _show(qtbot, dialog, since="last week")
    assert message.startswith("✖ Not shown: Since: 'last week' is not a date"), message

    dialog.since.clear()
    dialog.own_password.setText("not my password")
    dialog.show_button.click()
    wait_for_password_check(qtbot, dialog)
    assert dialog.message.text().startswith("✖ Not shown: Wrong user name or password")


def test_a_forged_role_change_shows_as_not_verifying(
    window: Any, qtbot: Any, users: dict[str, str]
) -> None:
    """A chained "technician → pharmacist" event in the administrator's name, appended with
    the tool's own chain code and a key that is not the administrator's."""
    from pharmacist_tool.gui import signing as window_signing
    from pharmacist_tool.records import chain, signing
    from pharmacist_tool.records import users as records_users
    from pharmacist_tool.records.models import User

    db = window_signing.database(None)
    with db.session(write=True) as session, chain.appending(session) as head:
        tech = session.query(User).filter_by(username="tmoss").one()
        admin = session.query(User).filter_by(username="admin").one()
        tech.role = "pharmacist"
        records_users._state_event(
            session, head, "role-changed", tech, actor=admin, at=records_users.utcnow(),
            key=signing.new_key(),
        )  # fmt: skip
    dialog = _open_trail(qtbot, window)
    message = _show(qtbot, dialog)
    assert "the records do NOT verify" in message, message
    (forged,) = [row for row in _rows(dialog) if row[1] == "role-changed"]
    assert forged[2:4] == ["admin", "user tmoss"]
    assert forged[5] == "✖ does not verify"
    row = [row[1] for row in _rows(dialog)].index("role-changed")
    assert "its signature is not 'admin''s" in dialog.table.item(row, 5).toolTip()


def test_nobody_but_an_administrator_sees_it(
    window: Any, qtbot: Any, users: dict[str, str]
) -> None:
    from pharmacist_tool.gui import authority
    from pharmacist_tool.gui import signing as window_signing
    from pharmacist_tool.gui.audit_view import AuditTrailDialog
    from pharmacist_tool.records.users import authenticate

    db = window_signing.database(None)
    kb = Keyboard(qtbot, window)
    _sign_in(kb, users["pharmacist"])
    assert not window.users_button.isVisible()
    assert authority.check(db, users["pharmacist"], authority.Right.AUDIT) == (
        "Only an administrator may read the audit trail; klee is a pharmacist."
    )
    klee = authenticate(db, users["pharmacist"], PASSWORD)
    dialog = AuditTrailDialog(None, db, klee)  # even if it were opened for them
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.show_button.isEnabled()
    assert dialog.message.text().startswith("✖ Only an administrator may read the audit trail")
    assert dialog.show_trail() is False and dialog.table.rowCount() == 0
