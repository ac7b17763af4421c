"""The programme's duties on this supply, as facts (the rule set's ``duties``, the case's
``supply_duties``).

Each duty that applies to this patient and visit is listed with what was recorded of it: given
or not and why, a form's date and the last day it is valid, a question's answer. A duty that
applies and is not recorded stands before signing a hand-over (``readiness``); the list never
changes whether the medicine may be dispensed.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import msgspec

from pharmacist_tool.case import Case, SupplyDuty

if TYPE_CHECKING:
    from pharmacist_tool.engine.assessment import Finding
    from pharmacist_tool.knowledge.model import Duty, RuleSetVersion

DONE_WORDS = {
    "given": ("given", "not given"),
    "seen-with-date": ("seen", "not seen"),
    "referral": ("made", "not made"),
    "asked": ("asked", "not asked"),
}
ANSWER_WORDS = {"no-change": "no new problem", "change-reported": "a new problem reported"}


class DutyEntry(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One duty of the programme on this supply, and what was recorded of it."""

    id: str
    kind: str
    words: str
    """The duty in the pharmacist's words (English)."""
    recorded: bool
    value: str = ""
    """What was recorded, in words ("not given: out of stock"; "seen, dated 2026-03-02")."""
    done: bool | None = None
    reason: str = ""
    form_date: dt.date | None = None
    form_valid_until: dt.date | None = None
    """The form's last valid day (its date is day 1 of ``form_valid_days``)."""
    form_expired: bool = False
    """The form had expired on the day of the visit."""
    answer: str | None = None
    sources: list[str] = msgspec.field(default_factory=list)


def form_valid_until(form_date: dt.date, valid_days: int) -> dt.date:
    return form_date + dt.timedelta(days=valid_days - 1)


def applies(duty: Duty, case: Case, findings: list[Finding], rules: RuleSetVersion) -> bool:
    """The duty is asked of this patient at this visit."""
    if duty.patient != "all" and (duty.patient == "can-get-pregnant") != (
        case.patient.can_get_pregnant
    ):
        return False
    if duty.when == "follow-up":
        return case.course is not None and case.course.fill_number > 1
    if duty.when == "after-never-clear-warning":
        return any(f.code in rules.never_clear and f.severity == "warn" for f in findings)
    return True


def duty_entries(case: Case, rules: RuleSetVersion, findings: list[Finding]) -> list[DutyEntry]:
    """Each duty of the rule set that applies, with what the case records of it."""
    return [
        entry(duty, case.supply_duties.get(duty.id), case.counselled_on)
        for duty in rules.duties
        if applies(duty, case, findings, rules)
    ]


def entry(duty: Duty, said: SupplyDuty | None, on: dt.date) -> DutyEntry:
    words = duty.words.get("en") or next(iter(duty.words.values()), duty.id)
    base = DutyEntry(
        id=duty.id, kind=duty.kind, words=words, recorded=False, sources=list(duty.sources)
    )
    if said is None:
        return base
    yes, no = DONE_WORDS[duty.kind]
    value = yes if said.done else f"{no}: {said.reason.strip()}"
    until = None
    if duty.form_valid_days is not None and said.form_date is not None:
        until = form_valid_until(said.form_date, duty.form_valid_days)
        value += f", dated {said.form_date.isoformat()} (valid until {until.isoformat()})"
    if said.answer is not None:
        value += f": {ANSWER_WORDS[said.answer]}"
    return msgspec.structs.replace(
        base,
        recorded=True,
        value=value,
        done=said.done,
        reason=said.reason.strip(),
        form_date=said.form_date,
        form_valid_until=until,
        form_expired=until is not None and until < on,
        answer=said.answer,
    )


def incomplete(item: DutyEntry) -> str:
    """What the record of a duty still lacks (empty: nothing)."""
    if not item.recorded:
        return "not recorded"
    if item.done and item.kind == "seen-with-date" and item.form_date is None:
        return "give the date the form bears"
    if item.form_expired:
        return (
            f"the form dated {item.form_date} expired on {item.form_valid_until}: record the "
            "date of an in-date form, or 'not seen' and why"
        )
    if item.done and item.kind == "asked" and item.answer is None:
        return "record the answer"
    return ""
