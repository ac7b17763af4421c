"""Random and malformed case files: every one gives an assessment or a clear exit-2 message.

The in-process function is fed many generated cases; the command line a few (each is a process).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pharmacist_tool.case import parse_case
from pharmacist_tool.engine import assess
from pharmacist_tool.engine.assessment import Assessment, encode_assessment
from pharmacist_tool.errors import UserError
from pharmacist_tool.knowledge import load_knowledge_base
from tests.conftest import EXAMPLE_FILES, run_cli

KB = load_knowledge_base()
BASES = [json.loads(p.read_text(encoding="utf-8")) for p in EXAMPLE_FILES]
RANK = {"block": 0, "warn": 1, "info": 2}
CATEGORIES = [
    "interaction",
    "pregnancy-prevention",
    "prescription",
    "dose",
    "safety",
    "counselling",
]

known_words = st.sampled_from(
    [
        "doxycycline",
        "Doxy 100mg",
        "St John's wort",
        "vitamin A",
        "Centrum",
        "prednisone",
        "ibuprofen",
        "Mirena",
        "the pill",
        "condoms",
        "minipill",
        "abstinence",
        "Nexplanon",
        "acitretin",
        "tretinoin cream",
        "Claravis",
        "Absorica LD",
        "isotretinoin",
        "",
        " ",
        "no pregnancy risk agreement",
        "carbamazepine",
        "rifampin",
        "benzoyl peroxide",
    ]
)
any_text = st.one_of(known_words, st.text(max_size=60))
dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31))
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)

valid_cases = st.fixed_dictionaries(
    {
        "rule_set": st.sampled_from(["US-iPLEDGE", "UK-PPP", "EU-PPP", "us-ipledge"]),
        "counselled_on": st.dates(min_value=dt.date(2019, 1, 1), max_value=dt.date(2030, 12, 31)),
        "dob_years": st.integers(5, 90),
        "weight_kg": st.floats(min_value=20, max_value=250),
        "can_get_pregnant": st.booleans(),
        "medicine": st.sampled_from(
            ["Claravis", "Absorica", "Absorica LD", "isotretinoin", "ZENATANE"]
        ),
        "strength_mg": st.sampled_from([8, 10, 16, 20, 25, 30, 32, 40, 15.5]),
        "units_per_dose": st.integers(1, 4),
        "doses_per_day": st.integers(1, 4),
        "days_supply": st.integers(1, 90),
        "quantity": st.one_of(st.none(), st.integers(0, 400)),
        "refills": st.integers(0, 5),
        "rx_days_ago": st.integers(0, 60),
        "authorization": st.one_of(st.none(), st.just(""), st.just("RMA-1")),
        "tests": st.lists(
            st.tuples(st.integers(0, 90), st.sampled_from(["negative", "positive"])), max_size=4
        ),
        "contraception": st.lists(any_text, max_size=4),
        "medicines": st.lists(any_text, max_size=5),
        "alcohol": st.sampled_from([None, "none", "occasional", "regular"]),
        "checklist": st.dictionaries(
            st.sampled_from(["mood", "storage", "sun", "x"]), st.booleans()
        ),
        "resolutions": st.dictionaries(
            st.sampled_from(
                ["interaction.tetracyclines", "contraception.weakened", "dose.above-max"]
            ),
            st.text(max_size=10),
        ),
    }
)


def _case_from(v: dict[str, Any]) -> dict[str, Any]:
    today: dt.date = v["counselled_on"]
    born = today.replace(year=today.year - v["dob_years"], day=min(today.day, 28))
    prescribed = max(today - dt.timedelta(days=v["rx_days_ago"]), born + dt.timedelta(days=1))
    return {
        "format": "pharmacist-tool/case@1",
        "rule_set": v["rule_set"],
        "counselled_on": today.isoformat(),
        "patient": {
            "name": "Test Patient",
            "date_of_birth": born.isoformat(),
            "weight_kg": v["weight_kg"],
            "can_get_pregnant": v["can_get_pregnant"],
        },
        "prescription": {
            "medicine": v["medicine"],
            "strength_mg": v["strength_mg"],
            "units_per_dose": v["units_per_dose"],
            "doses_per_day": v["doses_per_day"],
            "days_supply": v["days_supply"],
            "quantity": v["quantity"],
            "refills": v["refills"],
            "prescribed_on": prescribed.isoformat(),
            "authorization": v["authorization"],
        },
        "pregnancy_tests": [
            {"date": max(today - dt.timedelta(days=d), born).isoformat(), "result": r}
            for d, r in v["tests"]
        ],
        "contraception": v["contraception"],
        "medicines": v["medicines"],
        "alcohol": v["alcohol"],
        "checklist": v["checklist"],
        "resolutions": v["resolutions"],
    }


def _check_invariants(a: Assessment) -> None:
    keys = [(CATEGORIES.index(f.category), RANK[f.severity], f.code) for f in a.findings]
    assert keys == sorted(keys)
    codes = [f.code for f in a.findings]
    assert len(codes) == len(set(codes))  # resolutions are keyed by code
    blocks = [f for f in a.findings if f.severity == "block" and f.stands]
    if blocks:
        assert a.dispense == "do-not-dispense"
    elif any(f.stands for f in a.findings) or any(c.required and not c.done for c in a.checklist):
        assert a.dispense == "needs-action"
    else:
        assert a.dispense == "ok"
    for f in a.findings:
        assert f.message and f.action and f.sources
        wording = (f.message + f.action).replace(f.subject or "", "")
        assert not re.search(r"\{[a-z_]+\}", wording)  # every placeholder was filled
        if f.programme_rule:
            assert f.severity == "block"
    assert a.dose_mg_per_kg_per_day == round(a.dose_mg_per_kg_per_day, 2)


KB_BYTES = msgspec.json.encode(KB)


def _assess_bytes(data: bytes) -> Assessment | UserError:
    try:
        case = parse_case(data)
        before = msgspec.json.encode(case)
        result = assess(case, KB)
    except UserError as error:
        assert str(error).strip()
        return error
    assert msgspec.json.encode(case) == before, "assess changed the case"
    return result


def test_assess_never_changes_the_knowledge_base() -> None:
    assert msgspec.json.encode(KB) == KB_BYTES


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_cases)
def test_generated_cases_are_assessed_deterministically(values: dict[str, Any]) -> None:
    data = json.dumps(_case_from(values)).encode()
    result = _assess_bytes(data)
    if isinstance(result, UserError):
        # only dates before any rule set version, an age over 120, or a weight implausible
        # for the age, are refused here
        assert (
            "counselled_on" in str(result)
            or "date_of_birth" in str(result)
            or "not a plausible weight" in str(result)
        ), str(result)
        return
    _check_invariants(result)
    again = _assess_bytes(data)
    assert isinstance(again, Assessment)
    assert encode_assessment(again) == encode_assessment(result)
    pregnancy = [f for f in result.findings if f.category == "pregnancy-prevention"]
    if not values["can_get_pregnant"]:
        # only a positive test speaks of pregnancy then (the risk category may be wrong)
        assert {f.code for f in pregnancy} <= {
            "pregnancy-test.positive",
            "pregnancy-test.positive-then-negative",
        }
        if not any(t["result"] == "positive" for t in json.loads(data)["pregnancy_tests"]):
            assert pregnancy == []
        assert result.next_pregnancy_test_due is None


def _set_path(data: Any, path: list[str | int], value: Any) -> None:
    target = data
    for key in path[:-1]:
        target = target[key]
    if value is ...:
        del target[path[-1]]
    else:
        target[path[-1]] = value


PATHS: list[list[str | int]] = [
    ["format"],
    ["rule_set"],
    ["counselled_on"],
    ["patient"],
    ["patient", "name"],
    ["patient", "date_of_birth"],
    ["patient", "weight_kg"],
    ["patient", "can_get_pregnant"],
    ["prescription"],
    ["prescription", "medicine"],
    ["prescription", "strength_mg"],
    ["prescription", "units_per_dose"],
    ["prescription", "doses_per_day"],
    ["prescription", "days_supply"],
    ["prescription", "quantity"],
    ["prescription", "refills"],
    ["prescription", "prescribed_on"],
    ["prescription", "authorization"],
    ["pregnancy_tests"],
    ["contraception"],
    ["medicines"],
    ["alcohol"],
    ["checklist"],
    ["resolutions"],
]


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(BASES),
    st.lists(
        st.tuples(st.sampled_from(PATHS), st.one_of(json_values, st.just(...))),
        min_size=1,
        max_size=3,
    ),
)
def test_malformed_cases_give_a_result_or_a_clear_message(
    base: dict[str, Any], edits: list[tuple[list[str | int], Any]]
) -> None:
    data = copy.deepcopy(base)
    for path, value in edits:
        try:
            _set_path(data, path, value)
        except (KeyError, TypeError, IndexError):
            continue
    result = _assess_bytes(json.dumps(data).encode())
    if isinstance(result, Assessment):
        _check_invariants(result)
    else:
        assert "Traceback" not in str(result)


@settings(max_examples=200, deadline=None)
@given(
    st.binary(max_size=200)
    | st.text(max_size=200).map(str.encode)
    | json_values.map(lambda v: msgspec.json.encode(v))
)
def test_any_bytes_give_a_result_or_a_clear_message(data: bytes) -> None:
    result = _assess_bytes(data)
    assert isinstance(result, (Assessment, UserError))


def test_cli_refuses_malformed_files_with_exit_2_and_a_message(tmp_path: Path) -> None:
    good = BASES[0]
    cases: dict[str, tuple[Any, str]] = {
        "not-json": (b"{nope", "not valid JSON"),
        "weight-text": (_changed(good, ["patient", "weight_kg"], "sixty"), "patient.weight_kg"),
        "no-prescription": (_changed(good, ["prescription"], ...), "prescription"),
        "bad-date": (_changed(good, ["counselled_on"], "2026-02-30"), "counselled_on"),
        "unknown-product": (
            _changed(good, ["prescription", "medicine"], "Ssotroin"),
            "prescription.medicine: 'Ssotroin' is not",
        ),
        "unknown-rule-set": (_changed(good, ["rule_set"], "CA-PPP"), "rule_set: 'CA-PPP'"),
        "before-any-rules": (
            _changed(
                _changed(_changed(good, ["pregnancy_tests"], []), ["counselled_on"], "2019-01-01"),
                ["prescription", "prescribed_on"],
                "2018-12-30",
            ),
            "no US-iPLEDGE rules are in force",
        ),
        "a-list": (b"[1, 2, 3]", "not a valid case"),
    }
    for name, (content, said) in cases.items():
        path = tmp_path / f"{name}.json"
        path.write_bytes(content if isinstance(content, bytes) else json.dumps(content).encode())
        done = run_cli("assess", str(path))
        err = done.stderr.decode()
        assert done.returncode == 2, (name, err)
        assert said in err, (name, err)
        assert "Traceback" not in err and done.stdout == b"", name
    missing = run_cli("assess", str(tmp_path / "absent.json"))
    assert missing.returncode == 2 and b"not found" in missing.stderr


def _changed(data: dict[str, Any], path: list[str | int], value: Any) -> dict[str, Any]:
    copied = copy.deepcopy(data)
    _set_path(copied, path, value)
    return copied


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.sampled_from(BASES),
    st.lists(
        st.tuples(st.sampled_from(PATHS), st.one_of(json_values, st.just(...))),
        min_size=0,
        max_size=2,
    ),
)
def test_cli_on_generated_cases_gives_json_or_exit_2(
    tmp_path: Path, base: dict[str, Any], edits: list[tuple[list[str | int], Any]]
) -> None:
    data = copy.deepcopy(base)
    for path, value in edits:
        try:
            _set_path(data, path, value)
        except (KeyError, TypeError, IndexError):
            continue
    case_file = tmp_path / "generated.json"
    case_file.write_text(json.dumps(data), encoding="utf-8")
    done = run_cli("assess", str(case_file))
    err = done.stderr.decode()
    assert "Traceback" not in err
    assert done.returncode in (0, 2), err
    if done.returncode == 0:
        assert json.loads(done.stdout)["format"] == "pharmacist-tool/assessment@1"
    else:
        assert err.startswith("pharmacist-tool: ") and done.stdout == b""
