"""Password checks run in a worker thread: the window keeps running meanwhile (its timers
fire, it repaints), the form says "Checking…" with its fields disabled, Enter pressed twice
checks once, and the result is applied on the window's thread."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from PySide6.QtCore import Qt, QTimer

from tests.conftest import EXAMPLE_FILES
from tests.gui.driver import (
    Keyboard,
    answer_alcohol,
    choose_outcome,
    confirm_checklist,
    resolve_findings,
    wait_for_password_check,
)

pytestmark = pytest.mark.gui


class Ticks:
    """Counts a 10 ms timer's shots: they only fire while the window's event loop runs."""

    def __init__(self) -> None:
        self.count = 0
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self) -> None:
        self.count += 1


def _threads_of_checks(monkeypatch: pytest.MonkeyPatch) -> list[threading.Thread]:
    """Which thread each password check ran in (the real argon2 check still runs)."""
    from pharmacist_tool.records import users

    seen: list[threading.Thread] = []
    real = users._password_matches

    def recording(*args: Any, **kwargs: Any) -> Any:
        seen.append(threading.current_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(users, "_password_matches", recording)
    return seen


def test_sign_in_checks_in_a_worker_while_the_window_runs(
    window: Any, qtbot: Any, users: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from pharmacist_tool.records.db import open_database
    from pharmacist_tool.records.reading import list_events

    threads = _threads_of_checks(monkeypatch)
    kb = Keyboard(qtbot, window)
    window.login_user.setText(users["pharmacist"])
    window.login_password.setFocus()
    kb.type(users["password"])
    ticks = Ticks()
    started = time.monotonic()
    kb.press(Qt.Key.Key_Return)
    assert time.monotonic() - started < 0.2, "Enter returns at once; the check runs behind"
    assert window.password_check.running
    assert window.login_status.text().startswith("○ Checking")
    assert not window.login_password.isEnabled() and not window.login_button.isEnabled()
    window.sign_in()  # Enter again (or a click) while checking: one check, not two
    before = ticks.count
    wait_for_password_check(qtbot, window)
    assert ticks.count - before >= 3, "the event loop kept running during the check"
    assert "K. Lee" in window.login_status.text()
    assert window.user is not None and window.user.username == users["pharmacist"]
    assert window.login_password.isEnabled() and window.login_button.isEnabled()
    assert len(threads) == 1 and threads[0] is not threading.main_thread()
    with open_database() as db:
        logins = [e for e in list_events(db, action="login") if e.username == users["pharmacist"]]
    assert len(logins) == 1, "one sign-in recorded"


def test_a_wrong_password_is_said_after_the_check(
    window: Any, qtbot: Any, users: dict[str, str]
) -> None:
    window.login_user.setText(users["pharmacist"])
    window.login_password.setText("not the password")
    window.sign_in()
    assert window.login_password.text() == "", "the password leaves the field at once"
    wait_for_password_check(qtbot, window)
    assert window.login_status.text().startswith("✖ Not signed in: Wrong user name or password")
    assert window.user is None


def test_unlock_checks_in_a_worker(window: Any, qtbot: Any, users: dict[str, str]) -> None:
    window.login_user.setText(users["pharmacist"])
    window.login_password.setText(users["password"])
    window.sign_in()
    wait_for_password_check(qtbot, window)
    window.lock()
    window.unlock_password.setText(users["password"])
    ticks = Ticks()
    window.unlock()
    assert window.unlock_message.text().startswith("○ Checking")
    assert window.stack.currentIndex() == 2, "still locked until the password is checked"
    wait_for_password_check(qtbot, window)
    assert ticks.count >= 3
    assert window.stack.currentIndex() == 0 and window.menuBar().isEnabled()


def test_signing_checks_in_a_worker_and_signs_once(
    window: Any, qtbot: Any, users: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.gui.test_sessions import stored_records

    window.open_case_file(next(p for p in EXAMPLE_FILES if p.name.startswith("01")))
    kb = Keyboard(qtbot, window)
    kb.settle()
    answer_alcohol(kb)
    resolve_findings(kb)
    confirm_checklist(kb)
    choose_outcome(kb, "handed-over")
    assert window.missing() == [], window.missing()
    threads = _threads_of_checks(monkeypatch)
    review = window.review
    review.user.setText(users["pharmacist"])
    review.password.setText(users["password"])
    ticks = Ticks()
    with qtbot.waitSignal(window.signed, timeout=30_000):
        window.sign()
        assert review.sign_message.text().startswith("○ Checking the password and signing")
        assert not window.session.isEnabled() and not window.menuBar().isEnabled()
        window.sign()  # Enter again: nothing more
    assert ticks.count >= 3, "the event loop kept running while signing"
    assert threads and all(t is not threading.main_thread() for t in threads)
    assert len(stored_records()) == 1, "signed once"
    assert window.stack.currentIndex() == 0 and window.session.isEnabled()
    assert "✓ Signed: record" in window.start_note.text()


def test_a_staff_change_is_checked_in_a_worker_and_made_once(window: Any, qtbot: Any) -> None:
    from pharmacist_tool.gui import signing, staff
    from pharmacist_tool.gui.users_view import UsersDialog
    from pharmacist_tool.records.users import authenticate

    password = "blue kettle morning walk"
    db = signing.database(None)
    staff.create_pharmacist_in_charge(db, "rosei", password, full_name="R. Osei")
    admin = authenticate(db, "rosei", password, purpose="admin")
    dialog = UsersDialog(window, db, admin)
    qtbot.addWidget(dialog)
    dialog.username.setText("tmoss")
    dialog.new_role.setCurrentIndex(dialog.new_role.findData("pharmacist"))  # no default
    dialog.password.setText("second kettle morning")
    dialog.repeat.setText("second kettle morning")
    dialog.own_password.setText(password)
    ticks = Ticks()
    dialog.add_user()
    assert dialog.message.text().startswith("○ Checking")
    assert not dialog.add_button.isEnabled() and dialog.close_button.isEnabled()
    dialog.own_password.setText(password)
    dialog.add_user()  # clicked again while checking: not added twice
    wait_for_password_check(qtbot, dialog)
    assert ticks.count >= 3
    assert dialog.message.text() == "✓ tmoss added as pharmacist.", dialog.message.text()
    assert [u.username for u in staff.list_staff(db)].count("tmoss") == 1
    assert dialog.add_button.isEnabled() and dialog.username.text() == ""
