"""The programme's duties on a supply: which apply, what the record of each says, and what
stands before signing while one is not recorded as a fact."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

from pharmacist_tool.case import Case, case_from_dict, case_to_dict, load_case
from pharmacist_tool.engine import assess
from pharmacist_tool.engine.assessment import Assessment
from pharmacist_tool.engine.readiness import Need, missing_for_signing, outstanding
from pharmacist_tool.errors import UserError
from pharmacist_tool.knowledge import load_knowledge_base
from tests.conftest import FIXTURES, run_cli

DUTIES = FIXTURES / "duties"
VALPROATE = DUTIES / "valproate-duties-recorded.json"
FOLLOW_UP = DUTIES / "isotretinoin-uk-follow-up.json"


def _case(path: Path, **changes: Any) -> Case:
    data = case_to_dict(load_case(path))
    data.update(changes)
    return case_from_dict(data)


def _assess(case: Case) -> Assessment:
    return assess(case, load_knowledge_base(case.prescription.medicine and _pack(case)))


def _pack(case: Case) -> str:
    return "valproate" if "Epilim" in case.prescription.medicine else "isotretinoin"


def _duties(a: Assessment) -> dict[str, Any]:
    assert isinstance(a.duties, list)
    return {d.id: d for d in a.duties}


def _duty_lines(case: Case, a: Assessment) -> list[str]:
    return [o.text for o in outstanding(case, a) if o.need is Need.DUTY]


def test_every_duty_recorded_as_a_fact_leaves_nothing_standing() -> None:
    case = load_case(VALPROATE)
    a = _assess(case)
    duties = _duties(a)
    assert list(duties) == [
        "patient-card",
        "patient-guide",
        "whole-original-pack",
        "risk-acknowledgement-form",
    ]
    assert duties["patient-card"].value == "given"
    pack = duties["whole-original-pack"]
    assert (pack.done, pack.reason) == (False, case.supply_duties["whole-original-pack"].reason)
    assert pack.value.startswith("not given: Monitored dosage system")
    form = duties["risk-acknowledgement-form"]
    assert form.form_date == dt.date(2026, 1, 5)
    assert form.form_valid_until == dt.date(2027, 1, 4)  # the form's date is day 1 of 365
    assert not form.form_expired
    assert form.sources == ["V5", "V6", "V7"]
    assert _duty_lines(case, a) == []


def test_a_duty_not_recorded_stands_before_a_hand_over() -> None:
    case = _case(VALPROATE, supply_duties={"patient-guide": {"done": True}})
    a = _assess(case)
    lines = _duty_lines(case, a)
    assert lines == [
        "Programme duty: Patient card given: not recorded (supply_duties.patient-card)",
        "Programme duty: Whole original pack dispensed: not recorded "
        "(supply_duties.whole-original-pack)",
        "Programme duty: Annual Risk Acknowledgement Form seen (its date): not recorded "
        "(supply_duties.risk-acknowledgement-form)",
    ]
    assert set(lines) <= set(missing_for_signing(case, a))
    # the duties never change whether the medicine may be dispensed
    assert a.dispense == _assess(load_case(VALPROATE)).dispense


def test_not_handed_over_needs_no_duty() -> None:
    case = _case(
        VALPROATE,
        supply_duties={},
        outcome={"status": "not-handed-over", "reason": "Came back tomorrow"},
    )
    assert _duty_lines(case, _assess(case)) == []


def test_counselling_declined_still_records_the_duties_of_the_supply() -> None:
    case = _case(
        VALPROATE, supply_duties={}, outcome={"status": "declined", "reason": "In a hurry"}
    )
    assert len(_duty_lines(case, _assess(case))) == 4


def test_a_form_seen_needs_its_date_and_an_expired_form_stands() -> None:
    duties = case_to_dict(load_case(VALPROATE))["supply_duties"]
    undated = _case(
        VALPROATE, supply_duties={**duties, "risk-acknowledgement-form": {"done": True}}
    )
    assert _duty_lines(undated, _assess(undated)) == [
        "Programme duty: Annual Risk Acknowledgement Form seen (its date): give the date the "
        "form bears (supply_duties.risk-acknowledgement-form)"
    ]
    old = {"done": True, "form_date": "2025-11-25"}  # valid until 2026-11-24, the day before
    expired = _case(VALPROATE, supply_duties={**duties, "risk-acknowledgement-form": old})
    a = _assess(expired)
    assert _duties(a)["risk-acknowledgement-form"].form_expired
    assert _duty_lines(expired, a) == [
        "Programme duty: Annual Risk Acknowledgement Form seen (its date): the form dated "
        "2025-11-25 expired on 2026-11-24: record the date of an in-date form, or 'not seen' "
        "and why (supply_duties.risk-acknowledgement-form)"
    ]
    on_its_last_day = {"done": True, "form_date": "2025-11-26"}
    in_date = _case(
        VALPROATE, supply_duties={**duties, "risk-acknowledgement-form": on_its_last_day}
    )
    assert _duty_lines(in_date, _assess(in_date)) == []
    not_seen = {"done": False, "reason": "No form; GP asked for the annual review"}
    told = _case(VALPROATE, supply_duties={**duties, "risk-acknowledgement-form": not_seen})
    assert _duties(_assess(told))["risk-acknowledgement-form"].value == (
        "not seen: No form; GP asked for the annual review"
    )
    assert _duty_lines(told, _assess(told)) == []


def test_the_form_is_asked_only_of_a_patient_who_can_get_pregnant() -> None:
    data = case_to_dict(load_case(VALPROATE))
    data["patient"] = {**data["patient"], "can_get_pregnant": False, "sex": "male"}
    data["contraception"] = []
    case = case_from_dict(data)
    assert "risk-acknowledgement-form" not in _duties(_assess(case))


def test_a_referral_is_asked_when_a_warning_that_never_clears_is_handed_over() -> None:
    positive = [{"date": "2026-11-24", "result": "positive"}]
    resolutions = {
        "pregnancy-test.positive": {"action": "plan-changed", "note": "GP phoned, seen today"}
    }
    case = _case(VALPROATE, pregnancy_tests=positive, resolutions=resolutions)
    a = _assess(case)
    assert "referral" in _duties(a)
    assert _duty_lines(case, a) == [
        "Programme duty: Referral made (a warning that never clears was handed over): not "
        "recorded (supply_duties.referral)"
    ]
    made = {**case_to_dict(case)["supply_duties"], "referral": {"done": True}}
    recorded = _case(
        VALPROATE, pregnancy_tests=positive, resolutions=resolutions, supply_duties=made
    )
    assert _duties(_assess(recorded))["referral"].value == "made"
    assert "referral" not in _duties(_assess(load_case(VALPROATE)))


def test_the_sexual_function_question_is_asked_at_follow_ups_only() -> None:
    follow_up = load_case(FOLLOW_UP)
    a = _assess(follow_up)
    question = _duties(a)["sexual-function-question"]
    assert question.value == "asked: no new problem"
    assert "S98" in question.sources and "S99" in question.sources
    assert _duty_lines(follow_up, msgspec.structs.replace(a)) == []
    first = _case(FOLLOW_UP, course={"fill_number": 1})
    assert "sexual-function-question" not in _duties(_assess(first))
    unanswered = _case(
        FOLLOW_UP,
        outcome={"status": "handed-over"},
        supply_duties={
            **case_to_dict(follow_up)["supply_duties"],
            "sexual-function-question": {"done": True},
        },
    )
    assert _duty_lines(unanswered, _assess(unanswered)) == [
        "Programme duty: Asked about sexual function (any new problem since the last visit): "
        "record the answer (supply_duties.sexual-function-question)"
    ]


def test_before_october_2025_the_uk_isotretinoin_rules_ask_no_question() -> None:
    case = _case(
        FOLLOW_UP,
        counselled_on="2025-06-02",
        prescription={
            **case_to_dict(load_case(FOLLOW_UP))["prescription"],
            "prescribed_on": "2025-06-01",
        },
        pregnancy_tests=[{"date": "2025-05-31", "result": "negative"}],
        course={"fill_number": 2},
        supply_duties={},
    )
    a = _assess(case)
    assert a.knowledge_base.rules_version == "uk-ppp-2023"
    assert "sexual-function-question" not in _duties(a)


def test_a_rule_set_without_duties_says_nothing_of_them() -> None:
    data = case_to_dict(load_case(VALPROATE))
    data.update(rule_set="US-label", supply_duties={})
    a = _assess(case_from_dict(data))
    assert a.duties is msgspec.UNSET
    assert "duties" not in json.loads(msgspec.json.encode(a))


@pytest.mark.parametrize(
    ("duty", "problem"),
    [
        ({"done": False}, "supply_duties.patient-card.reason: say why it was not done"),
        (
            {"done": True, "form_date": "2026-12-01"},
            "supply_duties.patient-card.form_date: is after counselled_on",
        ),
        (
            {"done": False, "reason": "none", "form_date": "2026-01-01"},
            "supply_duties.patient-card.form_date: a form not seen has no date (leave it out)",
        ),
    ],
)
def test_a_duty_recorded_without_sense_is_refused(duty: dict[str, Any], problem: str) -> None:
    with pytest.raises(UserError) as error:
        _case(VALPROATE, supply_duties={"patient-card": duty})
    assert problem in error.value.details


def test_the_command_line_names_a_bad_duty_and_exits_2(tmp_path: Path) -> None:
    data = json.loads(VALPROATE.read_text(encoding="utf-8"))
    data["supply_duties"]["patient-card"] = {"done": "yes"}
    path = tmp_path / "case.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    done = run_cli("assess", str(path))
    assert done.returncode == 2
    assert b"supply_duties.patient-card.done: must be true or false, not text" in done.stderr
    answer = run_cli("assess", str(FOLLOW_UP))
    assert answer.returncode == 0
    shown = {d["id"]: d for d in json.loads(answer.stdout)["duties"]}
    assert shown["sexual-function-question"]["answer"] == "no-change"
