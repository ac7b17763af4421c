"""What still stands between a session and its signature, by outcome, as typed objects.

- handed over: no finding may stand (programme blocks cannot be cleared, everything else needs a
  recorded resolution; a warning that never clears, such as a positive test where the programme
  has the pharmacist dispense and refer, stands on the record but with what was done recorded
  no longer stops the hand-over), every required counselling point is confirmed and every
  programme duty on the supply is recorded as a fact (a card given or not and why, a form's
  date);
- not handed over: a reason is enough; the findings are recorded as they stand;
- counselling declined: a reason, nothing may block handing the medicine over, and the
  programme's duties on the supply are recorded (the medicine is still supplied);
- whatever the outcome: no fact carried from the last visit stands unconfirmed, and a change of
  the risk category since then says who decided it and why (a signed record never holds a
  carried fact that nobody confirmed).

``outstanding`` gives each as an ``Outstanding`` (what kind, the finding or counselling point or
fact concerned); ``missing_for_signing`` gives the engine's lines, for the command line and the
log.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from pharmacist_tool.case import Case, RiskCategoryChange
from pharmacist_tool.engine.assessment import Assessment, ChecklistEntry, Finding
from pharmacist_tool.engine.carried import RiskChange, risk_change, unconfirmed
from pharmacist_tool.engine.duties import DutyEntry, incomplete
from pharmacist_tool.engine.resolutions import says_something


class Need(enum.Enum):
    OUTCOME = "outcome"
    REASON = "reason"
    FINDING = "finding"
    COUNSELLING_POINT = "counselling-point"
    CARRIED_FACT = "carried-fact"
    RISK_CATEGORY_CHANGE = "risk-category-change"
    DUTY = "duty"


@dataclass(frozen=True)
class Outstanding:
    """One thing that stands before signing."""

    need: Need
    text: str
    """The engine's line (names codes and ids: for the command line and the log)."""
    finding: Finding | None = None
    point: ChecklistEntry | None = None
    fact: str | None = None
    """The carried fact concerned (``weight``…)."""
    carried_value: str | None = None
    change: RiskChange | None = None
    duty: DutyEntry | None = None


def outstanding(case: Case, assessment: Assessment) -> list[Outstanding]:
    return [*_by_outcome(case, assessment), *_carried(case)]


def missing_for_signing(case: Case, assessment: Assessment) -> list[str]:
    return [item.text for item in outstanding(case, assessment)]


def _by_outcome(case: Case, assessment: Assessment) -> list[Outstanding]:
    outcome = case.outcome
    if outcome is None:
        return [
            Outstanding(
                Need.OUTCOME,
                "Choose the outcome: handed over, not handed over, or counselling declined",
            )
        ]
    if outcome.status == "not-handed-over":
        if outcome.reason.strip():
            return []
        return [Outstanding(Need.REASON, "Give the reason the medicine was not handed over")]
    findings = [
        Outstanding(Need.FINDING, f"{f.severity.upper()} {f.code}: {f.message}", finding=f)
        for f in assessment.findings
        if f.stands and not _answered_for_hand_over(f)
    ]
    if outcome.status == "declined":
        blocks = [item for item in findings if item.finding and item.finding.severity == "block"]
        if not outcome.reason.strip():
            blocks.insert(0, Outstanding(Need.REASON, "Give the reason counselling was declined"))
        return blocks + _duties(assessment)
    return (
        findings
        + _duties(assessment)
        + [
            Outstanding(
                Need.COUNSELLING_POINT,
                f"Counselling point not confirmed: {item.title} ({item.id})",
                point=item,
            )
            for item in assessment.checklist
            if item.required and not item.done
        ]
    )


def _duties(assessment: Assessment) -> list[Outstanding]:
    """The programme's duties on a supply not yet recorded as facts."""
    duties = assessment.duties if isinstance(assessment.duties, list) else []
    return [
        Outstanding(
            Need.DUTY,
            f"Programme duty: {item.words}: {lacks} (supply_duties.{item.id})",
            duty=item,
        )
        for item in duties
        if (lacks := incomplete(item))
    ]


def _answered_for_hand_over(finding: Finding) -> bool:
    """A warning that never clears (a positive test where the programme has the pharmacist
    dispense and refer, so the patient is not cut off from an anticonvulsant) still stands on the
    record and the sheet, but with what was done recorded it no longer stops the hand-over. A
    block that never clears always does."""
    return finding.severity == "warn" and says_something(finding.resolution)


def _carried(case: Case) -> list[Outstanding]:
    items = [
        Outstanding(
            Need.CARRIED_FACT,
            f"Carried from the last visit and not confirmed: {fact.key}: {value} "
            f"(carried.confirmed: confirm it with the patient, or change it)",
            fact=fact.key,
            carried_value=value,
        )
        for fact, value in unconfirmed(case)
    ]
    change = risk_change(case)
    if change is not None and not risk_change_explained(case.risk_category_change, change):
        items.append(
            Outstanding(
                Need.RISK_CATEGORY_CHANGE,
                f"The risk category changed {change.words} since the last visit: record who "
                "decided it and why (risk_category_change.decided_by, .reason)",
                fact="can get pregnant",
                change=change,
            )
        )
    return items


def risk_change_explained(said: RiskCategoryChange | None, change: RiskChange) -> bool:
    """The change recorded says who decided it and why, and is this change."""
    return (
        said is not None
        and (said.before, said.now) == (change.before, change.now)
        and bool(said.decided_by.strip())
        and bool(said.reason.strip())
    )
