"""The case document: load, validate, save; errors name the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pharmacist_tool.case import (
    case_from_dict,
    case_to_dict,
    dump_case,
    load_case,
    parse_case,
    save_case,
)
from pharmacist_tool.errors import UserError
from tests.conftest import EXAMPLE_FILES, example_case


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_examples_load_and_round_trip(path: Path, tmp_path: Path) -> None:
    case = load_case(path)
    copy = tmp_path / "copy.json"
    save_case(case, copy)
    assert load_case(copy) == case
    assert dump_case(load_case(copy)) == dump_case(case)


def test_daily_dose_is_strength_times_units_times_doses() -> None:
    case = example_case("01")
    assert case.prescription.daily_dose_mg == 20 * 1 * 2


def _broken(change: dict[str, object]) -> dict[str, object]:
    data = case_to_dict(example_case("01"))
    for dotted, value in change.items():
        target = data
        *parents, leaf = dotted.split(".")
        for key in parents:
            target = target[key]  # type: ignore[assignment]
        if value is ...:
            del target[leaf]
        else:
            target[leaf] = value
    return data


@pytest.mark.parametrize(
    ("change", "named", "said"),
    [
        ({"patient.weight_kg": -3}, "patient.weight_kg", "more than 0"),
        ({"patient.weight_kg": "sixty"}, "patient.weight_kg", "must be a number"),
        ({"patient.weight_kg": True}, "patient.weight_kg", "must be a number"),
        ({"patient.weight_kg": 2000}, "patient.weight_kg", "at most 400"),
        ({"patient.name": ...}, "patient.name", "required"),
        ({"prescription": ...}, "prescription", "required"),
        ({"counselled_on": "2026-02-30"}, "counselled_on", "not a real date"),
        ({"counselled_on": "yesterday"}, "counselled_on", "not a real date"),
        ({"alcohol": "lots"}, "alcohol", "none, occasional or regular"),
        ({"prescription.refills": -1}, "prescription.refills", "at least 0"),
        ({"prescription.days_supply": 0}, "prescription.days_supply", "at least 1"),
        ({"prescription.prescribed_on": "2027-01-01"}, "prescription.prescribed_on", "after"),
        ({"patient.date_of_birth": "2030-01-01"}, "patient.date_of_birth", "before"),
        ({"patient.name": "   "}, "patient.name", "empty"),
        ({"format": "other/case@9"}, "format", "pharmacist-tool/case@1"),
        ({"medicines": "doxycycline"}, "medicines", "a list"),
    ],
)
def test_bad_input_names_the_field(change: dict[str, object], named: str, said: str) -> None:
    with pytest.raises(UserError) as caught:
        case_from_dict(_broken(change))
    message = str(caught.value)
    assert named in message
    assert said in message


def test_pregnancy_test_in_the_future_is_refused() -> None:
    data = _broken({})
    data["pregnancy_tests"] = [{"date": "2026-12-01", "result": "negative"}]
    with pytest.raises(UserError, match=r"pregnancy_tests\[0\]\.date"):
        case_from_dict(data)


def test_not_json_is_explained() -> None:
    with pytest.raises(UserError, match="not valid JSON"):
        parse_case(b"{ this is not json")


def test_missing_file_is_explained(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not found"):
        load_case(tmp_path / "nope.json")


def test_unknown_extra_fields_are_accepted() -> None:
    data = case_to_dict(example_case("01"))
    data["pharmacy_note"] = "extension"
    assert case_from_dict(data).patient.name == "Ana García"


def test_saved_file_is_utf8_json(tmp_path: Path) -> None:
    target = tmp_path / "case.json"
    save_case(example_case("01"), target)
    assert json.loads(target.read_text(encoding="utf-8"))["patient"]["name"] == "Ana García"
