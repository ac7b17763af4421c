"""The six example cases behave as their README says, checked the way ``check-assess`` checks them.

``tests/fixtures/examples/expectations.json`` is the expectations file that ships with the
examples; this test applies the same rules as the check-assess tool (exit status, no traceback,
``has`` / ``none`` / ``dispense_is`` / ``dispense_not``, the same bytes on a second run) to
``python -m pharmacist_tool assess``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pharmacist_tool.engine import assess
from pharmacist_tool.knowledge import load_knowledge_base
from tests.conftest import EXAMPLES, example_case, run_cli

RANK = {"info": 0, "warn": 1, "block": 2}
EXPECTATIONS: list[dict[str, Any]] = json.loads(
    (EXAMPLES / "expectations.json").read_text(encoding="utf-8")
)


def _hit(f: dict[str, Any], cat: str | None, sev: str | None, text: str | None = None) -> bool:
    return (
        (cat is None or f.get("category") == cat)
        and (sev is None or RANK.get(f.get("severity", ""), -1) >= RANK[sev])
        and (
            text is None
            or text.lower() in ((f.get("subject") or "") + " " + (f.get("message") or "")).lower()
        )
    )


def check_expectation(path: Path, exp: dict[str, Any]) -> list[str]:
    """The problems ``check-assess`` would report for one case (empty: as expected)."""
    first = run_cli("assess", str(path))
    problems = []
    out, err = first.stdout.decode(), first.stderr.decode()
    if first.returncode != exp.get("exit", 0):
        problems.append(f"exit {first.returncode}, wanted {exp.get('exit', 0)}: {err[-200:]}")
    if "Traceback" in out + err:
        problems.append("printed a traceback")
    if first.returncode == 0 and exp.get("exit", 0) == 0:
        a = json.loads(out)
        fs = a.get("findings", [])
        for cat, sev, text in exp.get("has", []):
            if not any(_hit(f, cat, sev, text) for f in fs):
                problems.append(f"missing: {cat or 'any'} finding >= {sev} about {text!r}")
        for cat, sev in exp.get("none", []):
            extra = [f"{f.get('code')}/{f.get('severity')}" for f in fs if _hit(f, cat, sev)]
            if extra:
                problems.append(f"unexpected {cat or 'any'} finding(s) >= {sev}: {extra}")
        if "dispense_is" in exp and a.get("dispense") != exp["dispense_is"]:
            problems.append(f"dispense {a.get('dispense')!r}, wanted {exp['dispense_is']!r}")
        if "dispense_not" in exp and a.get("dispense") == exp["dispense_not"]:
            problems.append(f"dispense {a.get('dispense')!r}, wanted anything else")
        if run_cli("assess", str(path)).stdout != first.stdout:
            problems.append("output changed between two runs")
    return problems


@pytest.mark.parametrize("entry", EXPECTATIONS, ids=[e["case"] for e in EXPECTATIONS])
def test_example_meets_its_expectations_through_the_cli(entry: dict[str, Any]) -> None:
    assert check_expectation(EXAMPLES / entry["case"], entry["expect"]) == []


STRICTER = EXAMPLES.parent / "expectations-engine.json"
STRICT: list[dict[str, Any]] = json.loads(STRICTER.read_text(encoding="utf-8"))


@pytest.mark.parametrize("entry", STRICT, ids=[e["case"] for e in STRICT])
def test_example_meets_the_stricter_engine_expectations(entry: dict[str, Any]) -> None:
    """Same format and checks, more precise: exact verdicts and the words that must appear."""
    assert check_expectation(STRICTER.parent / entry["case"], entry["expect"]) == []


def test_every_example_has_an_expectation() -> None:
    assert {e["case"] for e in EXPECTATIONS} == {p.name for p in EXAMPLES.glob("0*.json")}


KB = load_knowledge_base()


def test_01_routine_figures_and_checklist() -> None:
    a = assess(example_case("01"), KB)
    assert a.dispense == "needs-action"  # only the checklist is left
    assert [f.severity for f in a.findings] == ["info"]
    assert a.daily_dose_mg == 40
    assert a.dose_mg_per_kg_per_day == 0.65
    assert a.pick_up_by is not None and a.pick_up_by.isoformat() == "2026-11-27"
    assert a.next_pregnancy_test_due is not None
    assert a.next_pregnancy_test_due.isoformat() == "2026-12-21"
    ids = {c.id for c in a.checklist}
    assert {"mood", "blood-donation", "medication-guide", "contraception", "breastfeeding"} <= ids
    assert "ipledge-monthly" in ids
    assert "leaflet-and-card" not in ids
    assert all(c.required and not c.done and c.script for c in a.checklist)


def test_02_doxycycline_blocks_until_resolved_and_says_why() -> None:
    a = assess(example_case("02"), KB)
    (tetra,) = [f for f in a.findings if f.code == "interaction.tetracyclines"]
    assert tetra.severity == "block" and not tetra.programme_rule
    assert tetra.subject == "doxycycline 100 mg once a day"
    assert "pseudotumor cerebri" in tetra.message
    assert not [f for f in a.findings if "cetirizine" in (f.subject or "")]
    assert a.next_pregnancy_test_due is None


def test_04_window_closed_names_the_last_day() -> None:
    a = assess(example_case("04"), KB)
    (window,) = [f for f in a.findings if f.code == "prescription.pick-up-window-closed"]
    assert window.programme_rule and "2026-11-18" in window.message


def test_05_large_print_case_findings() -> None:
    a = assess(example_case("05"), KB)
    codes = {f.code: f.severity for f in a.findings}
    assert codes["interaction.vitamin-a"] == "warn"
    assert codes["interaction.corticosteroids"] == "warn"
    assert codes["counselling.alcohol-regular"] == "warn"
    assert a.dose_mg_per_kg_per_day == 0.89


def test_06_uk_has_no_authorization_finding_and_uk_checklist() -> None:
    a = assess(example_case("06"), KB)
    assert not [f for f in a.findings if "authorization" in f.code]
    ids = {c.id for c in a.checklist}
    assert "leaflet-and-card" in ids and "medication-guide" not in ids
    assert "ipledge-monthly" not in ids


def test_patients_who_cannot_get_pregnant_get_no_pregnancy_checklist_items() -> None:
    ids = {c.id for c in assess(example_case("02"), KB).checklist}
    assert {"mood", "storage", "disposal", "never-share", "medication-guide"} <= ids
    assert not ids & {"contraception", "pregnancy-tests", "breastfeeding", "ipledge-monthly"}
