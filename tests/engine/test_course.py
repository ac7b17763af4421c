"""The course on the case: cumulative dose, its info finding, and the dates after the last fill."""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest

from pharmacist_tool.case import Course, case_from_dict, case_to_dict
from pharmacist_tool.engine import assess
from pharmacist_tool.engine.assessment import AfterCourse, encode_assessment
from pharmacist_tool.errors import UserError
from pharmacist_tool.knowledge import load_knowledge_base
from tests.conftest import example_case

KB = load_knowledge_base()


def _with_course(stem: str, **course: object) -> dict[str, object]:
    data = case_to_dict(example_case(stem))
    data["course"] = course
    return data


def test_without_a_course_the_assessment_has_no_course_fields() -> None:
    encoded = encode_assessment(assess(example_case("01"), KB)).decode()
    for name in ("cumulative_mg", "after_course", "course.cumulative-dose"):
        assert name not in encoded


def test_cumulative_dose_counts_this_fill_on_this_visits_weight() -> None:
    # example 01: Claravis 20 mg x 1 x 2 a day, 30 days, 62 kg
    case = case_from_dict(
        _with_course("01", fill_number=3, cumulative_mg_before=2400, previous_fill_on="2026-10-26")
    )
    a = assess(case, KB)
    assert a.cumulative_mg == 3600
    assert a.cumulative_mg_per_kg == round(3600 / 62, 2) == 58.06
    assert a.after_course is msgspec.UNSET
    (finding,) = [f for f in a.findings if f.code == "course.cumulative-dose"]
    assert finding.severity == "info" and finding.category == "dose"
    assert "3600 mg" in finding.message and "58.06 mg/kg" in finding.message
    assert "120-150 mg/kg" in finding.message and "below" in finding.message
    assert finding.sources == ["S28", "S27b"]


@pytest.mark.parametrize(("before", "word"), [(0, "below"), (6600, "within"), (9000, "above")])
def test_the_target_band_is_guidance_never_a_block(before: int, word: str) -> None:
    case = case_from_dict(_with_course("01", fill_number=6, cumulative_mg_before=before))
    a = assess(case, KB)
    (finding,) = [f for f in a.findings if f.code == "course.cumulative-dose"]
    assert finding.severity == "info" and not finding.stands
    assert word in finding.message
    without = assess(example_case("01"), KB)
    assert a.dispense == without.dispense


def test_last_fill_us_dates_as_the_rule_set_says() -> None:
    # counselled 2026-11-25, 30 days' supply: last dose 2026-12-24
    case = case_from_dict(
        _with_course("01", fill_number=5, cumulative_mg_before=4800, last_fill=True)
    )
    a = assess(case, KB)
    assert a.after_course == AfterCourse(
        last_dose_on=dt.date(2026, 12, 24),
        pregnancy_test_due=dt.date(2027, 1, 23),
        contraception_until=dt.date(2027, 1, 23),
        blood_donation_from=dt.date(2027, 1, 24),
        cosmetic_procedures_from=dt.date(2027, 6, 26),
    )
    (finding,) = [f for f in a.findings if f.code == "course.after-course"]
    assert "2027-01-23" in finding.message and "2027-06-26" in finding.message
    assert finding.severity == "info"


def test_last_fill_uk_uses_the_later_final_test_and_no_test_for_who_cannot_get_pregnant() -> None:
    data = _with_course("06", fill_number=4, cumulative_mg_before=3000, last_fill=True)
    uk = assess(case_from_dict(data), KB)
    assert isinstance(uk.after_course, AfterCourse)
    last = uk.after_course.last_dose_on
    assert uk.after_course.pregnancy_test_due == last + dt.timedelta(days=35)
    assert uk.after_course.contraception_until == last + dt.timedelta(days=30)
    data["patient"]["can_get_pregnant"] = False  # type: ignore[index]
    data["pregnancy_tests"] = []
    other = assess(case_from_dict(data), KB)
    assert isinstance(other.after_course, AfterCourse)
    assert other.after_course.pregnancy_test_due is None
    assert other.after_course.contraception_until is None
    assert other.after_course.blood_donation_from == last + dt.timedelta(days=31)


def test_course_fields_are_checked() -> None:
    data = _with_course("01", fill_number=1, previous_fill_on="2026-10-01")
    with pytest.raises(UserError) as error:
        case_from_dict(data)
    assert "course.previous_fill_on" in str(error.value.details)
    data = _with_course("01", fill_number=0)
    with pytest.raises(UserError, match=r"course\.fill_number"):
        case_from_dict(data)
    data = case_to_dict(example_case("01"))
    data["programme_check"] = {"authorization_via": "phone", "outage": True}
    with pytest.raises(UserError) as error:
        case_from_dict(data)
    assert any("call_reference" in d for d in error.value.details)
    assert Course(fill_number=2).cumulative_mg_before == 0
