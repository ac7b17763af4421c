"""The case being entered: ``None`` where nothing is entered yet, a ``Case`` only once complete,
drafts on disk with ``null``, and older drafts (stand-in values + ``unset``) still loading."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import msgspec
import pytest

from pharmacist_tool.app.session import CounterSession
from pharmacist_tool.case import Case, Patient, Prescription
from pharmacist_tool.counselling import drafts
from pharmacist_tool.counselling.case_draft import (
    REQUIRED,
    CaseDraft,
    PatientDraft,
    PrescriptionDraft,
    blank_draft,
)
from pharmacist_tool.errors import UserError
from pharmacist_tool.knowledge import load_for_counter
from tests.conftest import example_case

OLD_DRAFT_UNSET = [
    "patient.can_get_pregnant",
    "patient.date_of_birth",
    "patient.weight_kg",
    "prescription.days_supply",
    "prescription.doses_per_day",
    "prescription.prescribed_on",
    "prescription.strength_mg",
    "prescription.units_per_dose",
]


def _fields(struct: type[msgspec.Struct]) -> set[str]:
    return {f.name for f in msgspec.structs.fields(struct)}


def test_the_draft_mirrors_the_case_field_for_field() -> None:
    assert _fields(CaseDraft) == _fields(Case)
    assert _fields(PatientDraft) == _fields(Patient)
    assert _fields(PrescriptionDraft) == _fields(Prescription)


def test_a_new_draft_has_nothing_entered_and_is_no_case() -> None:
    draft = blank_draft("US-iPLEDGE", "es", dt.date(2026, 12, 2))
    assert draft.not_entered() == [p for p in REQUIRED if p != "counselled_on"]
    assert draft.patient.handout_language == "es"
    assert draft.complete() is None
    with pytest.raises(UserError) as caught:
        draft.require_complete()
    assert "patient.weight_kg: not entered" in caught.value.details


def test_a_complete_draft_is_the_case() -> None:
    case = example_case("01")
    draft = CaseDraft.of(case)
    assert draft.not_entered() == []
    assert draft.complete() == case


def test_what_is_entered_is_still_validated_as_a_case() -> None:
    draft = CaseDraft.of(example_case("01"))
    draft.patient.weight_kg = 2.0  # entered, but not plausible for an adult
    with pytest.raises(UserError) as caught:
        draft.complete()
    assert any("patient.weight_kg" in d for d in caught.value.details)


def test_the_checks_run_once_the_last_field_is_entered() -> None:
    case = example_case("01")
    session = CounterSession.blank(case.rule_set, "en", today=case.counselled_on)
    draft = session.case
    assert draft is not None
    full = CaseDraft.of(case)
    draft.patient, draft.medicines = full.patient, full.medicines
    draft.prescription = full.prescription
    draft.pregnancy_tests, draft.contraception = full.pregnancy_tests, full.contraception
    draft.patient.weight_kg = None
    kb = load_for_counter()
    session.collected({}, [])
    session.assess(kb)
    assert session.assessment is None and session.checked is None
    assert session.problems == ["patient.weight_kg: not entered"]
    draft.patient.weight_kg = case.patient.weight_kg
    session.assess(kb)
    assert session.assessment is not None and session.checked is not None
    assert session.checked.patient.weight_kg == case.patient.weight_kg


def test_a_draft_on_disk_holds_null_where_nothing_is_entered(isolated_home: Path) -> None:
    session = CounterSession.blank("US-iPLEDGE", "en", today=dt.date(2026, 12, 2))
    assert session.case is not None
    session.case.patient.name = "Ana García"
    session.dirty = True
    session.autosave(step=0, user="", durable=True)
    assert session.meta is not None
    saved = json.loads(drafts.draft_path(session.meta.id).read_text(encoding="utf-8"))
    assert saved["patient"]["date_of_birth"] is None and saved["patient"]["weight_kg"] is None
    assert saved["prescription"]["strength_mg"] is None
    assert saved["patient"]["name"] == "Ana García"
    assert saved["draft"]["unset"] == []
    again = drafts.load_draft(session.meta.id)
    assert again.case == session.case


def test_an_older_draft_with_stand_in_values_loads_with_them_not_entered(
    isolated_home: Path,
) -> None:
    """Drafts saved before the draft held null: stand-in values, listed in ``draft.unset``."""
    older = {
        "format": "pharmacist-tool/case@1",
        "rule_set": "US-iPLEDGE",
        "counselled_on": "2026-11-30",
        "patient": {"name": "Tomás Ruiz", "date_of_birth": "1900-01-01", "weight_kg": 1.0,
                    "can_get_pregnant": True, "handout_language": "en", "large_print": False},
        "prescription": {"medicine": "Claravis", "strength_mg": 1.0, "units_per_dose": 1,
                         "doses_per_day": 1, "days_supply": 1, "refills": 0,
                         "prescribed_on": "2026-11-30", "prescriber": ""},
        "medicines": ["ibuprofen"],
        "draft": {"format": "pharmacist-tool/draft@1", "id": "20261130-101500-abcdef",
                  "created": "2026-11-30T10:15:00", "updated": "2026-11-30T10:16:00",
                  "step": 3, "unset": OLD_DRAFT_UNSET,
                  "typed": {"patient.weight_kg": "6o"}, "patient_name": "Tomás Ruiz"},
    }  # fmt: skip
    path = drafts.draft_path("20261130-101500-abcdef")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(older), encoding="utf-8")
    draft = drafts.load_draft("20261130-101500-abcdef")
    case = draft.case
    assert case.patient.date_of_birth is None and case.patient.weight_kg is None
    assert case.patient.can_get_pregnant is None
    assert case.prescription.strength_mg is None and case.prescription.prescribed_on is None
    assert case.prescription.units_per_dose is None and case.prescription.days_supply is None
    assert case.patient.name == "Tomás Ruiz" and case.medicines == ["ibuprofen"]
    assert case.prescription.medicine == "Claravis"
    assert draft.meta.typed == {"patient.weight_kg": "6o"} and draft.meta.step == 3
    assert case.complete() is None, "no stand-in value reaches the checks"
    session = CounterSession(case=case, meta=draft.meta)
    session.collected({}, [])
    session.assess(load_for_counter())
    assert session.assessment is None and session.checked is None
    assert "patient.date_of_birth: not entered" in session.problems


def test_a_next_visit_file_opens_as_a_case_still_to_complete(tmp_path: Path) -> None:
    """``next`` writes null where this visit's prescription date goes: the window opens it as a
    session in progress; a file that leaves a field out is refused as before."""
    from pharmacist_tool.counselling.case_draft import dump_draft, load_case_or_draft

    draft = CaseDraft.of(example_case("01"))
    draft.prescription.prescribed_on = None
    path = tmp_path / "next.json"
    path.write_bytes(dump_draft(draft))
    opened = load_case_or_draft(str(path))
    assert isinstance(opened, CaseDraft) and opened.not_entered() == ["prescription.prescribed_on"]
    document = json.loads(path.read_text())
    del document["prescription"]["prescribed_on"]
    path.write_text(json.dumps(document))
    with pytest.raises(UserError) as refused:
        load_case_or_draft(str(path))
    assert "prescription.prescribed_on: this field is required but missing" in str(refused.value)
