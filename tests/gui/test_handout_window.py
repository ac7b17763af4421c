"""The window and the handout: the first run asks for the pharmacy, teach-back in the checklist,
the preview is the same sheet as the command line (a blocked session: not handed over today)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import EXAMPLE_FILES

pytestmark = pytest.mark.gui


def example(prefix: str) -> Path:
    return next(p for p in EXAMPLE_FILES if p.name.startswith(prefix))


def test_first_run_asks_for_the_pharmacy_name_and_phone(
    window: Any, qtbot: Any, users: dict[str, str]
) -> None:
    from pharmacist_tool.settings import handout_details_missing, load_settings
    from tests.gui.counter import sign_in

    assert window.pharmacy_button.isVisible()
    sign_in(qtbot, window, "admin")  # the pharmacy's details are settings: an administrator's
    window.pharmacy_button.click()
    dialog = window.pharmacy_dialog
    qtbot.waitUntil(dialog.isVisible)
    dialog.name.setText("Corner Pharmacy")
    dialog.save()
    assert dialog.isVisible() and "phone" in dialog.message.text()  # both are needed
    dialog.phone.setText("555-0100")
    dialog.save()
    assert not dialog.isVisible()
    saved = load_settings()
    assert (saved.pharmacy_name, saved.pharmacy_phone) == ("Corner Pharmacy", "555-0100")
    assert handout_details_missing(window.settings) == ()
    assert not window.pharmacy_button.isVisible()


def test_teach_back_questions_are_checklist_items_the_window_records(
    window: Any, qtbot: Any
) -> None:
    window.open_case_file(example("01"))
    qtbot.waitUntil(lambda: window.assessment is not None)
    page = window.pages[4]
    teach = [i for i in page.ids if i.startswith("teach-back")]
    assert len(teach) == 3
    page.boxes[teach[0]].setChecked(True)  # answered
    qtbot.waitUntil(lambda: window.case.checklist.get(teach[0]) is True)
    entry = next(e for e in window.assessment.checklist if e.id == teach[0])
    qtbot.waitUntil(lambda: next(e for e in window.assessment.checklist if e.id == teach[0]).done)
    assert entry.title.startswith("Teach-back")


def test_the_preview_renders_the_same_sheet_as_the_command_line(window: Any, qtbot: Any) -> None:
    import io

    import pypdf

    window.open_case_file(example("04"))  # the pick-up window has closed
    qtbot.waitUntil(lambda: window.assessment is not None)
    assert window.assessment.dispense == "do-not-dispense"
    window.preview_handout()
    dialog = window.handout_dialog
    qtbot.waitUntil(lambda: dialog.handout is not None, timeout=20_000)
    assert dialog.handout.blocked
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(dialog.handout.pdf)).pages)
    assert "was not handed over today" in " ".join(text.split())
    dialog.reject()
