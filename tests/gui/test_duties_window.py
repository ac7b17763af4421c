"""The programme's duties in the window, from the keyboard only: step 2 asks each duty as a
choice with no default (Alt+D reaches the first, Tab the next), the reason when not done and the
form's date when seen; nothing is signed while one is not recorded; the signed record shows them;
the next visit brings the form's date back, to be confirmed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import msgspec
import pytest
from PySide6.QtCore import Qt

from pharmacist_tool.case import Case, SupplyDuty, load_case
from pharmacist_tool.gui.pages import NO_RESULT
from tests.gui.counter import sign_in
from tests.gui.driver import (
    ALT,
    CTRL,
    Keyboard,
    choose_outcome,
    confirm_checklist,
    fill_case,
    resolve_findings,
    sign,
)
from tests.gui.test_sessions import stored_records

pytestmark = pytest.mark.gui

FIXTURES = Path(__file__).parents[1] / "fixtures"
ROUTINE = FIXTURES / "packs" / "valproate-uk-ppp-routine.json"
RECORDED = FIXTURES / "duties" / "valproate-duties-recorded.json"
IDS = ["patient-card", "patient-guide", "whole-original-pack", "risk-acknowledgement-form"]
WHY = "Monitored dosage system; the documented risk assessment is on file"


def test_each_duty_is_a_choice_with_no_default_recorded_from_the_keyboard(
    window: Any, qtbot: Any, users: dict[str, str]
) -> None:
    from pharmacist_tool.gui.records_view import record_html
    from pharmacist_tool.records.db import open_database
    from pharmacist_tool.records.reading import get_record

    case = load_case(ROUTINE)
    kb = Keyboard(qtbot, window)
    kb.press(Qt.Key.Key_N, CTRL)
    fill_case(kb, case)
    box = window.pages[1].duties
    assert box.ids == IDS and box.isVisibleTo(window.pages[1])
    assert all(box.rows[i].choice.currentText() == NO_RESULT for i in IDS)  # no default
    assert window.case.supply_duties == {}
    choose_outcome(kb, "handed-over")
    resolve_findings(kb)
    confirm_checklist(kb)
    waiting = [m for m in window.missing() if m.startswith("Programme duty")]
    assert waiting == [
        "Programme duty (step 2 Programme): Patient card given",
        "Programme duty (step 2 Programme): Patient guide (leaflet) given",
        "Programme duty (step 2 Programme): Whole original pack dispensed",
        "Programme duty (step 2 Programme): Annual Risk Acknowledgement Form seen (its date)",
    ]
    assert window.steps.item(1).text().endswith("○ to do")

    kb.step(2)
    kb.press(Qt.Key.Key_D, ALT)
    rows = box.rows
    assert kb.focus is rows["patient-card"].choice
    kb.choose("Given")
    kb.tab()  # "why not" is only open for "not given": Tab goes on to the next duty
    assert kb.focus is rows["patient-guide"].choice
    kb.choose("Given")
    kb.tab()
    assert kb.focus is rows["whole-original-pack"].choice
    kb.choose("Not given")
    kb.tab()
    assert kb.focus is rows["whole-original-pack"].reason
    kb.settle()
    assert "Whole original pack dispensed: say why not" in window.missing()
    assert "whole-original-pack" not in window.case.supply_duties  # no reason, no fact
    kb.type(WHY)
    kb.tab()
    assert kb.focus is rows["risk-acknowledgement-form"].choice
    kb.choose("Seen")
    kb.tab()
    assert kb.focus is rows["risk-acknowledgement-form"].form_date
    kb.settle()
    assert window.missing() == [
        "Programme duty (step 2 Programme): Annual Risk Acknowledgement Form seen (its date) "
        "— give the date the form bears"
    ]
    kb.type("2026-01-05")
    kb.settle()
    assert window.case.supply_duties == {
        "patient-card": SupplyDuty(done=True),
        "patient-guide": SupplyDuty(done=True),
        "whole-original-pack": SupplyDuty(done=False, reason=WHY),
        "risk-acknowledgement-form": SupplyDuty(done=True, form_date=dt.date(2026, 1, 5)),
    }
    assert window.missing() == [], window.missing()
    assert window.steps.item(1).text().endswith("✓ done")

    with qtbot.waitSignal(window.signed, timeout=30_000):
        sign(kb, users["pharmacist"], users["password"])
    (record,) = stored_records()
    with open_database() as db:
        stored = get_record(db, record.id)
    shown = record_html(stored)
    assert "Programme duties on this supply" in shown
    assert "Whole original pack dispensed: not given: Monitored dosage system" in shown
    assert "seen, dated 2026-01-05 (valid until 2027-01-04)" in shown


def _sign_with_form(pharmacist: str, password: str) -> tuple[int, Case]:
    """The fixture's valproate supply (its form dated 2026-01-05) signed in the window's DB."""
    from pharmacist_tool.engine import assess
    from pharmacist_tool.knowledge import load_for_counter
    from pharmacist_tool.records.db import open_database
    from pharmacist_tool.records.reading import StoredHandout
    from pharmacist_tool.records.users import authenticate
    from pharmacist_tool.records.writing import sign_record
    from tests.records.helpers import make_pdf

    case = load_case(RECORDED)
    today = dt.date.today()
    case = msgspec.structs.replace(
        case,
        counselled_on=today - dt.timedelta(days=28),
        prescription=msgspec.structs.replace(
            case.prescription, prescribed_on=today - dt.timedelta(days=29)
        ),
    )
    with open_database() as db:
        user = authenticate(db, pharmacist, password, purpose="sign")
        handout = StoredHandout.from_file_bytes(make_pdf(), case, paper="Letter")
        summary = sign_record(db, user, case, assess(case, load_for_counter("Epilim")), handout)
    return summary.id, case


def test_the_next_visit_brings_the_forms_date_back_to_confirm(
    window: Any, qtbot: Any, users: dict[str, str]
) -> None:
    from tests.gui.test_next_visit_keyboard import _start_next_visit

    _sign_with_form(users["pharmacist"], users["password"])
    sign_in(qtbot, window, users["pharmacist"])
    kb = Keyboard(qtbot, window)
    _start_next_visit(kb, window, "943 476 5919")
    key = "form seen: risk-acknowledgement-form"
    assert window.case.carried.facts[key] == "dated 2026-01-05"
    kb.step(1)
    kb.press(Qt.Key.Key_E, ALT)  # Pr&escribed on: this visit's prescription
    assert kb.focus is window.pages[0].prescribed_on
    kb.type(dt.date.today().isoformat())
    kb.settle()
    assert window.assessment is not None, window.problems
    form = window.pages[1].duties.rows["risk-acknowledgement-form"]
    assert (form.choice.currentText(), form.form_date.text()) == ("Seen", "2026-01-05")
    assert window.pages[1].duties.rows["patient-card"].choice.currentText() == NO_RESULT
    asked = f"Last visit: {key}: dated 2026-01-05 — confirm it is still true, or change it"
    assert asked in window.missing()

    box = window.carried.boxes[key]
    assert "dated 2026-01-05" in box.text()
    box.setFocus()  # the box Tab reaches from step 1 (as for every carried fact)
    kb.press(Qt.Key.Key_Space)
    kb.settle()
    assert key in window.case.carried.confirmed
    assert asked not in window.missing()


def test_the_due_list_says_when_the_annual_form_expires(
    window: Any, qtbot: Any, users: dict[str, str]
) -> None:
    from pharmacist_tool.engine import assess
    from pharmacist_tool.knowledge import load_for_counter
    from pharmacist_tool.records.db import open_database
    from pharmacist_tool.records.reading import StoredHandout
    from pharmacist_tool.records.users import authenticate
    from pharmacist_tool.records.writing import sign_record
    from tests.records.helpers import make_pdf

    case = load_case(RECORDED)  # 2026-11-25, form dated 2026-01-05: valid until 2027-01-04
    with open_database() as db:
        user = authenticate(db, users["pharmacist"], users["password"], purpose="sign")
        handout = StoredHandout.from_file_bytes(make_pdf(), case, paper="Letter")
        sign_record(db, user, case, assess(case, load_for_counter("Epilim")), handout)
    sign_in(qtbot, window, users["pharmacist"])
    due = window.due_list
    due.refresh(dt.date(2026, 12, 21))  # the next fill is due on 2026-12-25
    (text,) = [due.items.item(i).text() for i in range(due.items.count())]
    assert "next fill · Robin Patel" in text
    assert text.endswith("· annual form expires in 15 days")
    due.refresh(dt.date(2027, 1, 10))
    (late,) = [due.items.item(i).text() for i in range(due.items.count())]
    assert late.startswith("Fri 25 Dec (OVERDUE 16 days)")
    assert late.endswith("· annual form expired 5 days ago")
