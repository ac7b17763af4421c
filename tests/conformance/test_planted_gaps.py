"""A pack copied from a real one with one gap planted fails the conformance suite, and the
suite names the gap."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pharmacist_tool import paths
from tests.conformance import checks


def _copy(tmp_path: Path, pack: str) -> Path:
    shutil.copytree(paths.resource("classes"), tmp_path / "classes")
    folder = tmp_path / "knowledge" / pack
    shutil.copytree(paths.resource("knowledge", pack), folder)
    return folder


def _edit(path: Path, change: Callable[[Any], None]) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")


@pytest.mark.parametrize("pack", ["acitretin", "isotretinoin"])
def test_a_real_copy_passes(tmp_path: Path, pack: str) -> None:
    assert checks.all_problems(_copy(tmp_path, pack)) == []


def test_a_class_missing_one_substance_is_named(tmp_path: Path) -> None:
    folder = _copy(tmp_path, "acitretin")

    def drop_doxycycline(data: Any) -> None:
        data["substances"] = [s for s in data["substances"] if s["name"] != "doxycycline"]

    _edit(tmp_path / "classes" / "tetracyclines.json", drop_doxycycline)
    problems = checks.all_problems(folder)
    assert any("interaction.tetracyclines" in p and "doxycycline" in p for p in problems)


def test_an_interaction_without_its_substances_is_named(tmp_path: Path) -> None:
    folder = _copy(tmp_path, "valproate")

    def terms_only(data: Any) -> None:
        rule = next(r for r in data["interactions"] if r["id"] == "carbapenems")
        del rule["class"]
        rule["terms"] = ["meropenem"]

    _edit(folder / "interactions.json", terms_only)
    problems = checks.all_problems(folder)
    assert any("'carbapenems' names neither a class nor substances" in p for p in problems)


def test_a_missing_message_is_named(tmp_path: Path) -> None:
    folder = _copy(tmp_path, "acitretin")

    def drop(data: Any) -> None:
        data["messages"] = [m for m in data["messages"] if m["code"] != "medicine.unrecognised"]

    _edit(folder / "messages.json", drop)
    problems = checks.all_problems(folder)
    assert any("no wording for finding 'medicine.unrecognised'" in p for p in problems)


def test_a_clearable_positive_test_is_named(tmp_path: Path) -> None:
    folder = _copy(tmp_path, "acitretin")

    def clearable(data: Any) -> None:
        for rule_set in data["rule_sets"]:
            if rule_set["id"] == "US-label":
                for version in rule_set["versions"]:
                    version["never_clear"] = []

    _edit(folder / "rule_sets.json", clearable)
    problems = checks.all_problems(folder)
    assert any(
        "'acitretin-us-label' must list pregnancy-test.positive in never_clear" in p
        for p in problems
    )


def test_a_method_status_that_contradicts_its_note_is_named(tmp_path: Path) -> None:
    folder = _copy(tmp_path, "acitretin")

    def counts_in_uk(data: Any) -> None:
        method = next(m for m in data["contraception"] if m["id"] == "progestin-only-pill")
        method["status"]["UK"] = "primary"

    _edit(folder / "contraception.json", counts_in_uk)
    problems = checks.all_problems(folder)
    assert any("'progestin-only-pill' counts in UK but not in EU" in p for p in problems)


def test_an_interaction_without_the_patients_words_is_named(tmp_path: Path) -> None:
    folder = _copy(tmp_path, "valproate")
    _edit(folder / "handout" / "es.json", lambda data: data["avoid_agents"].pop("warfarin"))
    problems = checks.wording_problems(folder)
    assert problems == ["handout/es.json: no patient words for interaction 'warfarin'"]


def _ipledge_2026(data: Any) -> Any:
    us = next(r for r in data["rule_sets"] if r["id"] == "US-iPLEDGE")
    return next(v for v in us["versions"] if v["id"] == "us-ipledge-2026")


def test_staff_training_without_an_interval_is_refused_at_load(tmp_path: Path) -> None:
    folder = _copy(tmp_path, "isotretinoin")
    _edit(folder / "rule_sets.json", lambda d: _ipledge_2026(d)["staff_training"].pop("every_days"))
    problems = checks.all_problems(folder)
    assert any("staff_training" in p and "every_days" in p for p in problems)


def test_staff_training_on_a_label_and_a_long_interval_are_named(tmp_path: Path) -> None:
    folder = _copy(tmp_path, "acitretin")
    training = {
        "every_days": 2000, "required_before_signing": True, "sources": ["A1"],
        "last_reviewed": "2026-12-08",
    }  # fmt: skip

    def on_the_label(data: Any) -> None:
        for rule_set in data["rule_sets"]:
            for version in rule_set["versions"]:
                if version.get("programme") is False:
                    version["staff_training"] = training

    _edit(folder / "rule_sets.json", on_the_label)
    problems = checks.all_problems(folder)
    assert any("asks for staff training, but it is a label's" in p for p in problems)
    assert any("every_days 2000 is more than 1098" in p for p in problems)


def test_an_unconfirmed_effective_date_without_its_reason_is_named(tmp_path: Path) -> None:
    folder = _copy(tmp_path, "isotretinoin")
    _edit(folder / "rule_sets.json", lambda d: _ipledge_2026(d).update(unconfirmed=""))
    problems = checks.all_problems(folder)
    assert any("marks its effective date unconfirmed, but its 'unconfirmed'" in p for p in problems)


def test_a_duty_without_words_in_a_language_is_named(tmp_path: Path) -> None:
    folder = _copy(tmp_path, "valproate")

    def drop_spanish(data: Any) -> None:
        version = data["rule_sets"][0]["versions"][0]
        del next(d for d in version["duties"] if d["id"] == "patient-card")["words"]["es"]

    _edit(folder / "rule_sets.json", drop_spanish)
    assert checks.duty_problems(folder) == [
        "valproate-uk-ppp-2018 duty 'patient-card': no words in 'es'"
    ]
    assert any("duty 'patient-card' has no words in 'es'" in p for p in checks.all_problems(folder))


def test_a_duty_without_sources_is_named(tmp_path: Path) -> None:
    folder = _copy(tmp_path, "topiramate")

    def uncited(data: Any) -> None:
        version = data["rule_sets"][0]["versions"][0]
        next(d for d in version["duties"] if d["id"] == "risk-awareness-form")["sources"] = ["T99"]

    _edit(folder / "rule_sets.json", uncited)
    assert checks.duty_problems(folder) == [
        "topiramate-uk-ppp-2024 duty 'risk-awareness-form': cites 'T99', not in the register"
    ]
    assert any("'T99', which is not in the register" in p for p in checks.all_problems(folder))


def test_a_form_without_its_validity_is_refused_at_load(tmp_path: Path) -> None:
    folder = _copy(tmp_path, "isotretinoin")

    def no_validity(data: Any) -> None:
        uk = next(r for r in data["rule_sets"] if r["id"] == "UK-PPP")
        version = next(v for v in uk["versions"] if v["id"] == "uk-ppp-2026")
        del next(d for d in version["duties"] if d["id"] == "acknowledgement-form")[
            "form_valid_days"
        ]

    _edit(folder / "rule_sets.json", no_validity)
    assert any(
        "'uk-ppp-2026' duty 'acknowledgement-form' is a form seen with its date: give "
        "form_valid_days" in p
        for p in checks.load_problems(folder)
    )
