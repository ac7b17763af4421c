"""Where a pregnancy test was done: each rule version says which tests must be in a medical
setting; a home test it does not accept does not count and says why (both directions)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
import pytest

from pharmacist_tool.case import case_from_dict, case_to_dict, dump_case
from pharmacist_tool.engine import assess
from pharmacist_tool.engine.assessment import Assessment
from pharmacist_tool.errors import UserError
from pharmacist_tool.knowledge import load_knowledge_base
from pharmacist_tool.knowledge.packs import names
from tests.engine.test_case_table import build

HOME = "pregnancy-test.home-not-accepted"
KB = load_knowledge_base()
KB_2021 = load_knowledge_base(effective_dates={"us-ipledge-2026": dt.date(2027, 6, 1)})


def _us(latest_setting: str | None, fill_number: int | None) -> dict[str, Any]:
    """The US example (tests 2026-10-20 and 2026-11-21), the latest test in ``latest_setting``."""
    latest: dict[str, Any] = {"date": "2026-11-21", "result": "negative"}
    if latest_setting is not None:
        latest["setting"] = latest_setting
    changes: dict[str, Any] = {
        "pregnancy_tests": [{"date": "2026-10-20", "result": "negative"}, latest]
    }
    if fill_number is not None:
        changes["course"] = {"fill_number": fill_number, "previous_fill_on": "2026-10-22"}
    return build("US", changes)


def _codes(a: Assessment) -> set[str]:
    return {f.code for f in a.findings}


def test_first_fill_under_2026_a_home_test_does_not_count_and_says_why() -> None:
    a = assess(case_from_dict(_us("home", None)), KB)
    assert a.knowledge_base.rules_version == "us-ipledge-2026"
    home = next(f for f in a.findings if f.code == HOME)
    assert "2026-11-21" in home.message and "first fill" in home.message
    # the older medical test is now the latest: its 7-day window closed long ago
    assert "prescription.pick-up-window-closed" in _codes(a)
    assert a.dispense == "do-not-dispense"


def test_a_later_fill_under_2026_counts_a_home_test() -> None:
    a = assess(case_from_dict(_us("home", 2)), KB)
    assert HOME not in _codes(a)
    assert "prescription.pick-up-window-closed" not in _codes(a)
    assert a.pick_up_by == dt.date(2026, 11, 27)


def test_under_2021_a_home_test_never_counts_even_at_a_later_fill() -> None:
    a = assess(case_from_dict(_us("home", 2)), KB_2021)
    assert a.knowledge_base.rules_version == "us-ipledge-2021"
    assert HOME in _codes(a)
    assert "prescription.pick-up-window-closed" in _codes(a)


@pytest.mark.parametrize("setting", ["medical", None])
def test_a_medical_or_unstated_setting_counts_as_before(setting: str | None) -> None:
    for kb in (KB, KB_2021):
        a = assess(case_from_dict(_us(setting, None)), kb)
        assert HOME not in _codes(a)
        assert "prescription.pick-up-window-closed" not in _codes(a)


def test_uk_home_test_leaves_no_test_and_the_test_is_missing() -> None:
    data = build(
        "UK", {"pregnancy_tests": [{"date": "2026-11-22", "result": "negative", "setting": "home"}]}
    )
    a = assess(case_from_dict(data), KB)
    assert {HOME, "pregnancy-test.missing"} <= _codes(a)
    assert a.dispense == "do-not-dispense"


def test_a_positive_home_test_always_counts() -> None:
    tests = [{"date": "2026-11-21", "result": "positive", "setting": "home"}]
    for fill in (None, 3):
        data = _us(None, fill) | {"pregnancy_tests": tests}
        a = assess(case_from_dict(data), KB)
        assert "pregnancy-test.positive" in _codes(a)
        assert HOME not in _codes(a)


def test_the_setting_is_optional_in_the_file_and_checked() -> None:
    unset = case_from_dict(_us(None, None))
    assert b'"setting"' not in dump_case(unset)  # an old case's bytes do not change
    home = case_from_dict(_us("home", None))
    assert case_to_dict(home)["pregnancy_tests"][1]["setting"] == "home"
    with pytest.raises(UserError, match="setting"):
        case_from_dict(_us("clinic", None))


@pytest.mark.parametrize("pack", names())
def test_every_rule_version_of_every_pack_says_which_tests_must_be_medical(pack: str) -> None:
    kb = load_knowledge_base(pack)
    for r in kb.rule_sets:
        for v in r.versions:
            assert v.test_setting is not None, f"{pack}/{v.id}: no test_setting"
            assert v.test_setting.sources, f"{pack}/{v.id}: test_setting cites nothing"
    assert any(m.code == HOME for m in kb.messages)


def test_the_rule_data_decodes_only_known_values() -> None:
    from pharmacist_tool.knowledge.model import TestSettingRule

    with pytest.raises(msgspec.ValidationError):
        msgspec.convert(
            {"home_tests": "always", "sources": ["S1"], "last_reviewed": "2026-12-07"},
            TestSettingRule,
        )
