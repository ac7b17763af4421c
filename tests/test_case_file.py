"""The case document: load, validate, save; errors name the field."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pharmacist_tool.case import (
    MAX_CASE_BYTES,
    case_from_dict,
    case_to_dict,
    dump_case,
    load_case,
    parse_case,
    plausible_weights,
    save_case,
)
from pharmacist_tool.errors import UserError
from tests.conftest import EXAMPLE_FILES, example_case, run_cli


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
        ({"resolutions": {"x" * 201: "ok"}}, "resolutions (a key)", "at most 200 characters"),
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


# -- a weight that cannot be the patient's is refused like an impossible date -------------------


@pytest.mark.parametrize(
    ("born", "weight", "said"),
    [
        ("1999-01-01", 1, "1 kg is not a plausible weight at age 27 (plausible: 20–400 kg)"),
        ("1999-01-01", 12, "plausible: 20–400 kg"),
        ("2022-01-01", 150, "at age 4 (plausible: 5–50 kg)"),
        ("2012-06-01", 5, "at age 14 (plausible: 10–250 kg)"),
    ],
)
def test_implausible_weight_for_the_age_is_refused(born: str, weight: float, said: str) -> None:
    data = _broken({"patient.date_of_birth": born, "patient.weight_kg": weight})
    with pytest.raises(UserError) as caught:
        case_from_dict(data)
    assert "patient.weight_kg" in str(caught.value)
    assert said in str(caught.value)


@pytest.mark.parametrize(
    ("born", "weight"),
    [("1999-01-01", 20), ("1999-01-01", 250), ("2012-06-01", 28), ("2008-01-01", 160)],
)
def test_weights_at_the_edges_of_growth_are_accepted(born: str, weight: float) -> None:
    data = _broken({"patient.date_of_birth": born, "patient.weight_kg": weight})
    assert case_from_dict(data).patient.weight_kg == weight


def test_the_plausible_weights_are_cited_data() -> None:
    table = plausible_weights()
    assert table.sources and all(s.url for s in table.sources.values())
    ages = [age for band in table.bands for age in range(band.from_age, band.to_age + 1)]
    assert ages == list(range(0, 121)), "every age from 0 to 120 in exactly one band"
    assert all(0 < b.min_kg < b.max_kg <= 400 for b in table.bands)


# -- names are plain text on one line --------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("patient.name", "Ana\nGarcía", "U+000A"),
        ("patient.name", "Tab\tName", "U+0009"),
        ("patient.name", "Ana\x00García", "U+0000"),
        ("patient.name", "Esc\x1b[31mRed", "U+001B"),
        ("patient.name", "C1\x85Name", "U+0085"),
        ("patient.name", "Line\u2028Sep", "U+2028"),
        ("prescription.prescriber", "Dr R.\rOsei", "U+000D"),
        ("prescription.prescriber", "Dr\x7fOsei", "U+007F"),
        ("prescription.authorization", "RMA-001\n", "U+000A"),
    ],
)
def test_control_characters_in_names_are_refused(field: str, value: str, code: str) -> None:
    with pytest.raises(UserError) as caught:
        case_from_dict(_broken({field: value}))
    assert field in str(caught.value)
    assert code in str(caught.value)


@pytest.mark.parametrize(
    "name", ["José María Martínez-Núñez", "محمد بن سلمان", "李小龍", "Zoë O'Brien 🦄", "Ελένη"]
)
def test_names_in_any_script_are_accepted(name: str) -> None:
    data = _broken({"patient.name": name, "prescription.prescriber": name})
    assert case_from_dict(data).patient.name == name


# -- bad input is bounded: refused at once, exit 2, through the real command line --------------


def _case_json(**changes: object) -> bytes:
    data = case_to_dict(example_case("01"))
    data.update(changes)
    return json.dumps(data, ensure_ascii=False).encode()


def _refused(path: Path | str, *said: str) -> None:
    done = run_cli("assess", str(path))
    assert done.returncode == 2, done.stderr
    assert done.stdout == b""
    message = done.stderr.decode()
    assert "unexpected error" not in message and "Traceback" not in message
    for words in said:
        assert words in message, message


def test_a_case_over_1_mib_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    big.write_bytes(_case_json(note="x" * (MAX_CASE_BYTES + 10)))
    _refused(big, "too large", "1 MiB")


def test_a_case_of_exactly_1_mib_is_read(tmp_path: Path) -> None:
    body = _case_json()
    exact = tmp_path / "exact.json"
    exact.write_bytes(body[:-1] + b" " * (MAX_CASE_BYTES - len(body)) + b"}")
    assert exact.stat().st_size == MAX_CASE_BYTES
    assert run_cli("assess", str(exact)).returncode == 0
    exact.write_bytes(exact.read_bytes()[:-1] + b" }")
    _refused(exact, "too large")


def test_more_than_200_medicine_lines_are_refused(tmp_path: Path) -> None:
    many = tmp_path / "many.json"
    many.write_bytes(_case_json(medicines=["ibuprofen 200 mg"] * 201))
    _refused(many, "medicines", "at most 200")
    many.write_bytes(_case_json(medicines=["a"] * 150_000))  # under 1 MiB, far too many
    _refused(many, "medicines", "at most 200")


def test_200_medicine_lines_are_assessed(tmp_path: Path) -> None:
    lines = tmp_path / "lines.json"
    lines.write_bytes(_case_json(medicines=[f"ibuprofen {i} mg" for i in range(200)]))
    assert run_cli("assess", str(lines)).returncode == 0


def test_more_than_200_contraception_lines_are_refused(tmp_path: Path) -> None:
    many = tmp_path / "methods.json"
    many.write_bytes(_case_json(contraception=["condoms"] * 201))
    _refused(many, "contraception", "at most 200")


def test_non_utf8_bytes_are_refused(tmp_path: Path) -> None:
    latin1 = tmp_path / "latin1.json"
    latin1.write_bytes(_case_json().replace(b"Osei", b"Os\xe9i"))
    _refused(latin1, "not UTF-8", "0xe9")


def test_a_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    bom = tmp_path / "bom.json"
    bom.write_bytes(b"\xef\xbb\xbf" + _case_json())
    assert run_cli("assess", str(bom)).returncode == 0


def test_deeply_nested_json_is_refused(tmp_path: Path) -> None:
    nested = tmp_path / "nested.json"
    nested.write_bytes(_case_json()[:-1] + b', "x": ' + b"[" * 200_000 + b"]" * 200_000 + b"}")
    _refused(nested, "nested")
    nested.write_bytes(b"[" * 100_000 + b"]" * 100_000)
    _refused(nested, "nested")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this system")
def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "case.json"
    os.mkfifo(fifo)  # nobody ever writes to it: opening it for reading would block
    _refused(fifo, "pipe", "not a case file")


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero on this system")
def test_dev_zero_is_refused_at_once() -> None:
    _refused("/dev/zero", "device", "not a case file")


def test_a_folder_is_refused(tmp_path: Path) -> None:
    _refused(tmp_path, "folder")


def test_a_name_with_a_control_character_is_refused_on_the_command_line(tmp_path: Path) -> None:
    case = tmp_path / "ctrl.json"
    data = case_to_dict(example_case("01"))
    data["patient"]["name"] = "Ana\x1b[2JGarcía"
    case.write_bytes(json.dumps(data).encode())
    _refused(case, "patient.name", "control character")


def test_an_implausible_weight_is_refused_on_the_command_line(tmp_path: Path) -> None:
    case = tmp_path / "weight.json"
    data = case_to_dict(example_case("01"))
    data["patient"]["weight_kg"] = 1
    case.write_bytes(json.dumps(data).encode())
    _refused(case, "patient.weight_kg", "not a plausible weight", "20–400 kg")
