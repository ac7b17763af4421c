"""A new session in the window: nothing entered is ``null`` in the draft on disk, the checks wait
for the complete case, and a draft reopened shows empty fields, never a stand-in value."""

from __future__ import annotations

import json
from typing import Any

import pytest
from PySide6.QtCore import Qt

from pharmacist_tool.counselling import drafts
from tests.gui.driver import CTRL, Keyboard

pytestmark = pytest.mark.gui


def test_a_new_session_keeps_null_until_entered(window: Any, qtbot: Any) -> None:
    kb = Keyboard(qtbot, window)
    kb.press(Qt.Key.Key_N, CTRL)
    kb.type("Maria Gomez")
    kb.tab()
    kb.type("2001-05-")  # half a date: kept as typed, not entered
    kb.settle()
    window.save_now()
    assert window.assessment is None and window.current.checked is None
    saved = json.loads(drafts.draft_path(window.meta.id).read_text(encoding="utf-8"))
    patient, rx = saved["patient"], saved["prescription"]
    assert patient["name"] == "Maria Gomez"
    assert patient["date_of_birth"] is None and patient["weight_kg"] is None
    assert patient["can_get_pregnant"] is None
    assert rx["strength_mg"] is None and rx["days_supply"] is None and rx["prescribed_on"] is None
    assert saved["draft"]["typed"]["patient.date_of_birth"] == "2001-05-"
    assert "Pick-up deadline: complete step 1" in window.banner_deadline.text()
    assert "kg" not in window.banner_patient.text()
    draft_id = window.meta.id
    window.show_start()
    assert window.resume(draft_id)
    page = window.pages[0]
    assert page.dob.text() == "2001-05-" and page.weight.text() == ""
    assert page.strength.text() == "" and page.pregnancy.currentIndex() == 0
