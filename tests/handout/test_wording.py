"""The handout's words are data: every approved language matches English; the KB is covered."""

from __future__ import annotations

import subprocess
import sys

from pharmacist_tool import paths
from pharmacist_tool.handout.wording import (
    approved_languages,
    load_facts,
    load_wording,
    placeholders,
)
from pharmacist_tool.knowledge.model import KnowledgeBase


def test_english_and_spanish_are_approved() -> None:
    assert approved_languages() == ["en", "es"]
    assert load_wording("fr") is None
    assert load_wording("../en") is None


def test_every_language_has_the_same_keys_and_placeholders() -> None:
    english = load_wording("en")
    assert english is not None
    for code in approved_languages():
        wording = load_wording(code)
        assert wording is not None
        assert set(wording.data.text) == set(english.data.text)
        for key, text in english.data.text.items():
            assert placeholders(wording.data.text[key]) == placeholders(text), (code, key)


def test_every_interaction_in_the_knowledge_base_has_patient_words(kb: KnowledgeBase) -> None:
    for code in approved_languages():
        wording = load_wording(code)
        assert wording is not None
        missing = [r.id for r in kb.interactions if r.id not in wording.data.avoid_agents]
        assert not missing, f"{code}: no patient wording for {missing}"
        assert set(wording.data.guide) >= {r.family for r in kb.rule_sets}


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
