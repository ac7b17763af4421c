"""What changes between two versions of a rule set, in words, computed from their data.

Every field of ``RuleSetVersion`` that differs (except what names, dates and cites a version) is
one change; the words come from the field's label and the values' types, never from a list per
version. Each change says which patients it concerns, so a course is told only what is its.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from pharmacist_tool.knowledge.model import (
    AfterCourse,
    Duty,
    PatientCategory,
    RuleSetVersion,
    StaffTraining,
    TestSettingRule,
    Window,
)

NOT_RULES = frozenset(
    {
        "id",
        "title",
        "effective_from",
        "effective_from_unconfirmed",
        "sources",
        "last_reviewed",
        "unconfirmed",
        "contact",
    }
)
"""What names, dates or cites a version (or says how sure its date is): not a rule that
changes."""

LABELS: dict[str, str] = {
    "requires_authorization": "programme authorization needed",
    "authorization_label": "what the authorization is called",
    "max_days_supply": "days' supply at most",
    "supply_limit_applies_to": "the supply limit applies to",
    "refills_allowed": "refills allowed",
    "refill_rule_applies_to": "the refill rule applies to",
    "window_can_get_pregnant": "pick-up window",
    "window_cannot_get_pregnant": "pick-up window",
    "test_max_days_before_prescription": "test must be at most this many days before the "
    "prescription",
    "test_interval_days": "days between pregnancy tests",
    "pregnancy_test": "pregnancy test at the counter",
    "test_setting": "home pregnancy tests",
    "contraception_rule": "contraception rule",
    "abstinence_accepted": "abstinence accepted as contraception",
    "contraception_after_last_dose_days": "days of contraception after the last dose",
    "under_18_second_prescriber": "a second prescriber for under-18s",
    "second_prescriber_below_age": "a second prescriber below the age of",
    "programme": "a pregnancy prevention programme (its blocks cannot be overridden)",
    "never_clear": "findings no resolution clears",
    "severities": "severities changed from the engine's",
    "after_course": "dates after the last fill",
    "staff_training": "staff training, with records",
}
"""Words for each field (a field not listed is named by its own name)."""

Concerns = PatientCategory | Literal["staff"]
"""Which patients a change is about; ``staff``: the pharmacy's staff, no patient's course."""

CONCERNS: dict[str, Concerns] = {
    "staff_training": "staff",
    "window_can_get_pregnant": "can-get-pregnant",
    "window_cannot_get_pregnant": "cannot-get-pregnant",
    "test_max_days_before_prescription": "can-get-pregnant",
    "test_interval_days": "can-get-pregnant",
    "pregnancy_test": "can-get-pregnant",
    "test_setting": "can-get-pregnant",
    "contraception_rule": "can-get-pregnant",
    "abstinence_accepted": "can-get-pregnant",
    "contraception_after_last_dose_days": "can-get-pregnant",
}
"""The patients a field's rule is about (a field not listed concerns every patient)."""

SUPPLY_FIELDS = {
    "max_days_supply": "supply_limit_applies_to",
    "refills_allowed": "refill_rule_applies_to",
}
"""Fields whose patients the version itself says (in the named field)."""

ANCHORS = {
    "latest-pregnancy-test": "the latest pregnancy test",
    "prescribed-on": "the prescription",
}
CATEGORY_WORDS = {
    "all": "every patient",
    "can-get-pregnant": "patients who can get pregnant",
    "cannot-get-pregnant": "patients who cannot get pregnant",
}
HOME_TESTS = {
    "never": "never accepted (every test in a medical setting)",
    "after-first-fill": "accepted from the second fill, where the prescriber allows",
}


class RuleChange(msgspec.Struct, frozen=True):
    field: str
    words: str
    concerns: Concerns


def _value(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Window):
        return f"{value.days} days from {ANCHORS.get(value.anchor, value.anchor)}"
    if isinstance(value, TestSettingRule):
        return HOME_TESTS.get(value.home_tests, value.home_tests)
    if isinstance(value, StaffTraining):
        checked = ", checked before signing" if value.required_before_signing else ""
        return f"every {value.every_days} days{checked}"
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "none"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in sorted(value.items())) or "none"
    if isinstance(value, str):
        return CATEGORY_WORDS.get(value, value.replace("-", " "))
    return str(value)


def _words(field: str, old: object, new: object) -> str:
    label = LABELS.get(field, field.replace("_", " "))
    if isinstance(old, Window) and new is None:
        return f"no {old.days}-day {label} now (was {_value(old)})"
    if isinstance(new, Window) and old is None:
        return f"a {new.days}-day {label} now, from {ANCHORS.get(new.anchor, new.anchor)}"
    if isinstance(old, TestSettingRule) or isinstance(new, TestSettingRule):
        before = old.home_tests if isinstance(old, TestSettingRule) else "never"
        after = new.home_tests if isinstance(new, TestSettingRule) else "never"
        if before == after:
            return f"{label}: the sources or notes changed"
        if after != "never":
            return "home test allowed at the next visit, where the prescriber allows it"
        return "a home test no longer counts: the next test must be in a medical setting"
    if isinstance(old, int | float) and not isinstance(old, bool) and new is None:
        return f"no limit now: {label} (was {_value(old)})"
    if isinstance(new, int | float) and not isinstance(new, bool) and old is None:
        return f"{label}: {_value(new)} now (no limit before)"
    return f"{label}: {_value(new)} now (was {_value(old)})"


def _after_course_changes(old: AfterCourse | None, new: AfterCourse | None) -> list[RuleChange]:
    if old is None or new is None:
        return [RuleChange("after_course", _words("after_course", old, new), "all")]
    return [
        RuleChange(
            f"after_course.{name}",
            _words(name, getattr(old, name), getattr(new, name)),
            "all",
        )
        for name in new.__struct_fields__
        if name not in NOT_RULES and getattr(old, name) != getattr(new, name)
    ]


def _duty_changes(old: list[Duty], new: list[Duty]) -> list[RuleChange]:
    """A programme duty asked at the counter now, or no longer, or asked differently."""
    before = {d.id: d for d in old}
    after = {d.id: d for d in new}
    changes = []
    for duty in new:
        words = duty.words.get("en", duty.id)
        was = before.get(duty.id)
        if was is None:
            changes.append(RuleChange(f"duties.{duty.id}", f"asked now: {words}", duty.patient))
        elif _rule_of(was) != _rule_of(duty):
            changes.append(
                RuleChange(f"duties.{duty.id}", f"asked differently now: {words}", duty.patient)
            )
    for duty in old:
        if duty.id not in after:
            words = duty.words.get("en", duty.id)
            changes.append(
                RuleChange(f"duties.{duty.id}", f"no longer asked: {words}", duty.patient)
            )
    return changes


def _rule_of(duty: Duty) -> tuple[object, ...]:
    """What a duty asks (not its words, sources or notes)."""
    return (duty.kind, duty.patient, duty.when, duty.form_valid_days)


def _concerns(field: str, old: RuleSetVersion, new: RuleSetVersion) -> Concerns:
    if field in SUPPLY_FIELDS:
        categories = {getattr(v, SUPPLY_FIELDS[field]) for v in (old, new)}
        return categories.pop() if len(categories) == 1 else "all"
    return CONCERNS.get(field, "all")


def rule_changes(old: RuleSetVersion, new: RuleSetVersion) -> list[RuleChange]:
    """Every rule that differs from ``old`` to ``new``, in the order the version declares it."""
    changes: list[RuleChange] = []
    for field in new.__struct_fields__:
        if field in NOT_RULES:
            continue
        before, after = getattr(old, field), getattr(new, field)
        if before == after:
            continue
        if field == "after_course":
            changes += _after_course_changes(before, after)
            continue
        if field == "duties":
            changes += _duty_changes(before, after)
            continue
        if (
            isinstance(before, TestSettingRule)
            and isinstance(after, TestSettingRule)
            and before.home_tests == after.home_tests
        ):
            continue  # only its sources or notes changed: no rule changed
        changes.append(RuleChange(field, _words(field, before, after), _concerns(field, old, new)))
    return changes


def concerns_patient(change: RuleChange, can_get_pregnant: bool) -> bool:
    if change.concerns == "staff":
        return False
    if change.concerns == "all":
        return True
    return (change.concerns == "can-get-pregnant") == can_get_pregnant
