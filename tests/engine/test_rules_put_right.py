"""Rules put right in December 2026: what the findings say, and that the facts are data.

The verdicts themselves are rows of the case table (``test_case_table.py``); these tests read the
wording and the data behind them.
"""

from __future__ import annotations

import pytest

from pharmacist_tool.case import case_from_dict
from pharmacist_tool.engine import assess
from pharmacist_tool.engine.assessment import Assessment, Finding
from pharmacist_tool.engine.line_dose import daily_dose
from pharmacist_tool.knowledge import load_knowledge_base
from pharmacist_tool.knowledge.matching import match_method
from tests.engine.test_case_table import ROWS, _kb_for, build

KB = load_knowledge_base()


def _assess(base: str, changes: dict[str, object]) -> Assessment:
    return assess(case_from_dict(build(base, changes)), KB)


def _finding(assessment: Assessment, code: str) -> Finding:
    (found,) = [f for f in assessment.findings if f.code == code]
    return found


@pytest.mark.parametrize(
    ("text", "daily_mg", "stated"),
    [
        ("topiramate 25 mg", 50, False),  # twice a day assumed: still below 200
        ("topiramate 25mg", 50, False),
        ("Topamax 100 mg twice daily", 200, True),
        ("topiramate 100mg BD", 200, True),
        ("topiramate 200 mg/day", 200, True),
        ("topiramate 200 mg daily", 200, True),
        ("Trokendi XR 150 mg once a day", 150, True),
        ("topiramate 50 mg 2 tablets at night", 100, True),
        ("topiramate 0.2 g daily", 200, True),
        ("topiramate 25 mg tds", 75, True),
        ("topiramate 100 mg every 12 hours", 200, True),
    ],
)
def test_daily_dose_read_from_the_patients_line(text: str, daily_mg: float, stated: bool) -> None:
    dose = daily_dose(text, assumed_doses_per_day=2)
    assert dose is not None
    assert dose.daily_mg == daily_mg
    assert dose.frequency_stated is stated


@pytest.mark.parametrize("text", ["topiramate", "Topamax as directed", "topiramate 25 mg + 50 mg"])
def test_a_dose_that_cannot_be_read_is_none(text: str) -> None:
    assert daily_dose(text, assumed_doses_per_day=2) is None


def test_unknown_topiramate_dose_takes_the_safe_choice_and_says_so() -> None:
    a = _assess("US", {"contraception": ["Yaz", "condoms"], "medicines": ["Topamax"]})
    weakened = _finding(a, "contraception.weakened")
    assert weakened.severity == "block"
    assert "could not be read" in weakened.message
    assert "safe choice" in weakened.message


def test_topiramate_frequency_not_given_is_assumed_and_said() -> None:
    a = _assess("UK", {"contraception": ["Nexplanon"], "medicines": ["topiramate 100 mg"]})
    weakened = _finding(a, "contraception.weakened")
    assert weakened.severity == "block"
    assert "does not say how often" in weakened.message
    assert "200 mg a day" in weakened.message


def test_topiramate_below_200_mg_says_so_in_its_interaction() -> None:
    a = _assess("US", {"contraception": ["Yaz", "condoms"], "medicines": ["topiramate 25 mg"]})
    interaction = _finding(a, "interaction.topiramate")
    assert interaction.severity == "info"
    assert "200 mg a day" in interaction.message
    assert not [f for f in a.findings if f.code == "contraception.weakened"]


@pytest.mark.parametrize(
    ("words", "weakened"),
    [
        ("Yaz", True),
        ("Xulane patch", True),
        ("NuvaRing", True),
        ("Cerazette", True),
        ("Nexplanon", True),
        ("Depo-Provera", False),
        ("Sayana Press", False),
        ("Mirena", False),
        ("Paragard", False),
        ("the coil", False),
        ("condoms", False),
    ],
)
def test_which_methods_inducers_weaken_is_data_on_the_method(words: str, weakened: bool) -> None:
    method = match_method(KB, words)
    assert method is not None
    assert method.weakened_by_enzyme_inducers is weakened
    if not weakened and method.hormonal:
        assert method.sources, "a hormonal method that inducers do not weaken cites why"


def test_the_minipill_rule_is_the_us_labels() -> None:
    method = match_method(KB, "Cerazette")
    assert method is not None
    assert method.status == {"US": "not-acceptable", "UK": "primary", "EU": "primary"}
    us = _assess("US", {"contraception": ["Cerazette", "condoms"]})
    note = _finding(us, "contraception.method-not-accepted")
    assert "iPLEDGE" in note.message


def test_a_positive_test_for_a_patient_recorded_unable_to_get_pregnant_names_the_category() -> None:
    a = _assess("US_NO", {"pregnancy_tests": [{"date": "2026-11-20", "result": "positive"}]})
    positive = _finding(a, "pregnancy-test.positive")
    assert positive.programme_rule
    assert "category may be wrong" in positive.message


def test_positive_then_negative_asks_for_the_prescribers_explanation() -> None:
    a = _assess(
        "EU",
        {
            "pregnancy_tests": [
                {"date": "2026-10-01", "result": "positive"},
                {"date": "2026-11-22", "result": "negative"},
            ]
        },
    )
    warn = _finding(a, "pregnancy-test.positive-then-negative")
    assert "2026-10-01" in warn.message and "2026-11-22" in warn.message
    assert "prescriber" in warn.action and "explain" in warn.action
    assert warn.needs_resolution


def test_a_test_after_the_prescription_names_both_dates() -> None:
    a = _assess("UK", {"pregnancy_tests": [{"date": "2026-11-24", "result": "negative"}]})
    warn = _finding(a, "pregnancy-test.after-prescription")
    assert "2026-11-24" in warn.message and "2026-11-23" in warn.message
    assert "3 days" in warn.message


def test_a_block_from_the_facts_cannot_be_resolved_by_text() -> None:
    a = _assess(
        "US",
        {
            "contraception": ["Nexplanon", "condoms"],
            "medicines": ["St John's wort"],
            "resolutions": {"contraception.weakened": "ok"},
        },
    )
    weakened = _finding(a, "contraception.weakened")
    assert weakened.programme_rule and weakened.stands and not weakened.needs_resolution
    assert "does not clear it" in weakened.action


def _every_finding() -> list[tuple[str, Finding]]:
    found = []
    for row in ROWS:
        case = case_from_dict(build(row.base, row.changes), source=row.id)
        found += [(row.id, f) for f in assess(case, _kb_for(row)).findings]
    return found


def test_every_block_action_says_not_to_hand_over() -> None:
    """A block's action agrees with its severity (a refill's once said 'dispense this fill')."""
    wrong = {
        f"{row}: {f.code}: {f.action}"
        for row, f in _every_finding()
        if f.severity == "block"
        and f.category != "interaction"
        and not any(p in f.action.lower() for p in ("do not hand over", "do not dispense"))
    }
    assert wrong == set()


def test_no_block_action_starts_by_telling_to_dispense() -> None:
    wrong = {
        f"{row}: {f.code}"
        for row, f in _every_finding()
        if f.severity == "block" and f.action.lower().startswith(("dispense", "hand over"))
    }
    assert wrong == set()


def test_refill_finding_blocks_and_its_action_agrees() -> None:
    for base in ("US", "UK", "EU"):
        a = _assess(base, {"prescription.refills": 1})
        refills = _finding(a, "prescription.refills-not-allowed")
        assert refills.severity == "block" and refills.programme_rule
        assert refills.action.startswith("Do not hand over")


def test_a_dose_bound_substance_belongs_to_its_rule_alone() -> None:
    """A substance listed under another inducer rule as well would weaken at any dose again."""
    bound = [r for r in KB.interactions if r.weakens_contraception_from_mg_per_day is not None]
    assert bound
    for rule in bound:
        ids = {s.id for s in rule.substances}
        assert ids, f"{rule.id}: the dose-bound rule names its substance"
        others = [
            r.id for r in KB.interactions if r is not rule and ids & {s.id for s in r.substances}
        ]
        assert others == [], f"{rule.id}'s substance is also under {others}"


@pytest.mark.parametrize(
    "line", ["Topamax 25 mg", "Qudexy XR 25 mg", "topiramato 25 mg", "Trokendi XR 50 mg"]
)
def test_every_name_of_topiramate_at_a_low_dose_leaves_the_pill_counted(line: str) -> None:
    a = _assess("US", {"contraception": ["Yaz", "condoms"], "medicines": [line]})
    assert [f.code for f in a.findings if f.category == "interaction"] == ["interaction.topiramate"]
    assert not [f for f in a.findings if f.code == "contraception.weakened"]
