"""Every pack with handout wording gets its own sheet (acitretin, valproate), read back from the
PDF: in English, Spanish and large print; its key warnings in both languages; the advice for men
where the contract says; a "not handed over today" sheet without a dose; every key point of the
pack's Medication Guide / leaflet printed or excluded with a reason."""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any

import msgspec
import pytest

from pharmacist_tool.case import Case, load_case
from pharmacist_tool.engine import assess
from pharmacist_tool.handout import handout_content, render_handout
from pharmacist_tool.handout.wording import Wording, load_coverage, load_wording
from pharmacist_tool.knowledge import load_pack
from pharmacist_tool.knowledge.model import KnowledgeBase
from tests.conftest import run_cli
from tests.handout.conftest import SETTINGS, font_sizes, handout_packs, read_pdf, squeeze

PACK_CASES = Path(__file__).parents[1] / "fixtures" / "packs"
CASES = sorted(p.stem for p in PACK_CASES.glob("*.json"))
LANGUAGES = ("en", "es")


def pack_case(name: str) -> Case:
    return load_case(PACK_CASES / f"{name}.json")


def medicine_of(name: str) -> str:
    return name.split("-")[0]


def kb_for(name: str) -> KnowledgeBase:
    return load_pack(medicine_of(name))


def wording(medicine: str, language: str) -> Wording:
    found = load_wording(language, medicine)
    assert found is not None, (medicine, language)
    return found


def replace(case: Case, **changes: Any) -> Case:
    return msgspec.structs.replace(case, **changes)


def with_patient(case: Case, **changes: Any) -> Case:
    return replace(case, patient=msgspec.structs.replace(case.patient, **changes))


def with_rx(case: Case, **changes: Any) -> Case:
    return replace(case, prescription=msgspec.structs.replace(case.prescription, **changes))


def sheet(case: Case, kb: KnowledgeBase, language: str = "en", large: bool = False) -> str:
    handout = render_handout(
        case, assess(case, kb), kb, SETTINGS, language=language, large_print=large
    )
    assert handout.language == language
    return read_pdf(handout.pdf).flat


def said(w: Wording, key: str, **values: str) -> str:
    """The fixed words of a wording line: its longest stretch between placeholders."""
    parts = [literal for literal, *_ in string.Formatter().parse(w.data.text[key])]
    return squeeze(max(parts, key=len).strip(" ,.:"))


# -- every pack case renders ------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", CASES)
def test_each_pack_case_renders_in_both_languages_and_large_print(name: str, language: str) -> None:
    case, kb = pack_case(name), kb_for(name)
    assessment = assess(case, kb)
    assert assessment.knowledge_base.medicine == medicine_of(name)
    w = wording(medicine_of(name), language)
    regular = render_handout(case, assessment, kb, SETTINGS, language=language)
    large = render_handout(case, assessment, kb, SETTINGS, language=language, large_print=True)
    assert (regular.language, large.language) == (language, language)
    assert not regular.blocked
    back, big = read_pdf(regular.pdf), read_pdf(large.pdf)
    assert back.pages <= 2, (name, language, back.pages)
    assert big.pages > back.pages
    assert min(font_sizes(big.reader)) >= 14 > min(font_sizes(back.reader))
    first = handout_content(case, assessment, kb, SETTINGS, language=language).sections[0]
    page_one = squeeze(big.reader.pages[0].extract_text())
    assert squeeze(first.title) in page_one and squeeze(first.lines[0].text) in page_one
    for flat in (back.flat, big.flat):
        assert squeeze(w("stop_title")) in flat
        assert squeeze(w.data.generic) in flat.casefold()
        assert squeeze(w("title", product=assessment.product or w.data.generic)) in flat


def test_the_cli_writes_a_pack_sheet(tmp_path: Path) -> None:
    out = tmp_path / "sheet.pdf"
    done = run_cli("handout", str(PACK_CASES / "valproate-uk-ppp-man.json"), "-o", str(out))
    assert done.returncode == 0, done.stderr.decode()
    assert squeeze("For men") in read_pdf(out.read_bytes()).flat


# -- the key warnings, in both languages ------------------------------------------------------

KEY_WARNINGS = {
    "acitretin-uk-ppp-routine": ["why_defects", "why_no_pregnancy", "other_alcohol", "other_blood"],
    "acitretin-us-label-routine": [
        "why_defects", "why_no_pregnancy", "other_alcohol", "other_blood", "bc_rule_us"
    ],
    "valproate-uk-ppp-routine": [
        "why_defects", "why_no_pregnancy", "bc_rule_uk", "dont_stop", "stop_pregnant",
        "other_card", "other_review",
    ],
    "valproate-uk-ppp-man": ["dont_stop", "men_condoms", "men_sperm", "men_baby", "other_card"],
    "topiramate-uk-ppp-routine": [
        "why_defects", "why_no_pregnancy", "bc_rule_uk", "dont_stop", "stop_pregnant",
        "stop_liver", "other_card", "other_review", "other_full_pack",
    ],
    "topiramate-eu-ppp-epilepsy": [
        "why_defects", "bc_rule_uk", "bc_inducer", "dont_stop", "other_card", "other_review",
    ],
    "topiramate-us-rems-routine": [
        "why_defects", "why_no_pregnancy", "bc_rule_uk", "cal_next_test", "other_brochure",
    ],
}  # fmt: skip
MEDICINES = sorted({medicine_of(name) for name in CASES})
"""Every pack that has a case here (and so handout wording): found, not listed by hand."""


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", CASES)
def test_the_key_warnings_are_on_the_sheet(name: str, language: str) -> None:
    case, kb = pack_case(name), kb_for(name)
    content = handout_content(case, assess(case, kb), kb, SETTINGS, language=language)
    flat = sheet(case, kb, language)
    printed = {line.key: line.text for s in content.sections for line in s.lines}
    for key in KEY_WARNINGS[name]:
        assert key in printed, (name, key)
        assert squeeze(printed[key]) in flat, (name, language, key)


@pytest.mark.parametrize("language", LANGUAGES)
def test_acitretin_gives_the_three_years_and_the_two_months(language: str) -> None:
    case, kb = pack_case("acitretin-us-label-routine"), load_pack("acitretin")
    w = wording("acitretin", language)
    flat = sheet(case, kb, language)
    years, months = w.count("year", 3), w.count("month", 2)
    assert squeeze(w("other_blood", years=years)) in flat
    assert squeeze(w("other_alcohol", months=months)) in flat
    before, after = w.count("month", 1), w.count("year", 3)
    assert squeeze(w("why_no_pregnancy", before=before, after=after)) in flat


@pytest.mark.parametrize("language", LANGUAGES)
def test_valproate_never_says_stop_taking_it(language: str) -> None:
    kb = load_pack("valproate")
    stop_taking = wording("isotretinoin", language).data.text["stop_intro"].split("{")[0]
    assert stop_taking in ("Stop taking ", "Deje de tomar ")
    for name in ("valproate-uk-ppp-routine", "valproate-uk-ppp-man"):
        case = pack_case(name)
        content = handout_content(case, assess(case, kb), kb, SETTINGS, language=language)
        texts = [line.text for section in content.sections for line in section.lines]
        assert not [text for text in texts if text.startswith(stop_taking)], name
        assert squeeze(wording("valproate", language)("dont_stop_title")) in sheet(
            case, kb, language
        )


def test_men_get_the_advice_for_men_as_the_contract_says() -> None:
    kb = load_pack("valproate")
    w = wording("valproate", "en")
    men = squeeze(w("men_title"))
    man = pack_case("valproate-uk-ppp-man")
    assert man.patient.sex == "male"
    woman = pack_case("valproate-uk-ppp-routine")
    assert woman.patient.sex is None and woman.patient.can_get_pregnant
    assert men in sheet(man, kb)
    assert men not in sheet(woman, kb)
    # sex not given: men's advice for a patient who cannot get pregnant, never for one who can,
    # under a title that does not say "For men"
    unstated = sheet(with_patient(man, sex=None), kb)
    assert men not in unstated
    assert squeeze(w("men_title_unstated")) in unstated
    assert squeeze(w("men_sperm", months="3 months")) in unstated
    assert men not in sheet(with_patient(man, sex="female"), kb)
    # a man recorded as able to get pregnant gets both
    both = sheet(with_patient(woman, sex="male"), kb)
    assert men in both and squeeze(w("why_title")) in both


# -- the "not handed over today" sheet --------------------------------------------------------

DOSING_KEYS = ("dose_1", "dose_2", "dose_3", "dose_n", "food_with", "food_any", "swallow",
               "missed_dose", "supply", "dose_with_mg", "medicine_line")  # fmt: skip


def dosing_fragments(w: Wording) -> list[str]:
    found: list[str] = []
    for key in DOSING_KEYS:
        for literal, *_ in string.Formatter().parse(w.data.text[key]):
            fragment = literal.strip(" ,.:()")
            if len(fragment.split()) >= 2:
                found.append(fragment)
    return found


def blocked_cases() -> dict[str, Case]:
    return {
        "acitretin-tetracycline": replace(
            pack_case("acitretin-uk-ppp-routine"), medicines=["doxycycline 100 mg"]
        ),
        "acitretin-us-tetracycline": replace(
            pack_case("acitretin-us-label-routine"), medicines=["minocycline"]
        ),
        "valproate-dose": with_rx(
            pack_case("valproate-uk-ppp-routine"), units_per_dose=4, quantity=240
        ),
        "valproate-man-dose": with_rx(
            pack_case("valproate-uk-ppp-man"), units_per_dose=4, quantity=240
        ),
    }


@pytest.mark.parametrize("large", [False, True])
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("which", sorted(blocked_cases()))
def test_a_blocked_pack_sheet_has_no_dosing_words(which: str, language: str, large: bool) -> None:
    case = blocked_cases()[which]
    medicine = medicine_of(which)
    kb = load_pack(medicine)
    assessment = assess(case, kb)
    assert assessment.dispense == "do-not-dispense", which
    handout = render_handout(case, assessment, kb, SETTINGS, language=language, large_print=large)
    assert handout.blocked
    flat = read_pdf(handout.pdf).flat
    for line in case.medicines:
        flat = flat.replace(squeeze(line), "")
    w = wording(medicine, language)
    fragments = dosing_fragments(w)
    assert len(fragments) >= 4
    for fragment in fragments:
        assert squeeze(fragment) not in flat, (which, fragment)
    content = handout_content(case, assessment, kb, SETTINGS, language=language)
    assert content.title == w("title_blocked", product=assessment.product or w.data.generic)
    for key in ("blocked_why_title", "blocked_next_title", "blocked_still_title", "stop_title"):
        assert squeeze(w(key)) in flat, key
    reasons = [line for line in content.sections[0].lines if line.key.startswith("blocked.")]
    assert reasons and all(line.key != "blocked.other" for line in reasons)
    if medicine == "valproate":  # stopping suddenly is the danger: never "do not take it"
        assert squeeze(w("dont_stop", generic=w.data.generic)) in flat
        assert said(w, "blocked_none") in flat
    if medicine == "acitretin":
        assert squeeze(w("other_blood", years=w.count("year", 3))) in flat
    if not large:
        assert read_pdf(handout.pdf).pages <= 2


def test_a_dispensed_sheet_has_the_dosing_words_the_check_looks_for() -> None:
    for name in CASES:
        w = wording(medicine_of(name), "en")
        flat = sheet(pack_case(name), kb_for(name))
        seen = [f for f in dosing_fragments(w) if squeeze(f) in flat]
        assert len(seen) >= 3, (name, seen)


# -- the Medication Guide / leaflet coverage --------------------------------------------------


def coverage_cases() -> dict[str, Case]:
    valproate_us = with_rx(
        replace(pack_case("valproate-uk-ppp-routine"), rule_set="US-label"),
        medicine="Depakote 500 mg",
    )
    cases = {name: pack_case(name) for name in CASES}
    cases["valproate-us-label-routine"] = valproate_us
    # a method that does not count prints its own line, with why
    for name, case in cases.items():
        if case.patient.can_get_pregnant:
            cases[name] = replace(case, contraception=[*case.contraception, "withdrawal"])
    return cases


@pytest.mark.parametrize("medicine", handout_packs())
def test_every_key_point_is_printed_or_excluded_with_a_reason(medicine: str) -> None:
    coverage = load_coverage(medicine)
    en = wording(medicine, "en").data
    tables = {"avoid_agents", "own_medicine", "blocked", "blocked_next", "not_counted", "act"}
    kb = load_pack(medicine)
    assert {f for g in coverage.guides for f in g.families} == {r.family for r in kb.rule_sets}
    for guide in coverage.guides:
        assert len(guide.points) >= 15, guide.id
        assert all(key in kb.sources or key in _facts_sources(medicine) for key in guide.sources)
        for point in guide.points:
            assert point.lines or len(point.excluded) > 40, (guide.id, point.id)
            assert not (point.lines and point.excluded), (guide.id, point.id)
            for key in point.lines:
                assert key in en.text or key in tables, (guide.id, point.id, key)


def _facts_sources(medicine: str) -> set[str]:
    from pharmacist_tool.handout.wording import load_facts

    return set(load_facts(medicine).sources)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", sorted(coverage_cases()))
def test_the_key_points_hold_on_the_printed_sheet(name: str, language: str) -> None:
    case = coverage_cases()[name]
    kb = kb_for(name)
    assessment = assess(case, kb)
    assert assessment.dispense != "do-not-dispense", name
    content = handout_content(case, assessment, kb, SETTINGS, language=language)
    flat = sheet(case, kb, language)
    by_key: dict[str, list[str]] = {}
    for section in content.sections:
        for line in section.lines:
            by_key.setdefault(line.key.split(".")[0], []).append(line.text)
    family = next(r.family for r in kb.rule_sets if r.id == case.rule_set)
    checked = 0
    for guide in load_coverage(kb.medicine).guides:
        if family not in guide.families:
            continue
        for point in guide.points:
            if point.patient != "all" and (point.patient == "can-get-pregnant") != (
                case.patient.can_get_pregnant
            ):
                continue
            for key in point.lines:
                assert key in by_key, (guide.id, point.id, key)
                for text in by_key[key]:
                    assert squeeze(text) in flat, (point.id, text)
                checked += 1
    assert checked >= 10
