"""Loading the knowledge base: the schema, the cross-references, the effective dates."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pharmacist_tool import paths
from pharmacist_tool.errors import UserError
from pharmacist_tool.knowledge import (
    find_product,
    load_for_counter,
    load_knowledge_base,
    rule_set,
    rules_in_force,
)
from pharmacist_tool.settings import Settings, save_settings

SHIPPED = paths.resource("knowledge", "isotretinoin")
KB = load_knowledge_base()


def test_shipped_knowledge_base_loads_with_every_part() -> None:
    assert KB.medicine == "isotretinoin"
    assert KB.version == "2026.12.3"
    assert {r.id for r in KB.rule_sets} == {"US-iPLEDGE", "UK-PPP", "EU-PPP"}
    assert {p.name for p in KB.products} >= {
        "isotretinoin",
        "Absorica",
        "Absorica LD",
        "Claravis",
        "Amnesteem",
        "Myorisan",
        "Zenatane",
    }
    assert len(KB.interactions) >= 10 and len(KB.contraception) >= 15
    assert len(KB.checklist) >= 14


def test_every_entry_is_cited_dated_and_sources_are_registered() -> None:
    entries: list[Any] = [
        *KB.products,
        *KB.interactions,
        *KB.contraception,
        *KB.checklist,
        *KB.messages,
        *(v for r in KB.rule_sets for v in r.versions),
        *(v.after_course for r in KB.rule_sets for v in r.versions if v.after_course),
        *(d for r in KB.rule_sets for v in r.versions for d in v.duties),
        *([KB.course.cumulative_target] if KB.course.cumulative_target else []),
    ]
    for entry in entries:
        assert entry.sources, entry
        assert entry.last_reviewed <= KB.last_reviewed, entry
        assert set(entry.sources) <= set(KB.sources)
    for key, source in KB.sources.items():
        assert source.title and source.issuer and source.date, key
    cited = {key for entry in entries for key in entry.sources}
    assert set(KB.sources) - cited == set(), "sources in the register that nothing cites"


def test_unconfirmed_entries_say_which_safe_choice_is_encoded() -> None:
    v2026 = next(v for v in rule_set(KB, "US-iPLEDGE").versions if v.id == "us-ipledge-2026")  # type: ignore[union-attr]
    assert v2026.effective_from == dt.date(2026, 11, 15)
    assert "NOT CONFIRMED" in v2026.unconfirmed and "settings" in v2026.unconfirmed
    minipill = next(m for m in KB.contraception if m.id == "progestin-only-pill")
    # the US label's rule; the UK/EU programmes count it as a user-dependent method
    assert "US label" in minipill.unconfirmed and "never enough alone" in minipill.unconfirmed
    assert minipill.status == {"US": "not-acceptable", "UK": "primary", "EU": "primary"}
    topiramate = next(r for r in KB.interactions if r.id == "topiramate")
    assert "safe choice" in topiramate.unconfirmed
    assert topiramate.weakens_contraception_from_mg_per_day == 200
    keratolytics = next(r for r in KB.interactions if r.id == "keratolytics")
    assert "Resorcinol" in keratolytics.unconfirmed
    breastfeeding = next(c for c in KB.checklist if c.id == "breastfeeding")
    assert "8 days" in breastfeeding.script and "longer" in breastfeeding.script


@pytest.mark.parametrize(
    ("name", "product"),
    [
        ("Claravis", "claravis"),
        ("CLARAVIS 20 mg capsules", "claravis"),
        ("absorica", "absorica"),
        ("Absorica LD", "absorica-ld"),
        ("absorica-ld 32mg", "absorica-ld"),
        ("Isotretinoin", "isotretinoin"),
        ("Roaccutane", "isotretinoin"),
        ("Zenatane", "zenatane"),
        ("isotretinoin (Claravis)", "claravis"),
        ("Zenatane isotretinoin capsules 30 mg", "zenatane"),
        ("Roaccutane 20mg soft capsules", "isotretinoin"),
    ],
)
def test_find_product_by_brand_or_generic(name: str, product: str) -> None:
    found = find_product(KB, name)
    assert found is not None and found.id == product


@pytest.mark.parametrize(
    "name", ["Ssotroin", "ibuprofen", "", "Absorica XR", "LD", "Claravis or Amnesteem"]
)
def test_unknown_products_are_not_guessed(name: str) -> None:
    assert find_product(KB, name) is None


def test_absorica_and_ld_are_not_substitutable_and_differ() -> None:
    absorica = find_product(KB, "Absorica")
    ld = find_product(KB, "Absorica LD")
    assert absorica and ld and absorica.not_substitutable and ld.not_substitutable
    assert absorica.substitution_group != ld.substitution_group
    assert (ld.dose.usual_min_mg_per_kg, ld.dose.usual_max_mg_per_kg, ld.dose.max_mg_per_kg) == (
        0.4,
        0.8,
        1.6,
    )
    assert absorica.with_food == ld.with_food == "with-or-without-food"


def test_rules_in_force_follow_the_dates() -> None:
    assert rules_in_force(KB, "US-iPLEDGE", dt.date(2026, 11, 14)).id == "us-ipledge-2021"
    assert rules_in_force(KB, "US-iPLEDGE", dt.date(2026, 11, 15)).id == "us-ipledge-2026"
    assert rules_in_force(KB, "UK-PPP", dt.date(2023, 10, 30)).id == "uk-ppp-2018"
    assert rules_in_force(KB, "UK-PPP", dt.date(2023, 10, 31)).id == "uk-ppp-2023"
    assert rules_in_force(KB, "UK-PPP", dt.date(2026, 1, 22)).id == "uk-ppp-2026"
    assert rules_in_force(KB, "eu-ppp", dt.date(2026, 1, 1)).id == "eu-ppp-2018"


def test_rules_in_force_refuses_unknown_sets_and_dates_before_any_version() -> None:
    with pytest.raises(UserError, match=r"rule_set: 'CA-PPP' is not .*known: US-iPLEDGE"):
        rules_in_force(KB, "CA-PPP", dt.date(2026, 1, 1))
    with pytest.raises(UserError, match="counselled_on: no US-iPLEDGE rules are in force"):
        rules_in_force(KB, "US-iPLEDGE", dt.date(2020, 1, 1))


def test_effective_date_override_moves_the_switch() -> None:
    kb = load_knowledge_base(effective_dates={"us-ipledge-2026": dt.date(2027, 1, 4)})
    assert rules_in_force(kb, "US-iPLEDGE", dt.date(2026, 12, 1)).id == "us-ipledge-2021"
    assert rules_in_force(kb, "US-iPLEDGE", dt.date(2027, 1, 4)).id == "us-ipledge-2026"
    assert rules_in_force(KB, "US-iPLEDGE", dt.date(2026, 12, 1)).id == "us-ipledge-2026"


def test_effective_date_for_an_unknown_version_is_refused() -> None:
    with pytest.raises(UserError, match="unknown rule-set version: us-ipledge-2030"):
        load_knowledge_base(effective_dates={"us-ipledge-2030": dt.date(2030, 1, 1)})


def test_load_for_counter_uses_the_pharmacy_settings() -> None:
    assert rules_in_force(load_for_counter(), "US-iPLEDGE", dt.date(2026, 11, 20)).id == (
        "us-ipledge-2026"
    )
    save_settings(Settings(rule_effective_dates={"us-ipledge-2026": dt.date(2026, 12, 15)}))
    kb = load_for_counter()
    assert rules_in_force(kb, "US-iPLEDGE", dt.date(2026, 11, 20)).id == "us-ipledge-2021"


# -- damaged files ------------------------------------------------------------------------------


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "kb"
    shutil.copytree(SHIPPED, folder)
    return folder


def _edit(folder: Path, name: str, change: Callable[[Any], None]) -> None:
    path = folder / name
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data), encoding="utf-8")


def _set_dose(data: Any) -> None:
    data["products"][5]["dose"]["doses_per_day"] = "two"


def _drop_sources(data: Any) -> None:
    del data["interactions"][0]["sources"]


def _unknown_source(data: Any) -> None:
    data["checklist"][1]["sources"] = ["S999"]


def _duplicate_id(data: Any) -> None:
    data["contraception"][1]["id"] = data["contraception"][0]["id"]


def _unknown_rule_set(data: Any) -> None:
    data["checklist"][0]["rule_sets"] = ["CA-PPP"]


def _bad_date(data: Any) -> None:
    data["rule_sets"][0]["versions"][1]["effective_from"] = "2026-02-30"


def _extra_field(data: Any) -> None:
    data["products"][0]["colour"] = "red"


def _shared_name(data: Any) -> None:
    data["products"][1]["names"].append("Absorica")


def _bad_dose_range(data: Any) -> None:
    data["products"][0]["dose"]["max_mg_per_kg"] = 0.1


def _missing_status(data: Any) -> None:
    del data["contraception"][2]["status"]["UK"]


@pytest.mark.parametrize(
    ("name", "change", "said"),
    [
        ("products.json", _set_dose, 'products[5] (id "absorica").dose.doses_per_day'),
        ("interactions.json", _drop_sources, "sources"),
        ("checklist.json", _unknown_source, "'blood-donation' cites source 'S999'"),
        ("contraception.json", _duplicate_id, "id 'tubal-sterilisation' appears twice"),
        ("checklist.json", _unknown_rule_set, "'mood' names rule set 'CA-PPP'"),
        ("rule_sets.json", _bad_date, "rule_sets[0]"),
        ("products.json", _extra_field, "colour"),
        ("products.json", _shared_name, "is also a name of 'amnesteem'"),
        ("products.json", _bad_dose_range, "'isotretinoin'.dose"),
        ("contraception.json", _missing_status, "'copper-iud' has no status for UK"),
    ],
)
def test_a_damaged_file_is_refused_naming_file_and_entry(
    tmp_path: Path, name: str, change: Callable[[Any], None], said: str
) -> None:
    folder = _copy(tmp_path)
    _edit(folder, name, change)
    with pytest.raises(UserError) as caught:
        load_knowledge_base(folder=folder)
    text = str(caught.value)
    assert name in text and said in text


def test_a_missing_or_unreadable_file_is_refused(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    (folder / "messages.json").unlink()
    with pytest.raises(UserError, match=r"messages\.json .* is missing"):
        load_knowledge_base(folder=folder)
    (folder / "messages.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(UserError, match=r"messages\.json is not valid JSON"):
        load_knowledge_base(folder=folder)
