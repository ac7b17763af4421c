"""A finding that never clears: a block always stops the hand-over; a warning (the programme has
the pharmacist dispense and refer, e.g. a positive test with an anticonvulsant the patient must
not stop) stands on the record, and with what was done recorded no longer stops the hand-over.
Run over every pack and rule set found."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from pharmacist_tool import paths
from pharmacist_tool.case import Outcome, case_from_dict
from pharmacist_tool.engine import assess
from pharmacist_tool.engine.readiness import missing_for_signing
from pharmacist_tool.knowledge.contract import NEVER_CLEARS
from tests.conformance.checks import base_case, load, pack_folders, settings

PACK_FOLDERS = pack_folders(paths.resource("knowledge"))
REFERRAL = "Prescriber contacted today; urgent referral to the specialist made"


def _positive(folder: Path) -> list[tuple[str, str, list[str], list[str]]]:
    """Per rule-set version: the positive test's severity, and what stands before signing a
    hand-over without and with a resolution."""
    kb = load(folder)
    seen = []
    for s in settings(kb):
        case = base_case(kb, s)
        case["pregnancy_tests"] = [
            {"date": case["prescription"]["prescribed_on"], "result": "positive"}
        ]
        stands = []
        for resolution in (None, REFERRAL):
            if resolution:
                case["resolutions"] = {NEVER_CLEARS: resolution}
            parsed = case_from_dict(case)
            first = assess(parsed, kb)
            done = {item.id: True for item in first.checklist}
            parsed = msgspec.structs.replace(
                parsed, checklist=done, outcome=Outcome(status="handed-over")
            )
            found = assess(parsed, kb)
            positive = next(f for f in found.findings if f.code == NEVER_CLEARS)
            assert positive.stands, (s.version.id, resolution)
            stands.append(missing_for_signing(parsed, found))
        seen.append((s.version.id, positive.severity, stands[0], stands[1]))
    return seen


@pytest.mark.parametrize("folder", PACK_FOLDERS, ids=lambda f: f.name)
def test_a_positive_test_stops_the_hand_over_until_the_referral_is_recorded(folder: Path) -> None:
    for version, severity, unanswered, answered in _positive(folder):
        assert any(NEVER_CLEARS in line for line in unanswered), version
        if severity == "block":
            assert any(NEVER_CLEARS in line for line in answered), version
        else:
            assert not any(NEVER_CLEARS in line for line in answered), (version, answered)


def test_some_pack_dispenses_and_refers_and_some_refuses() -> None:
    severities = {sev for folder in PACK_FOLDERS for _, sev, _, _ in _positive(folder)}
    assert severities == {"block", "warn"}
