"""The details a busy counter notices: privacy at rest, titles, the drafts list, step marks,
dialogs that fit a 1280×720 screen, mnemonics that work."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from pharmacist_tool.case import load_case
from tests.conftest import EXAMPLE_FILES
from tests.gui.driver import CTRL, Keyboard, wait_for_password_check

pytestmark = pytest.mark.gui


def example(prefix: str) -> Path:
    return next(p for p in EXAMPLE_FILES if p.name.startswith(prefix))


def test_unfinished_sessions_show_no_names_until_someone_signs_in(
    window: Any, qtbot: Any, users: dict[str, str]
) -> None:
    name = load_case(example("05")).patient.name
    window.open_case_file(example("05"))
    window.on_changed()
    window.show_start()
    listed = window.drafts_list.item(0).text()
    assert name not in listed and name.split()[0] not in listed, listed
    assert listed.startswith("Session · step ")
    assert "· ·" not in listed
    assert "Patient names show once someone signs in" in window.start_note.text()
    window.login_user.setText(users["pharmacist"])
    window.login_password.setText(users["password"])
    window.sign_in()
    wait_for_password_check(qtbot, window)
    assert window.drafts_list.item(0).text().startswith(name)


def test_a_draft_without_a_medicine_is_listed_without_empty_parts(
    window: Any, qtbot: Any, users: dict[str, str]
) -> None:
    window.login_user.setText(users["pharmacist"])
    window.login_password.setText(users["password"])
    window.sign_in()
    wait_for_password_check(qtbot, window)
    kb = Keyboard(qtbot, window)
    kb.press(Qt.Key.Key_N, CTRL)
    kb.type("Maria Gomez")
    kb.settle()
    window.show_start()
    listed = window.drafts_list.item(0).text()
    assert listed.startswith("Maria Gomez · step 1 Patient · saved "), listed


def test_the_title_names_the_screen_once_and_never_the_patient(window: Any, qtbot: Any) -> None:
    assert window.windowTitle().count("Pharmacist tool") == 1
    window.open_case_file(example("01"))
    title = window.windowTitle()
    assert title.endswith("— Pharmacist tool") and title.count("Pharmacist tool") == 1
    assert load_case(example("01")).patient.name.split()[0] not in title


def test_a_finished_step_1_is_done_while_a_later_step_is_not(window: Any, qtbot: Any) -> None:
    kb = Keyboard(qtbot, window)
    window.open_case_file(example("01"))
    kb.settle()
    kb.step(2)
    window.pages[1].days.set_count(None)  # days' supply back to "Not entered"
    kb.settle()
    assert window.assessment is None, "days' supply missing: the checks cannot run"
    assert window.steps.item(0).text().endswith("✓ done"), window.steps.item(0).text()


def test_the_unlock_message_is_not_clipped(window: Any, qtbot: Any, users: dict[str, str]) -> None:
    window.login_user.setText(users["pharmacist"])
    window.login_password.setText(users["password"])
    window.sign_in()
    wait_for_password_check(qtbot, window)
    window.open_case_file(example("01"))
    window.lock()
    window.unlock_user.setText(users["technician"])
    window.unlock_password.setText(users["password"])
    window.unlock()
    wait_for_password_check(qtbot, window)
    label = window.unlock_message
    assert label.text().startswith(f"Only {users['pharmacist']} can unlock")
    needed = label.heightForWidth(label.width())
    assert needed > label.fontMetrics().height(), "the message takes two lines here"
    qtbot.waitUntil(lambda: label.height() >= needed, timeout=2000)  # laid out: all shown
    assert label.width() >= label.fontMetrics().averageCharWidth() * 40


def test_dialogs_fit_the_screen(window: Any, qtbot: Any, users: dict[str, str]) -> None:
    """The offscreen screen is 800×600, smaller still than a 1280×720 counter screen."""
    screen = window.screen().availableGeometry()
    from pharmacist_tool.gui.widgets import fit_to_screen

    dialog = QLabel("probe")
    fit_to_screen(dialog, 5000, 5000)
    assert dialog.width() <= screen.width() and dialog.height() <= screen.height()
    from tests.gui.counter import sign_in

    sign_in(qtbot, window, users["pharmacist"])
    window.open_records()
    records = window.records_dialog
    qtbot.waitUntil(records.isVisible)
    assert records.height() <= screen.height() and records.width() <= screen.width()
    records.reject()
    window.open_case_file(example("01"))
    qtbot.waitUntil(lambda: window.assessment is not None, timeout=10_000)
    window.preview_handout()
    preview = window.handout_dialog
    qtbot.waitUntil(preview.isVisible)
    assert preview.height() <= screen.height() and preview.width() <= screen.width()
    qtbot.waitUntil(lambda: preview.handout is not None, timeout=30_000)
    preview.reject()


def test_the_export_dialog_labels_show_no_ampersand(qtbot: Any, users: dict[str, str]) -> None:
    from pharmacist_tool.app.records import RecordFilter, RecordsDesk
    from pharmacist_tool.gui.records_view import ExportDialog
    from pharmacist_tool.records.db import open_database

    with open_database() as db:
        dialog = ExportDialog(RecordsDesk(db, "ana"), RecordFilter(), None)
        qtbot.addWidget(dialog)
        labels = dialog.findChildren(QLabel)
        literal = [w.text() for w in labels if "&" in w.text() and w.buddy() is None]
        assert not literal, literal
        assert "F&ile:" in [w.text() for w in labels]
        dialog.close()
