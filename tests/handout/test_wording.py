"""The handout's words are data: every approved language matches English; the KB is covered."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pharmacist_tool import paths
from pharmacist_tool.handout.wording import (
    approved_languages,
    load_coverage,
    load_facts,
    load_wording,
    placeholders,
    sheet_problems,
)
from pharmacist_tool.knowledge import load_pack
from pharmacist_tool.knowledge.model import KnowledgeBase

HANDOUT_PACKS = sorted(
    p.parent.parent.name for p in paths.resource("knowledge").glob("*/handout/en.json")
)


def test_the_packs_with_handout_wording() -> None:
    assert HANDOUT_PACKS == ["acitretin", "isotretinoin", "topiramate", "valproate"]


@pytest.mark.parametrize("medicine", HANDOUT_PACKS)
def test_english_and_spanish_are_approved(medicine: str) -> None:
    assert approved_languages(medicine) == ["en", "es"]
    assert load_wording("fr", medicine) is None
    assert load_wording("../en", medicine) is None


@pytest.mark.parametrize("medicine", HANDOUT_PACKS)
def test_every_language_has_the_same_keys_and_placeholders(medicine: str) -> None:
    english = load_wording("en", medicine)
    assert english is not None
    for code in approved_languages(medicine):
        wording = load_wording(code, medicine)
        assert wording is not None
        assert set(wording.data.text) == set(english.data.text)
        for key, text in english.data.text.items():
            assert placeholders(wording.data.text[key]) == placeholders(text), (code, key)
        assert not sheet_problems(load_facts(medicine), wording.data), code


@pytest.mark.parametrize("medicine", HANDOUT_PACKS)
def test_every_interaction_in_the_knowledge_base_has_patient_words(medicine: str) -> None:
    kb = load_pack(medicine)
    facts = load_facts(medicine)
    for code in approved_languages(medicine):
        wording = load_wording(code, medicine)
        assert wording is not None
        missing = [r.id for r in kb.interactions if r.id not in wording.data.avoid_agents]
        assert not missing, f"{code}: no patient wording for {missing}"
        assert set(wording.data.guide) >= {r.family for r in kb.rule_sets}
        assert set(wording.data.programme_contact) >= {r.family for r in kb.rule_sets}
        assert {advice.advice for advice in facts.own_medicine.values()} <= set(
            wording.data.own_medicine
        )
    assert set(facts.own_medicine) == {r.id for r in kb.interactions}


@pytest.mark.parametrize("medicine", HANDOUT_PACKS)
def test_every_source_the_sheet_cites_is_registered(medicine: str) -> None:
    kb, facts = load_pack(medicine), load_facts(medicine)
    known = set(kb.sources) | set(facts.sources)
    cited = [key for fact in facts.facts.values() for key in fact.sources]
    cited += [key for advice in facts.own_medicine.values() for key in advice.sources]
    cited += [key for guide in load_coverage(medicine).guides for key in guide.sources]
    # C-keys are the confirmation pass, cited where it corrected a fact.
    unknown = sorted({key for key in cited if key not in known and not key.startswith("C")})
    assert not unknown, unknown
    assert not set(facts.sources) & set(kb.sources), "a sheet source reuses a register key"


def test_facts_are_cited_with_knowledge_base_sources(kb: KnowledgeBase) -> None:
    facts = load_facts()
    for name, fact in facts.facts.items():
        for key in fact.sources:
            # C-keys are the confirmation pass, cited where it corrected a fact.
            assert key in kb.sources or key.startswith("C"), (name, key)
    assert facts.facts["breastfeeding_days_after"].value == 8
    assert facts.facts["blood_donation_months_after"].value == 1
    assert facts.facts["cosmetic_months_after"].value == 6


def test_fonts_ship_with_their_licences() -> None:
    fonts = paths.resource("fonts")
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DroidSansFallback.ttf"):
        assert (fonts / name).is_file()
    assert "Bitstream" in (fonts / "DejaVu-LICENSE.txt").read_text(encoding="utf-8")
    assert "Apache" in (fonts / "DroidSansFallback-LICENSE.txt").read_text(encoding="utf-8")


def test_importing_the_package_does_not_import_reportlab() -> None:
    code = (
        "import sys, pharmacist_tool.handout as h; "
        "assert h.Handout and 'reportlab' not in sys.modules, 'reportlab imported'"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode()


def test_a_sheet_plan_naming_unknown_words_or_facts_is_reported() -> None:
    import msgspec

    from pharmacist_tool.handout.wording import SheetLine

    facts = load_facts("valproate")
    english = load_wording("en", "valproate")
    assert english is not None
    plan = msgspec.structs.replace(
        facts.sheet,
        other=[
            SheetLine(key="no_such_line"),
            SheetLine(key="men_sperm", values={"months": "no_such_fact:months"}),
            SheetLine(key="dont_stop", values={"weeks": "sperm_donation_months_after:weeks"}),
        ],
    )
    problems = sheet_problems(msgspec.structs.replace(facts, sheet=plan), english.data)
    assert "no wording 'no_such_line'" in problems
    assert "men_sperm.months: no fact 'no_such_fact'" in problems
    assert "dont_stop.weeks: unknown unit 'weeks'" in problems
    assert "dont_stop: has no placeholder {weeks}" in problems
