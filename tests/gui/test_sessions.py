"""Whole counselling sessions for the six example cases, typed from the keyboard.

Each session is typed into a new session (Ctrl+N), step by step (Alt+→); the findings the window
shows must be the engine's for the same case file; signing is refused while anything is open and
allowed once it is resolved; the record lands in a real SQLite file in the test's home.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from pharmacist_tool.case import load_case
from pharmacist_tool.counselling import drafts
from pharmacist_tool.engine import assess
from pharmacist_tool.knowledge import load_for_counter
from tests.conftest import EXAMPLE_FILES
from tests.gui.driver import (
    ALT,
    CTRL,
    Keyboard,
    choose_outcome,
    confirm_checklist,
    fill_case,
    record_duties,
    resolve_findings,
    sign,
)

pytestmark = pytest.mark.gui

# How each example ends: the outcome the pharmacist records, and its reason.
ENDINGS = {
    "01": ("handed-over", ""),
    "02": ("handed-over", ""),
    "03": ("not-handed-over", "No valid primary method: referred back to the prescriber"),
    "04": ("not-handed-over", "Pick-up window missed: new pregnancy test and authorization needed"),
    "05": ("handed-over", ""),
    "06": ("declined", "Patient in a hurry; counselled last month, took the leaflet"),
}


def shown(window: Any) -> set[tuple[str, str, str | None]]:
    findings = window.assessment.findings
    panel_codes = set(window.findings.items)
    assert panel_codes == {f.code for f in findings}, "the panel shows what the engine found"
    return {(f.code, f.severity, f.subject) for f in findings}


def stored_records() -> list[Any]:
    from pharmacist_tool.records.db import open_database
    from pharmacist_tool.records.reading import fetch_page

    with open_database() as db:
        return fetch_page(db)


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=[p.stem for p in EXAMPLE_FILES])
def test_whole_session_from_the_keyboard(
    path: Path, window: Any, qtbot: Any, users: dict[str, str]
) -> None:
    case = load_case(path)
    case.alcohol = case.alcohol or "none"  # the pharmacist asks; the window insists
    expected = assess(case, load_for_counter())
    kb = Keyboard(qtbot, window)

    kb.press(Qt.Key.Key_N, CTRL)
    fill_case(kb, case)
    assert window.problems == [] and window.assessment is not None, window.problems
    assert shown(window) == {(f.code, f.severity, f.subject) for f in expected.findings}
    assert window.assessment.dispense == expected.dispense
    assert (
        window.findings.verdict.text()
        .split(" ", 1)[1]
        .lower()
        .startswith(
            {"do-not-dispense": "do not", "needs-action": "needs", "ok": "ready"}[expected.dispense]
        )
    )
    # Severity is an icon and a word on every finding, never colour alone.
    for f in expected.findings:
        assert f.severity.upper() in window.findings.items[f.code].severity.text()
    # Programme blocks have no resolution box and say why; the others take one.
    for f in expected.findings:
        item = window.findings.items[f.code]
        assert (not item.resolution.isHidden()) == f.needs_resolution
        assert (not item.why.isHidden()) == (f.severity == "block" and f.programme_rule)

    status, reason = ENDINGS[path.name[:2]]

    # Signing is refused while anything is open (the outcome is not even chosen yet).
    sign(kb, users["pharmacist"], users["password"])
    assert "Not signed" in window.review.sign_message.text()
    assert window.case is not None and stored_records() == []

    if status == "handed-over":
        choose_outcome(kb, status)
        sign(kb, users["pharmacist"], users["password"])
        assert "Not signed" in window.review.sign_message.text()
        assert window.missing(), "something must still be open before the checklist is done"
        resolved = resolve_findings(kb)
        assert sorted(resolved) == sorted(f.code for f in expected.findings if f.needs_resolution)
        confirm_checklist(kb)
        assert not any(f.stands for f in window.assessment.findings)
    else:
        choose_outcome(kb, status, reason)
    record_duties(kb, on=case.counselled_on)  # step 2: each programme duty as a fact
    assert window.missing() == [], window.missing()
    draft_id = window.meta.id
    assert (drafts.list_drafts()[0].id) == draft_id, "the session was autosaved"

    with qtbot.waitSignal(window.signed, timeout=30_000):
        sign(kb, users["pharmacist"], users["password"])
    records = stored_records()
    assert len(records) == 1
    record = records[0]
    assert record.patient_name == case.patient.name
    assert record.outcome == status
    assert drafts.list_drafts() == [], "a signed session's draft is removed"
    assert window.stack.currentIndex() == 0 and "Signed" in window.start_note.text()


def test_programme_block_cannot_be_handed_over(
    window: Any, qtbot: Any, users: dict[str, str]
) -> None:
    """Example 04: the pick-up window closed; no resolution can clear it."""
    case = load_case(next(p for p in EXAMPLE_FILES if p.name.startswith("04")))
    kb = Keyboard(qtbot, window)
    kb.press(Qt.Key.Key_N, CTRL)
    fill_case(kb, case)
    confirm_checklist(kb)
    choose_outcome(kb, "handed-over")
    missing = window.missing()
    closed = next(f for f in window.assessment.findings if "pick-up-window" in f.code)
    assert any(m.startswith("Stops handing over") and closed.message in m for m in missing)
    assert not any(closed.code in m for m in missing), "the pharmacist reads words, not codes"
    sign(kb, users["pharmacist"], users["password"])
    assert "Not signed" in window.review.sign_message.text()
    assert stored_records() == []


def test_only_a_pharmacist_signs(window: Any, qtbot: Any, users: dict[str, str]) -> None:
    case = load_case(next(p for p in EXAMPLE_FILES if p.name.startswith("04")))
    kb = Keyboard(qtbot, window)
    window.open_case_file(next(p for p in EXAMPLE_FILES if p.name.startswith("04")))
    kb.settle()
    choose_outcome(kb, "not-handed-over", "window missed")
    sign(kb, users["technician"], users["password"])
    assert "Only a pharmacist" in window.review.sign_message.text()
    sign(kb, users["pharmacist"], "not the password")
    assert "Wrong user name or password" in window.review.sign_message.text()
    assert stored_records() == []
    assert case.patient.name in window.banner_patient.text()


def test_a_session_with_step_4_unvisited_cannot_be_signed(
    window: Any, qtbot: Any, users: dict[str, str]
) -> None:
    """Nothing signed unasked: an empty medicines list is not "takes nothing" until the
    pharmacist ticks that they asked, and alcohol must be answered."""
    import re

    path = next(p for p in EXAMPLE_FILES if p.name.startswith("06"))
    case = load_case(path)
    assert case.medicines == [] and case.alcohol is None
    kb = Keyboard(qtbot, window)
    window.open_case_file(path)
    kb.settle()
    assert window.steps.item(3).text().endswith("○ to do"), "step 4 is not done unvisited"
    resolve_findings(kb)
    confirm_checklist(kb)
    record_duties(kb, on=case.counselled_on)
    choose_outcome(kb, "handed-over")
    missing = window.missing()
    assert any(m.startswith("Other medicines: ask") for m in missing), missing
    assert any(m.startswith("Alcohol: ask") for m in missing), missing
    shown_text = window.review.missing.text()
    assert not re.search(r"\b(BLOCK|WARN)\b|\b[a-z]+\.[a-z-]+\b", shown_text), shown_text
    sign(kb, users["pharmacist"], users["password"])
    assert "Not signed" in window.review.sign_message.text()
    assert stored_records() == []

    kb.step(4)
    page = window.pages[3]
    kb.press(Qt.Key.Key_N, ALT)
    qtbot.waitUntil(page.none_taken.isChecked, timeout=2000)
    kb.press(Qt.Key.Key_L, ALT)
    kb.choose("none")
    kb.settle()
    assert window.steps.item(3).text().endswith("✓ done")
    assert window.missing() == [], window.missing()
    assert "Other medicines: none (asked). Alcohol: none." in window.review.summary.text()
    with qtbot.waitSignal(window.signed, timeout=30_000) as signed:
        sign(kb, users["pharmacist"], users["password"])
    assert len(stored_records()) == 1
    # the tick is in the signed case, so the record says "asked: takes none"
    from pharmacist_tool.records.db import open_database
    from pharmacist_tool.records.reading import get_record

    with open_database() as db:
        record = get_record(db, int(signed.args[0]))
    assert record.case.other_medicines_asked is True
    assert record.facts.other_medicines_asked == "asked: takes none"
