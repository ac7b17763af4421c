"""The sheet is this patient's, for every pack found under ``resources/knowledge`` and each
language: their own medicine names (never a class phrase in their place), every class warning
kept when their own medicine of that class is named, the last fill's calendar (the dates after the
course, in order, no next fill), the English fallback note in their language, advice for men under
"For men" only to a man, and each rule set's real date (never a made-up one)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import msgspec
import pytest

from pharmacist_tool.case import Case, Course, load_case
from pharmacist_tool.engine import assess
from pharmacist_tool.handout import handout_content, render_handout
from pharmacist_tool.handout.wording import fallback_notes, load_facts, load_wording
from pharmacist_tool.knowledge import load_for_counter
from pharmacist_tool.knowledge.model import KnowledgeBase
from tests.handout.conftest import ROUTINE, ROUTINE_IDS, SETTINGS, read_pdf, squeeze

LANGUAGES = ("en", "es")


def base(path: Path) -> tuple[Case, KnowledgeBase]:
    case = load_case(path)
    return case, load_for_counter(case.prescription.medicine)


def flat(case: Case, kb: KnowledgeBase, language: str = "en") -> str:
    handout = render_handout(case, assess(case, kb), kb, SETTINGS, language=language)
    return read_pdf(handout.pdf).flat


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(("pack", "path"), ROUTINE, ids=ROUTINE_IDS)
def test_the_patients_own_medicine_names_in_every_language(
    pack: str, path: Path, language: str
) -> None:
    case, kb = base(path)
    facts = load_facts(kb.medicine)
    named = 0
    for rule in kb.interactions:
        advice = facts.own_medicine.get(rule.id)
        if advice is None or advice.advice != "do-not-stop" or not rule.terms:
            continue
        own = f"{rule.terms[0].title()} 200 mg"
        text = flat(msgspec.structs.replace(case, medicines=[own]), kb, language)
        assert squeeze(own) in text, (rule.id, own)
        named += 1
    assert named


@pytest.mark.parametrize(("pack", "path"), ROUTINE, ids=ROUTINE_IDS)
def test_a_class_warning_stays_when_the_patients_own_medicine_of_it_is_stopped(
    pack: str, path: Path
) -> None:
    case, kb = base(path)
    facts = load_facts(kb.medicine)
    w = load_wording("en", kb.medicine)
    assert w is not None
    checked = 0
    listed = flat(case, kb)  # the classes the sheet lists for this patient
    for rule in kb.interactions:
        words = w.data.avoid_agents.get(rule.id)
        advice = facts.own_medicine.get(rule.id)
        if not words or advice is None or not rule.terms or squeeze(words) not in listed:
            continue
        stopped = msgspec.structs.replace(
            case,
            medicines=[rule.terms[0]],
            resolutions={f"interaction.{rule.id}": "Stopped by the prescriber today"},
        )
        assessment = assess(stopped, kb)
        if assessment.dispense == "do-not-dispense":
            continue
        text = flat(stopped, kb)
        assert squeeze(words) in text, rule.id
        checked += 1
    assert checked


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(("pack", "path"), ROUTINE, ids=ROUTINE_IDS)
def test_the_last_fill_shows_the_dates_after_the_course_in_order_and_no_next_fill(
    pack: str, path: Path, language: str
) -> None:
    case, kb = base(path)
    last = msgspec.structs.replace(case, course=Course(fill_number=6, last_fill=True))
    content = handout_content(last, assess(last, kb), kb, SETTINGS, language=language)
    calendar = content.section("calendar")
    assert calendar is not None
    keys = [line.key for line in calendar.lines]
    assert "cal_pick_up" not in keys and "cal_next_test" not in keys
    assert "cal_last_dose" in keys
    w = load_wording(language, kb.medicine)
    assert w is not None
    months = {name: i + 1 for i, name in enumerate(w.data.months)}
    days = []
    for line in calendar.lines:
        value = line.spans[-1].text.replace(" de ", " ").split()  # "22 December 2026"
        days.append(dt.date(int(value[-1]), months[value[-2]], int(value[-3])))
    assert days == sorted(days)


@pytest.mark.parametrize(("pack", "path"), ROUTINE, ids=ROUTINE_IDS)
def test_the_english_fallback_note_is_in_the_patients_language(pack: str, path: Path) -> None:
    case, kb = base(path)
    for language, note in fallback_notes().items():
        handout = render_handout(case, assess(case, kb), kb, SETTINGS, language=language)
        assert handout.language == "en"
        assert squeeze(note) in read_pdf(handout.pdf).flat, language


def test_advice_for_men_is_titled_for_men_only_for_a_man() -> None:
    for pack, path in ROUTINE:
        case, kb = base(path)
        facts = load_facts(kb.medicine)
        w = load_wording("en", kb.medicine)
        assert w is not None
        for spec in facts.sheet.sections:
            if spec.sex != "male":
                continue
            man = msgspec.structs.replace(
                case, patient=msgspec.structs.replace(case.patient, sex="male",
                                                      can_get_pregnant=False),
            )  # fmt: skip
            unstated = msgspec.structs.replace(
                man, patient=msgspec.structs.replace(man.patient, sex=None)
            )
            title = squeeze(w(spec.title))
            assert title in flat(man, kb)
            assert title not in flat(unstated, kb), pack


@pytest.mark.parametrize(("pack", "path"), ROUTINE, ids=ROUTINE_IDS)
def test_each_rule_set_prints_its_real_date(pack: str, path: Path) -> None:
    case, kb = base(path)
    for rule_set in kb.rule_sets:
        other = msgspec.structs.replace(case, rule_set=rule_set.id)
        text = flat(other, kb)
        assert "1January2000" not in text, rule_set.id
