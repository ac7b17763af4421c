"""A case being entered: the case's own shape, with ``None`` where nothing is entered yet.

The window writes what the pharmacist typed into a ``CaseDraft``; it becomes a ``Case`` (through
the case's own validation, ``parse_case``) only once every required field holds a value, so no
stand-in value can reach an assessment, a handout or a record. Drafts on disk store ``null``
there. Qt-free.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import msgspec

from pharmacist_tool.case import (
    CASE_FORMAT,
    Alcohol,
    Carried,
    Case,
    Course,
    Outcome,
    PregnancyTest,
    ProgrammeCheck,
    Resolution,
    RiskCategoryChange,
    Sex,
    SupplyDuty,
    parse_case,
    read_case_bytes,
)
from pharmacist_tool.errors import UserError


class PatientDraft(msgspec.Struct, kw_only=True):
    name: str = ""
    date_of_birth: dt.date | None = None
    weight_kg: float | None = None
    can_get_pregnant: bool | None = None
    handout_language: str = "en"
    large_print: bool = False
    programme_id: str | None = None
    sex: Sex | None = None


class PrescriptionDraft(msgspec.Struct, kw_only=True):
    medicine: str = ""
    strength_mg: float | None = None
    units_per_dose: int | None = None
    doses_per_day: int | None = None
    days_supply: int | None = None
    quantity: int | None = None
    refills: int = 0
    prescribed_on: dt.date | None = None
    prescriber: str = ""
    authorization: str | None = None
    indication: str | None = None


class CaseDraft(msgspec.Struct, kw_only=True):
    format: str = CASE_FORMAT
    rule_set: str
    counselled_on: dt.date | None = None
    patient: PatientDraft = msgspec.field(default_factory=PatientDraft)
    prescription: PrescriptionDraft = msgspec.field(default_factory=PrescriptionDraft)
    pregnancy_tests: list[PregnancyTest] = msgspec.field(default_factory=list)
    contraception: list[str] = msgspec.field(default_factory=list)
    medicines: list[str] = msgspec.field(default_factory=list)
    other_medicines_asked: bool | None = None
    alcohol: Alcohol | None = None
    checklist: dict[str, bool] = msgspec.field(default_factory=dict)
    resolutions: dict[str, str | Resolution] = msgspec.field(default_factory=dict)
    outcome: Outcome | None = None
    course: Course | None = None
    programme_check: ProgrammeCheck | None = None
    carried: Carried | None = None
    risk_category_change: RiskCategoryChange | None = None
    supply_duties: dict[str, SupplyDuty] = msgspec.field(default_factory=dict)

    @classmethod
    def of(cls, case: Case) -> CaseDraft:
        """A complete case, to go on editing."""
        return msgspec.convert(msgspec.to_builtins(case), cls)

    def not_entered(self) -> list[str]:
        """The case's required fields that hold nothing yet (as ``patient.weight_kg``)."""
        return [path for path in REQUIRED if _value(self, path) is None]

    def complete(self) -> Case | None:
        """The case, once every required field is entered (None before). Raises ``UserError``
        when what is entered is not a valid case (naming each field and what is wrong)."""
        if self.not_entered():
            return None
        return parse_case(msgspec.json.encode(self), source="the session")

    def require_complete(self) -> Case:
        """The case; ``UserError`` naming what is not entered yet, or what is wrong."""
        case = self.complete()
        if case is None:
            missing = self.not_entered()
            raise UserError(
                "The case is not complete:", details=[f"{m}: not entered" for m in missing]
            )
        return case

    def forget(self, paths: Iterable[str]) -> None:
        """Set these fields to not entered (drafts saved before the draft held ``None`` kept a
        stand-in value there and listed the field as not entered)."""
        for path in paths:
            if path in REQUIRED:
                owner, _, name = path.rpartition(".")
                setattr(_owner(self, owner), name, None)


REQUIRED = (
    "counselled_on",
    "patient.date_of_birth",
    "patient.weight_kg",
    "patient.can_get_pregnant",
    "prescription.strength_mg",
    "prescription.units_per_dose",
    "prescription.doses_per_day",
    "prescription.days_supply",
    "prescription.prescribed_on",
)
"""The case's required fields that a draft may not have yet."""


def _owner(draft: CaseDraft, owner: str) -> object:
    return draft if not owner else getattr(draft, owner)


def _value(draft: CaseDraft, path: str) -> object:
    owner, _, name = path.rpartition(".")
    return getattr(_owner(draft, owner), name)


def blank_draft(rule_set: str, language: str, today: dt.date) -> CaseDraft:
    """A new session's case: today's date and the defaults, nothing else entered."""
    return CaseDraft(
        rule_set=rule_set,
        counselled_on=today,
        patient=PatientDraft(handout_language=language),
    )


def dump_draft(draft: CaseDraft) -> bytes:
    """The draft as pretty, stable JSON: a case file with ``null`` where nothing is entered."""
    return msgspec.json.format(msgspec.json.encode(draft), indent=2) + b"\n"


def decode_draft(data: bytes) -> CaseDraft:
    """A draft as saved (extra members, such as the draft file's ``draft``, are ignored)."""
    return msgspec.json.decode(data, type=CaseDraft)


def load_case_or_draft(path: str) -> Case | CaseDraft:
    """A case file, or a case still to be completed (``null`` where nothing is entered yet, as
    ``next`` writes it). ``UserError`` when it is neither (the case's own message)."""
    data = read_case_bytes(path)
    try:
        return parse_case(data, source=path)
    except UserError as refused:
        try:
            draft = decode_draft(data)
            document = msgspec.json.decode(data, type=dict[str, object])
        except msgspec.DecodeError:
            raise refused from None
        # Only a file that says null where nothing is entered: one missing a field is refused.
        if not draft.not_entered() or not all(_has_key(document, p) for p in REQUIRED):
            raise
        return draft


def _has_key(document: dict[str, object], path: str) -> bool:
    owner, _, name = path.rpartition(".")
    inner = document.get(owner) if owner else document
    return isinstance(inner, dict) and name in inner
