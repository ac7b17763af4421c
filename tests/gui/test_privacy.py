"""Privacy and authority at the window: nothing about a patient before sign-in or after
sign-out; the records, exports, backup, restore and Settings only for the right person; every
settings change audited to who made it. Driven through the real window (pytest-qt)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from tests.gui.counter import sign_in, sign_out
from tests.gui.driver import CTRL, Keyboard
from tests.gui.test_course_window import _sign_first_visit

pytestmark = pytest.mark.gui

PATIENT = "Luis Ortega"
PROGRAMME_ID = "IP-56"


def _screen_text(window: Any) -> str:
    """Every word the start screen shows (labels, lists, fields, buttons)."""
    from PySide6.QtWidgets import QAbstractButton, QLabel, QLineEdit, QListWidget

    words = [window.windowTitle()]
    for label in window.start.findChildren(QLabel):
        if label.isVisibleTo(window):
            words.append(label.text())
    for edit in window.start.findChildren(QLineEdit):
        if edit.isVisibleTo(window) and edit.echoMode() == QLineEdit.EchoMode.Normal:
            words.append(edit.text())
    for items in window.start.findChildren(QListWidget):
        words.extend(items.item(i).text() for i in range(items.count()))
    for button in window.start.findChildren(QAbstractButton):
        words.append(button.text())
    return "\n".join(words)


def _refused(qtbot: Any, window: Any) -> str:
    qtbot.waitUntil(lambda: getattr(window, "message_box", None) is not None)
    box = window.message_box
    qtbot.waitUntil(box.isVisible)
    text = str(box.text())
    box.done(0)
    window.message_box = None
    return text


def _due_patient(users: dict[str, str]) -> None:
    _sign_first_visit(users["pharmacist"], users["password"], 29, PROGRAMME_ID, PATIENT)


def test_no_patient_on_the_start_screen_before_sign_in_or_aftersign_out(
    window: Any, qtbot: Any, users: dict[str, str]
) -> None:
    _due_patient(users)
    window.due_list.refresh()  # the start-up refresh, again, now that the patient is due
    shown = _screen_text(window)
    for secret in (PATIENT, "Ortega", PROGRAMME_ID, "born"):
        assert secret not in shown, secret
    assert window.due_list.items.count() == 0
    assert "Sign in" in window.due_list.status.text()
    assert not window.returning.isEnabled(), "no look-up of a patient's course"

    sign_in(qtbot, window, users["pharmacist"])
    listed = [window.due_list.items.item(i).text() for i in range(window.due_list.items.count())]
    assert any(PATIENT in row and PROGRAMME_ID in row for row in listed), listed
    window.due_list.items.itemActivated.emit(window.due_list.items.item(0))
    assert PATIENT in window.returning.result.text()

    sign_out(qtbot, window)
    shown = _screen_text(window)
    for secret in (PATIENT, "Ortega", PROGRAMME_ID):
        assert secret not in shown, secret
    assert window.due_list.items.count() == 0
    assert not window.returning.panel.isVisibleTo(window)


def test_records_and_settings_are_refused_to_nobody(
    window: Any, qtbot: Any, users: dict[str, str]
) -> None:
    _due_patient(users)
    kb = Keyboard(qtbot, window)
    kb.press(Qt.Key.Key_R, CTRL)
    assert "Sign in first" in _refused(qtbot, window)
    assert getattr(window, "records_dialog", None) is None
    kb.press(Qt.Key.Key_Comma, CTRL)
    assert "Sign in first" in _refused(qtbot, window)
    assert getattr(window, "settings_dialog", None) is None


def test_a_technician_reads_records_but_neither_exports_nor_changes_settings(
    window: Any, qtbot: Any, users: dict[str, str]
) -> None:
    _due_patient(users)
    sign_in(qtbot, window, users["technician"])
    window.open_records()
    dialog = window.records_dialog
    qtbot.waitUntil(dialog.isVisible)
    from pharmacist_tool.gui.records_view import RecordsView

    view = dialog.findChild(RecordsView)
    assert view.model.rowCount() == 1
    assert view.open_button.isEnabled()
    for button in (view.export_button, view.backup_button, view.restore_button):
        assert not button.isEnabled()
        assert "tmoss is a technician" in button.toolTip()
    assert view.export() is None and "Only a pharmacist or an administrator" in view.status.text()
    record = view.open_record(view.model.record_id(0))
    assert record is not None and PATIENT not in record.windowTitle()
    record.reject()
    dialog.reject()
    window.open_settings()
    assert "Only an administrator may change the settings" in _refused(qtbot, window)

    sign_out(qtbot, window)
    assert not dialog.isVisible()


def test_settings_list_every_pack_and_each_change_is_audited_to_the_administrator(
    window: Any, qtbot: Any, users: dict[str, str]
) -> None:
    from pharmacist_tool.knowledge import packs
    from pharmacist_tool.records.db import open_database
    from pharmacist_tool.records.reading import list_events
    from pharmacist_tool.records.service import verify
    from pharmacist_tool.settings import load_settings

    sign_in(qtbot, window, "admin")
    window.open_settings()
    dialog = window.settings_dialog
    qtbot.waitUntil(dialog.isVisible)
    listed = {dialog.dates.item(r, 0).text() for r in range(dialog.dates.rowCount())}
    assert listed == set(packs.names()), "every pack's rule-set versions, not the session's"
    for pack in packs.names():
        versions = {v.id for rs in packs.load(pack).rule_sets for v in rs.versions}
        shown = {
            dialog.dates.item(r, 1).text()
            for r in range(dialog.dates.rowCount())
            if dialog.dates.item(r, 0).text() == pack
        }
        assert shown == versions, pack
    dialog.idle.setValue(9)
    dialog.dates.item(0, 3).setText("2027-01-31")
    pack, version = dialog.dates.item(0, 0).text(), dialog.dates.item(0, 1).text()
    with qtbot.waitSignal(dialog.accepted_settings):
        dialog.save()
    saved = load_settings()
    assert saved.idle_lock_minutes == 9
    assert str(saved.rule_effective_dates[f"{pack}/{version}"]) == "2027-01-31"

    with open_database() as db:
        events = [e for e in list_events(db) if e.action == "settings-changed"]
        assert len(events) == 1
        event = events[0]
        assert event.username == "admin"
        changed = event.detail["changed"]
        assert changed["idle_lock_minutes"] == {"from": "5", "to": "9"}
        assert changed[f"rule_effective_dates.{pack}/{version}"] == {
            "from": "",
            "to": "2027-01-31",
        }
        assert verify(db).intact, "the event is chained like every other"


def test_backup_and_restore_from_the_records_view(
    window: Any, qtbot: Any, users: dict[str, str], tmp_path: Path
) -> None:
    """The buttons, the file dialog and the question, as an administrator clicks them."""
    from pharmacist_tool.gui.records_view import RecordsView
    from pharmacist_tool.records.db import open_database
    from pharmacist_tool.records.reading import list_events

    first = _sign_first_visit(users["pharmacist"], users["password"], 29, "IP-1", "Ana Ruiz")
    sign_in(qtbot, window, "admin")
    window.open_records()
    dialog = window.records_dialog
    qtbot.waitUntil(dialog.isVisible)
    view = dialog.findChild(RecordsView)
    assert view.model.rowCount() == 1

    target = tmp_path / "backup.sqlite3"
    qtbot.mouseClick(view.backup_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: getattr(view, "file_dialog", None) is not None)
    chooser = view.file_dialog
    qtbot.waitUntil(chooser.isVisible)
    with qtbot.waitSignal(view.backed_up, timeout=30_000) as backed_up:
        chooser.selectFile(str(target))
        chooser.accept()
    assert Path(backed_up.args[0]) == target
    with sqlite3.connect(target) as copy:  # the file read back: the record is in it
        assert copy.execute("select id from records").fetchall() == [(first,)]
    assert "Backed up 1 records" in view.status.text()

    view.file_dialog = None
    qtbot.mouseClick(view.restore_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: getattr(view, "file_dialog", None) is not None)
    chooser = view.file_dialog
    qtbot.waitUntil(chooser.isVisible)
    chooser.selectFile(str(target))
    chooser.accept()
    question = view.restore_question
    qtbot.waitUntil(question.isVisible)
    question.button(QMessageBox.StandardButton.Yes).click()
    asked = view.restore_password  # a restore is an administrator's: the password again
    qtbot.waitUntil(asked.isVisible)
    with qtbot.waitSignal(view.restored, timeout=30_000) as restored:
        asked.setTextValue(users["password"])
        asked.accept()
    assert restored.args == [1], view.status.text()
    assert view.model.rowCount() == 1 and view.model.record_id(0) == first
    assert "the previous database is kept at" in view.status.text()
    with open_database() as db:
        actions = [(e.action, e.username) for e in list_events(db)]
    assert ("restore", "admin") in actions


def test_restore_is_refused_to_a_pharmacist_without_administrator_rights(
    window: Any, qtbot: Any, users: dict[str, str]
) -> None:
    _due_patient(users)
    sign_in(qtbot, window, users["pharmacist"])
    window.open_records()
    dialog = window.records_dialog
    qtbot.waitUntil(dialog.isVisible)
    from pharmacist_tool.gui.records_view import RecordsView

    view = dialog.findChild(RecordsView)
    assert view.backup_button.isEnabled() and view.export_button.isEnabled()
    assert not view.restore_button.isEnabled()
    assert view.restore("/nonexistent", confirm=False) is False
    assert "Only an administrator may restore" in view.status.text()


def test_an_export_is_audited_to_the_signed_in_user(
    window: Any, qtbot: Any, users: dict[str, str], tmp_path: Path
) -> None:
    from pharmacist_tool.gui.records_view import RecordsView
    from pharmacist_tool.records.db import open_database
    from pharmacist_tool.records.reading import list_events

    _due_patient(users)
    sign_in(qtbot, window, users["pharmacist"])
    window.open_records()
    view = window.records_dialog.findChild(RecordsView)
    export = view.export()
    assert export is not None
    export.path.setText(str(tmp_path / "out.csv"))
    with qtbot.waitSignal(view.exported, timeout=30_000):
        export.start()
        qtbot.waitUntil(lambda: export.export_result is not None, timeout=30_000)
        export.accept()
    with open_database() as db:
        exports = [e for e in list_events(db) if e.action == "export"]
    assert [e.username for e in exports] == [users["pharmacist"]]


def test_a_records_view_with_nobody_signed_in_lists_nothing(qtbot: Any, users: Any) -> None:
    from pharmacist_tool.gui.records_view import RecordsView
    from pharmacist_tool.records.db import open_database

    _due_patient(users)
    with open_database() as db:
        view = RecordsView(db, user=None)
        qtbot.addWidget(view)
        assert view.model.rowCount() == 0
        assert "Sign in first" in view.status.text()
        assert view.open_record(1) is None
        assert view.backup("/tmp/never.sqlite3") is False
