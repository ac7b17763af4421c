"""The course across visits: the cumulative dose and, for the last fill, the dates after it.

The periods are the rule set's data (``after_course`` in ``rule_sets.json``), the target band is
the pack's ``course.json``; this module only counts. The cumulative dose is guidance: its finding
is always ``info``, never a block.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import msgspec

from pharmacist_tool.engine.assessment import AfterCourse

if TYPE_CHECKING:
    from pharmacist_tool.engine.rules import _Context

NOT_KNOWN = "not known"
"""Shown in a message for a date the rule set gives no period for."""


def _num(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _plus(day: dt.date, days: int | None) -> dt.date | None:
    if days is None:
        return None
    try:
        return day + dt.timedelta(days=days)
    except OverflowError:
        return dt.date.max


def cumulative_mg(ctx: _Context) -> float:
    """mg taken before this fill + this fill's daily dose x days' supply."""
    course, rx = ctx.case.course, ctx.case.prescription
    assert course is not None
    return round(course.cumulative_mg_before + rx.daily_dose_mg * rx.days_supply, 2)


def after_course(ctx: _Context) -> AfterCourse:
    """The dates after the last fill. The last dose is the supply's last day (fill day = day 1);
    a period of N days after it ends on last dose + N, and what may start again starts the day
    after."""
    case, rules = ctx.case, ctx.rules
    last_dose = _plus(case.counselled_on, case.prescription.days_supply - 1)
    assert last_dose is not None
    periods = rules.after_course
    pregnancy = ctx.can_get_pregnant

    def start_after(days: int | None) -> dt.date | None:
        return _plus(last_dose, None if days is None else days + 1)

    return AfterCourse(
        last_dose_on=last_dose,
        pregnancy_test_due=(
            _plus(last_dose, periods.pregnancy_test_days) if periods and pregnancy else None
        ),
        contraception_until=(
            _plus(last_dose, rules.contraception_after_last_dose_days) if pregnancy else None
        ),
        blood_donation_from=start_after(periods.blood_donation_days) if periods else None,
        cosmetic_procedures_from=(
            start_after(periods.cosmetic_procedures_days) if periods else None
        ),
    )


def check_course(ctx: _Context) -> dict[str, Any]:
    """Adds the course findings; returns the assessment's course fields (none without a
    ``course`` on the case)."""
    course = ctx.case.course
    if course is None:
        return {}
    total = cumulative_mg(ctx)
    per_kg = round(total / ctx.case.patient.weight_kg, 2)
    target = ctx.kb.course.cumulative_target
    values: dict[str, Any] = {
        "fill_number": course.fill_number,
        "cumulative_mg": _num(total),
        "cumulative_mg_per_kg": _num(per_kg),
        "weight_kg": _num(ctx.case.patient.weight_kg),
    }
    if target is None:
        wording = "course.cumulative-dose-no-target"
    else:
        values.update(target_min=_num(target.min_mg_per_kg), target_max=_num(target.max_mg_per_kg))
        if per_kg < target.min_mg_per_kg:
            wording = "course.cumulative-dose-below"
        elif per_kg > target.max_mg_per_kg:
            wording = "course.cumulative-dose-above"
        else:
            wording = "course.cumulative-dose-within"
    ctx.add("course.cumulative-dose", "dose", "info", wording=wording, **values)
    fields: dict[str, Any] = {"cumulative_mg": total, "cumulative_mg_per_kg": per_kg}
    if course.last_fill:
        dates = after_course(ctx)
        shown: dict[str, Any] = {
            name: value.isoformat() if isinstance(value, dt.date) else NOT_KNOWN
            for name, value in msgspec.structs.asdict(dates).items()
        }
        ctx.add(
            "course.after-course",
            "counselling",
            "info",
            wording=("course.after-course-can-get-pregnant" if ctx.can_get_pregnant else None),
            **shown,
        )
        fields["after_course"] = dates
    return fields
