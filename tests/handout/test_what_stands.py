"""Blocked and warned sheets say what stands in the way and what to do now, for every pack found
under ``resources/knowledge``, each of its rule sets and each language: a positive test (checked
again, the doctor calls; nothing about not getting pregnant), a method that does not count (which
and why), a medicine that weakens the pill (the method and the medicine as the patient named them;
condoms from today), an interaction (a supplement is stopped, a prescribed medicine never on the
sheet's word) and a programme rule; a warning handed over with is told under "What to do now"."""

from __future__ import annotations

import datetime as dt
import string
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest

from pharmacist_tool.case import Case, PregnancyTest, load_case
from pharmacist_tool.engine import assess
from pharmacist_tool.engine.assessment import Assessment, Finding
from pharmacist_tool.handout import render_handout
from pharmacist_tool.handout.wording import Wording, load_facts, load_wording
from pharmacist_tool.knowledge import load_for_counter
from pharmacist_tool.knowledge.model import ContraceptionMethod, InteractionRule, KnowledgeBase
from tests.handout.conftest import ROUTINE, SETTINGS, read_pdf, squeeze

LANGUAGES = ("en", "es")


def fixed_words(template: str) -> list[str]:
    """The fixed stretches of a template (between its placeholders), squeezed."""
    parts = [literal.strip(" ,.:") for literal, *_ in string.Formatter().parse(template)]
    return [squeeze(part) for part in parts if len(part) > 3]


def says(text: str, template: str) -> bool:
    return all(part in text for part in fixed_words(template))


def sheet(case: Case, kb: KnowledgeBase, language: str) -> tuple[str, Assessment]:
    assessment = assess(case, kb)
    handout = render_handout(case, assessment, kb, SETTINGS, language=language)
    assert handout.language == language
    return read_pdf(handout.pdf).flat, assessment


def family(kb: KnowledgeBase, case: Case) -> str:
    return next(r.family for r in kb.rule_sets if r.id == case.rule_set)


def methods(kb: KnowledgeBase, case: Case, *statuses: str) -> list[ContraceptionMethod]:
    fam = family(kb, case)
    return [m for m in kb.contraception if m.status.get(fam) in statuses and m.terms]


def finding(assessment: Assessment, prefix: str) -> Finding | None:
    return next((f for f in assessment.findings if f.code.startswith(prefix)), None)


def told(w: Wording, found: Finding, key: str) -> list[str]:
    """The templates a finding must be told with: blocked (why and next) or what to do now."""
    if found.severity == "block":
        return [w.data.blocked[key], w.data.blocked_next[key]]
    return [w.data.act[key]]


def cases() -> Iterator[tuple[str, Path, str]]:
    for pack, path in ROUTINE:
        for language in LANGUAGES:
            yield pack, path, language


PARAMS = [
    pytest.param(path, language, id=f"{path.stem}-{language}") for _pack, path, language in cases()
]


def base(path: Path) -> tuple[Case, KnowledgeBase]:
    case = load_case(path)
    return case, load_for_counter(case.prescription.medicine)


@pytest.mark.parametrize(("path", "language"), PARAMS)
def test_a_positive_test_is_checked_again_and_the_doctor_calls(path: Path, language: str) -> None:
    case, kb = base(path)
    if not case.patient.can_get_pregnant:
        pytest.skip("a positive test is asked of a patient who can get pregnant")
    w = load_wording(language, kb.medicine)
    assert w is not None
    tested = msgspec.structs.replace(
        case,
        pregnancy_tests=[
            PregnancyTest(date=case.counselled_on - dt.timedelta(days=1), result="positive")
        ],
    )
    text, assessment = sheet(tested, kb, language)
    found = finding(assessment, "pregnancy-test.positive")
    assert found is not None
    for template in told(w, found, "pregnancy-test.positive"):
        assert says(text, template), template
    # nothing that no longer makes sense once a test is positive
    for line in load_facts(kb.medicine).sheet.still + load_facts(kb.medicine).sheet.stop:
        if not line.after_positive_test:
            assert not says(text, w.data.text[line.key]), line.key


@pytest.mark.parametrize(("path", "language"), PARAMS)
def test_a_method_that_does_not_count_is_named_with_why(path: Path, language: str) -> None:
    case, kb = base(path)
    if not case.patient.can_get_pregnant:
        pytest.skip("birth control is asked of a patient who can get pregnant")
    w = load_wording(language, kb.medicine)
    assert w is not None
    bad = next(m for m in methods(kb, case, "not-acceptable") if m.id in w.data.not_counted)
    ok = next(m for m in methods(kb, case, "secondary") if not m.hormonal)
    tried = msgspec.structs.replace(case, contraception=[bad.terms[0], ok.terms[0]])
    text, assessment = sheet(tried, kb, language)
    found = finding(assessment, "contraception.rule-not-met")
    assert found is not None
    for template in told(w, found, "contraception.rule-not-met"):
        assert says(text, template), template
    assert squeeze(bad.names.get(language, bad.label)).lower() in text.lower()
    assert says(text, w.data.not_counted[bad.id].format(generic=w.data.generic))
    assert says(text, w.data.text["bc_not_enough"])


def inducer(kb: KnowledgeBase) -> InteractionRule:
    """A medicine that weakens the pill at any dose (a supplement, if the pack has one)."""
    facts = load_facts(kb.medicine)
    rules = [
        r for r in kb.interactions
        if r.weakens_hormonal_contraception and r.weakens_contraception_from_mg_per_day is None
        and r.id in facts.own_medicine
    ]  # fmt: skip
    supplements = [r for r in rules if facts.own_medicine[r.id].advice == "stop-supplement"]
    return (supplements or rules)[0]


@pytest.mark.parametrize(("path", "language"), PARAMS)
def test_a_medicine_that_weakens_the_pill_is_named_with_condoms_from_today(
    path: Path, language: str
) -> None:
    case, kb = base(path)
    if not case.patient.can_get_pregnant:
        pytest.skip("birth control is asked of a patient who can get pregnant")
    w = load_wording(language, kb.medicine)
    assert w is not None
    pill = next(m for m in methods(kb, case, "primary", "secondary")
                if m.weakened_by_enzyme_inducers)  # fmt: skip
    condom = next(m for m in methods(kb, case, "secondary") if not m.hormonal)
    rule = inducer(kb)
    own_pill, own_medicine = f"My {pill.terms[0]}", rule.terms[0]
    weakened = msgspec.structs.replace(
        case, contraception=[own_pill, condom.terms[0]], medicines=[own_medicine]
    )
    text, assessment = sheet(weakened, kb, language)
    found = finding(assessment, "contraception.weakened") or finding(
        assessment, "contraception.rule-not-met"
    )
    assert found is not None
    key = (
        "contraception.weakened"
        if found.code.startswith("contraception.weakened")
        else ("contraception.rule-not-met")
    )
    for template in told(w, found, key):
        assert says(text, template), template
    if language == "en" and key == "contraception.weakened":
        assert squeeze(f"Your {own_pill} may not work while you take {own_medicine}") in text
    advice = load_facts(kb.medicine).own_medicine[rule.id].advice
    assert says(text, w.data.own_medicine[advice])
    assert "condom" in text.lower() or "condón" in text.lower()


@pytest.mark.parametrize(("path", "language"), PARAMS)
def test_an_interaction_stops_a_supplement_and_never_a_prescribed_medicine(
    path: Path, language: str
) -> None:
    case, kb = base(path)
    w = load_wording(language, kb.medicine)
    assert w is not None
    facts = load_facts(kb.medicine)
    blocking = [
        r for r in kb.interactions
        if r.severity.for_rule_set(case.rule_set) == "block" and r.id in facts.own_medicine
        and r.terms and not r.contraception_methods
    ]  # fmt: skip
    for rule in blocking:
        taking = msgspec.structs.replace(case, medicines=[rule.terms[0]])
        text, assessment = sheet(taking, kb, language)
        found = finding(assessment, f"interaction.{rule.id}")
        if found is None or not found.stands:  # not for this patient
            continue
        assert says(text, w.data.blocked["interaction"]), rule.id
        advice = facts.own_medicine[rule.id].advice
        assert says(text, w.data.own_medicine[advice]), rule.id
        if advice != "stop-supplement":
            assert not says(text, w.data.own_medicine["stop-supplement"]), rule.id


@pytest.mark.parametrize(("path", "language"), PARAMS)
def test_a_programme_rule_says_what_stands_and_what_happens_next(path: Path, language: str) -> None:
    case, kb = base(path)
    w = load_wording(language, kb.medicine)
    assert w is not None
    long = msgspec.structs.replace(
        case, prescription=msgspec.structs.replace(case.prescription, days_supply=365)
    )
    text, assessment = sheet(long, kb, language)
    for found in assessment.findings:
        if found.severity == "block" and found.stands:
            key = found.code if found.code in w.data.blocked else "other"
            assert says(text, w.data.blocked[key]), found.code
            assert says(text, w.data.blocked_next[key]), found.code
