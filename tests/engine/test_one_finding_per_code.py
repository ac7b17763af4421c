"""Resolutions are keyed by code, so a code appears once, naming every line it covers."""

from __future__ import annotations

import msgspec

from pharmacist_tool.engine import assess
from pharmacist_tool.knowledge import load_knowledge_base
from tests.conftest import example_case


def test_two_tetracyclines_make_one_finding_naming_both() -> None:
    case = msgspec.structs.replace(
        example_case("02"), medicines=["Doxy 100mg tabs", "Minocin", "cetirizine"]
    )
    findings = assess(case, load_knowledge_base()).findings
    tetracyclines = [f for f in findings if f.code == "interaction.tetracyclines"]
    assert len(tetracyclines) == 1
    assert tetracyclines[0].severity == "block"
    assert tetracyclines[0].subject == "Doxy 100mg tabs; Minocin"


def test_one_resolution_clears_the_merged_finding() -> None:
    case = msgspec.structs.replace(
        example_case("02"),
        medicines=["doxycycline 100 mg", "minocycline 50 mg"],
        resolutions={"interaction.tetracyclines": "Prescriber stopped both antibiotics"},
    )
    assessment = assess(case, load_knowledge_base())
    assert not any(f.stands for f in assessment.findings if f.category == "interaction")
    assert assessment.dispense != "do-not-dispense"
