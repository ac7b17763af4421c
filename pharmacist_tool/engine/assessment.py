"""The assessment: what the engine says of a case (contract ``pharmacist-tool/assessment@1``)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

import msgspec

from pharmacist_tool.engine.duties import DutyEntry
from pharmacist_tool.engine.resolutions import says_something
from pharmacist_tool.knowledge.model import Severity

ASSESSMENT_FORMAT = "pharmacist-tool/assessment@1"

Category = Literal[
    "interaction", "pregnancy-prevention", "prescription", "dose", "safety", "counselling"
]
Dispense = Literal["do-not-dispense", "needs-action", "ok"]


class KnowledgeBaseRef(msgspec.Struct, kw_only=True):
    medicine: str
    version: str
    rule_set: str
    rules_effective_from: dt.date
    rules_version: str


class Finding(msgspec.Struct, kw_only=True, omit_defaults=False):
    code: str
    category: Category
    severity: Severity
    subject: str | None
    message: str
    action: str
    sources: list[str]
    programme_rule: bool = False
    """A programme rule's block cannot be overridden; everything else needs a resolution."""
    resolution: str | None = None
    """What the pharmacist recorded about it (from the case's ``resolutions``)."""

    @property
    def needs_resolution(self) -> bool:
        return self.severity in ("warn", "block") and not self.programme_rule

    @property
    def stands(self) -> bool:
        """Still stands between the patient and the medicine (or the signature)."""
        if self.severity == "info":
            return False
        if self.programme_rule:
            return True
        return not says_something(self.resolution)


class ChecklistEntry(msgspec.Struct, kw_only=True):
    id: str
    title: str
    required: bool
    done: bool
    script: str = ""


class AfterCourse(msgspec.Struct, kw_only=True, omit_defaults=False):
    """The dates after a course's last fill, as the rule set says (``None``: does not apply to
    this patient, or the rule set gives no period the tool can count on)."""

    last_dose_on: dt.date
    pregnancy_test_due: dt.date | None
    contraception_until: dt.date | None
    blood_donation_from: dt.date | None
    cosmetic_procedures_from: dt.date | None


class MedicineScreened(msgspec.Struct, kw_only=True, omit_defaults=False):
    """How one line of the patient's medicines was screened (contract ``medicines_screened``)."""

    line: str
    recognised_as: str | None
    """The substance(s) the line names ("sertraline"), or None: the line was not screened."""
    codes: list[str]
    """The finding codes this line raised (``interaction.*``, ``medicine.unrecognised``)."""


class Assessment(msgspec.Struct, kw_only=True):
    format: str = ASSESSMENT_FORMAT
    knowledge_base: KnowledgeBaseRef
    dispense: Dispense
    findings: list[Finding]
    checklist: list[ChecklistEntry]
    daily_dose_mg: float
    dose_mg_per_kg_per_day: float
    pick_up_by: dt.date | None
    next_pregnancy_test_due: dt.date | None
    product: str = ""
    """The product the prescription names, as the knowledge base shows it."""
    cumulative_mg: float | msgspec.UnsetType = msgspec.UNSET
    """With the case's ``course``: mg taken before + this fill's daily dose x days' supply."""
    cumulative_mg_per_kg: float | msgspec.UnsetType = msgspec.UNSET
    """``cumulative_mg`` on this visit's weight."""
    after_course: AfterCourse | msgspec.UnsetType = msgspec.UNSET
    """With the course's last fill: the dates after it."""
    medicines_screened: list[MedicineScreened] = msgspec.field(default_factory=list)
    """One entry per line of the case's ``medicines``, in the case's order."""
    duties: list[DutyEntry] | msgspec.UnsetType = msgspec.UNSET
    """The programme's duties on this supply that apply, with what was recorded of each (only
    for a rule set that lists duties)."""


def encode_assessment(assessment: Assessment) -> bytes:
    """Stable pretty JSON: the same case always gives the same bytes."""
    return msgspec.json.format(msgspec.json.encode(assessment), indent=2) + b"\n"
