"""The sheet tells the truth of the session, read back from the PDF.

A blocked session never gets dosing instructions; the patient who can get pregnant reads first
that the medicine causes severe birth defects; only what is true for this patient is printed (the
methods that count as the plan, a method that does not count with why, abstinence, inducers,
medicines the prescriber stopped); the patient is never told to stop a prescribed medicine; every
key point of the Medication Guide / leaflet is printed or excluded with a reason; a Spanish sheet
has no English word of the wording or the knowledge base.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import string
from pathlib import Path
from typing import Any

import msgspec
import pytest

from pharmacist_tool import paths
from pharmacist_tool.case import Case, PregnancyTest, load_case
from pharmacist_tool.engine import assess
from pharmacist_tool.handout import handout_content, render_handout
from pharmacist_tool.handout.wording import (
    Wording,
    load_coverage,
    load_facts,
    load_wording,
    pack_folder,
)
from pharmacist_tool.knowledge import find_product, load_pack
from pharmacist_tool.knowledge.model import KnowledgeBase
from pharmacist_tool.settings import Settings
from tests.conftest import EXAMPLE_FILES, example_case, example_path, run_cli
from tests.handout.conftest import SETTINGS, assessed, read_pdf, render, squeeze

LANGUAGES = ("en", "es")
HANDOUT_PACKS = sorted(
    p.parent.parent.name for p in paths.resource("knowledge").glob("*/handout/en.json")
)
PACK_CASES = Path(__file__).parents[1] / "fixtures" / "packs"


def wording(language: str) -> Wording:
    found = load_wording(language)
    assert found is not None
    return found


def replace(case: Case, **changes: Any) -> Case:
    return msgspec.structs.replace(case, **changes)


def with_rx(case: Case, **changes: Any) -> Case:
    return replace(case, prescription=msgspec.structs.replace(case.prescription, **changes))


# -- blocked sessions -------------------------------------------------------------------------


def blocked_cases() -> dict[str, Case]:
    routine = example_case("01")
    return {
        "positive-test": replace(
            routine, pregnancy_tests=[PregnancyTest(date=dt.date(2026, 11, 21), result="positive")]
        ),
        "window-closed": example_case("04"),
        "method-does-not-count": example_case("03"),
        "no-authorization": with_rx(routine, authorization=None),
        "tetracycline": example_case("02"),
    }


BLOCKED = sorted(blocked_cases())
DOSING_KEYS = ("dose_1", "dose_2", "dose_3", "dose_n", "food_with", "food_any", "swallow",
               "missed_dose", "supply", "dose_with_mg", "medicine_line")  # fmt: skip


def dosing_fragments(w: Wording) -> list[str]:
    """The fixed words of every dosing sentence (two words or more between the placeholders)."""
    found: list[str] = []
    for key in DOSING_KEYS:
        for literal, *_ in string.Formatter().parse(w.data.text[key]):
            fragment = literal.strip(" ,.:()")
            if len(fragment.split()) >= 2:
                found.append(fragment)
    return found


def test_dosing_fragments_are_found_on_an_ordinary_sheet(kb: KnowledgeBase) -> None:
    """The check below would see dosing words if they were there."""
    for language in LANGUAGES:
        flat = read_pdf(render(example_case("01"), kb, language=language).pdf).flat
        seen = [f for f in dosing_fragments(wording(language)) if squeeze(f) in flat]
        assert len(seen) >= 5, seen


@pytest.mark.parametrize("large", [False, True])
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("which", BLOCKED)
def test_a_blocked_session_never_gets_dosing_words(
    which: str, language: str, large: bool, kb: KnowledgeBase
) -> None:
    case = blocked_cases()[which]
    assessment = assessed(case, kb)
    assert assessment.dispense == "do-not-dispense", which
    handout = render(case, kb, language=language, large_print=large)
    assert handout.blocked
    back = read_pdf(handout.pdf)
    w = wording(language)
    ours = back.flat
    for line in case.medicines:  # the patient's own words ("doxycycline once a day") are theirs
        ours = ours.replace(squeeze(line), "")
    for fragment in dosing_fragments(w):
        assert squeeze(fragment) not in ours, (which, fragment)
    for words in ("with food", "once a day", "in the morning", "This fill is for", "con comida"):
        assert squeeze(words) not in ours, (which, words)
    content = handout_content(case, assessment, kb, SETTINGS, language=language)
    assert content.blocked and content.title == w("title_blocked", product="Claravis")
    assert squeeze(content.title) in back.flat
    for key in ("blocked_why_title", "blocked_next_title", "blocked_still_title", "stop_title"):
        assert squeeze(w(key)) in back.flat, key
    reasons = [line for line in content.sections[0].lines if line.key.startswith("blocked.")]
    assert reasons, "what stands in the way is said"
    assert all(line.key != "blocked.other" for line in reasons), "each block has its own words"
    for line in reasons:
        assert squeeze(line.text) in back.flat
    if not large:
        assert back.pages <= 2


def test_positive_test_says_do_not_take_any_more_and_call_today(kb: KnowledgeBase) -> None:
    case = blocked_cases()["positive-test"]
    text = read_pdf(render(case, kb).pdf).flat
    assert squeeze("Your pregnancy test was positive.") in text
    assert squeeze("Tests are sometimes wrong, so it needs to be checked.") in text
    assert squeeze("Do not take any more isotretinoin. We will tell your doctor today.") in text
    assert squeeze("Your doctor will call you to check the test") in text
    assert squeeze("iPLEDGE, 1-866-495-0654") in text
    # coherent: no "do not get pregnant", no "keep using birth control", no "come back"
    for said in ("Do not get pregnant", "Keep using birth control", "come back to us",
                 "You might be pregnant, or your period is late"):  # fmt: skip
        assert squeeze(said) not in text, said


def test_each_block_says_what_stands_in_the_way(kb: KnowledgeBase) -> None:
    expected = {
        "window-closed": "The time to pick up this fill has run out.",
        "method-does-not-count": "Your birth control does not yet meet the rules",
        "no-authorization": "The programme has not said yes to this fill yet.",
        "tetracycline": "You take doxycycline 100 mg once a day. It must not be taken with",
    }
    for which, words in expected.items():
        text = read_pdf(render(blocked_cases()[which], kb).pdf).flat
        assert squeeze(words) in text, which
    minipill = read_pdf(render(blocked_cases()["method-does-not-count"], kb).pdf).flat
    assert squeeze("Talk to your doctor about birth control that counts.") in minipill


@pytest.mark.parametrize("medicine", HANDOUT_PACKS)
def test_every_code_that_can_block_has_its_own_words(medicine: str) -> None:
    messages = json.loads(
        paths.resource("knowledge", medicine, "messages.json").read_text(encoding="utf-8")
    )
    codes = {m["code"] for m in messages["messages"]}
    found = load_wording("en", medicine)
    assert found is not None
    en = found.data
    can_block = {
        c
        for c in codes
        if c.startswith(
            ("prescription.", "pregnancy-test.", "contraception.rule", "dose.above-max")
        )
    }
    can_block -= {"prescription.quantity-mismatch", "prescription.strength-not-made",
                  "prescription.not-substitutable", "prescription.product-market",
                  "prescription.second-prescriber"}  # fmt: skip
    assert can_block <= set(en.blocked), sorted(can_block - set(en.blocked))
    assert {"interaction", "contraception.weakened", "other"} <= set(en.blocked)
    assert set(en.blocked) == set(en.blocked_next)


def test_cli_says_the_sheet_is_the_not_handed_over_one(tmp_path: Any) -> None:
    out = tmp_path / "blocked.pdf"
    done = run_cli("handout", str(example_path("04")), "-o", str(out))
    assert done.returncode == 0, done.stderr.decode()
    lines = [ln for ln in done.stderr.decode().splitlines() if "not handed over today" in ln]
    assert len(lines) == 1
    assert squeeze("was not handed over today") in read_pdf(out.read_bytes()).flat
    ordinary = run_cli("handout", str(example_path("01")), "-o", str(tmp_path / "ok.pdf"))
    assert b"not handed over today" not in ordinary.stderr


# -- why it matters, first --------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_birth_defects_come_first_for_a_patient_who_can_get_pregnant(
    language: str, kb: KnowledgeBase
) -> None:
    w = wording(language)
    defects = w("why_defects", generic=w.data.generic)
    defects = defects[:1].upper() + defects[1:]
    for example in ("01", "06"):
        case = example_case(example)
        content = handout_content(case, assessed(case, kb), kb, SETTINGS, language=language)
        assert content.sections[0].key == "why"
        back = read_pdf(render(case, kb, language=language).pdf)
        page_one = squeeze(back.reader.pages[0].extract_text())
        assert squeeze(defects) in page_one
        assert page_one.index(squeeze(defects)) < page_one.index(squeeze(w("stop_title")))
    for example in ("02", "05"):
        case = example_case(example)
        content = handout_content(case, assessed(case, kb), kb, SETTINGS, language=language)
        assert "why" not in [s.key for s in content.sections]


def test_the_plan_names_the_rule_emergency_contraception_and_the_tests(kb: KnowledgeBase) -> None:
    us = read_pdf(render(example_case("01"), kb).pdf).flat
    assert squeeze("Use 2 kinds of birth control at the same time, every time you have sex.") in us
    assert squeeze("Ask about the morning-after pill.") in us
    assert squeeze("You will also have a test when you finish, and 1 month after") in us
    uk = read_pdf(render(example_case("06"), kb).pdf).flat
    assert squeeze("one kind that does not depend on you, like an IUD or an implant") in uk
    assert squeeze("2 kinds of birth control at the same time") not in uk
    assert squeeze("a test after you stop, when your doctor tells you") in uk


# -- only what is true for this patient -------------------------------------------------------


def birth_control_text(case: Case, kb: KnowledgeBase, language: str = "en") -> str:
    content = handout_content(case, assessed(case, kb), kb, SETTINGS, language=language)
    section = content.section("birth-control")
    assert section is not None, [s.key for s in content.sections]
    return squeeze(" ".join(line.text for line in section.lines))


def test_counted_methods_are_the_plan_and_a_method_that_does_not_count_says_why(
    kb: KnowledgeBase,
) -> None:
    case = replace(example_case("01"), contraception=["copper IUD", "male condoms", "minipill"])
    assert assessed(case, kb).dispense != "do-not-dispense"
    text = birth_control_text(case, kb)
    assert squeeze("Copper IUD (a main kind)") in text
    assert squeeze("Condoms (for men) (a second kind)") in text
    assert (
        squeeze(
            "Minipill (progestin-only pill) does not count. "
            "The minipill may not stop pregnancy with isotretinoin."
        )
        in text
    )
    assert squeeze("Minipill (progestin-only pill) (a") not in text
    es = birth_control_text(case, kb, "es")
    assert squeeze("Minipíldora (solo progestágeno) no cuenta.") in es


def test_abstinence_gets_its_own_words(kb: KnowledgeBase) -> None:
    case = replace(example_case("01"), contraception=["abstinence"])
    assert assessed(case, kb).dispense != "do-not-dispense"
    text = birth_control_text(case, kb)
    assert squeeze("You chose not to have sex at all.") in text
    assert squeeze("If you decide to have sex, tell your doctor first.") in text
    assert squeeze("Use 2 kinds of birth control at the same time") not in text
    assert squeeze("Your plan:") not in text
    assert squeeze("Usted eligió no tener sexo.") in birth_control_text(case, kb, "es")


def test_an_inducer_says_the_pill_may_not_work_and_what_to_do(kb: KnowledgeBase) -> None:
    case = replace(
        example_case("01"),
        contraception=["copper IUD", "combined pill", "male condoms"],
        medicines=["St John's wort"],
        resolutions={"interaction.st-johns-wort": "Patient will stop the herbal tea"},
    )
    assessment = assessed(case, kb)
    assert assessment.dispense != "do-not-dispense"
    text = birth_control_text(case, kb)
    assert (
        squeeze(
            "St John's wort can stop birth control pill (with estrogen) from working. "
            "Use condoms too"
        )
        in text
    )
    assert squeeze("ask your doctor what to do") in text
    # the rule is not met without the pill: the session is blocked and says why
    blocked = replace(case, contraception=["combined pill", "male condoms"])
    flat = read_pdf(render(blocked, kb).pdf).flat
    assert squeeze("Your combined pill may not work while you take St John's wort.") in flat
    assert squeeze("Use condoms every time you have sex, starting today.") in flat
    assert squeeze("St John's wort: stop taking it.") in flat


DO_NOT_STOP = ["corticosteroids", "anticonvulsants-bone", "warfarin", "photosensitising",
               "enzyme-inducers", "topiramate"]  # fmt: skip


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("rule_id", DO_NOT_STOP)
def test_a_prescribed_medicine_is_never_to_be_stopped_on_their_own(
    rule_id: str, language: str, kb: KnowledgeBase
) -> None:
    facts = load_facts()
    assert facts.own_medicine[rule_id].advice == "do-not-stop"
    rule = next(r for r in kb.interactions if r.id == rule_id)
    term = rule.terms[0] + (" 200 mg" if rule_id == "topiramate" else "")
    base = example_case("01") if rule.patient == "can-get-pregnant" else example_case("05")
    case = replace(base, medicines=[term], contraception=["copper IUD", "male condoms"])
    case = replace(case, patient=msgspec.structs.replace(case.patient, large_print=False))
    assessment = assessed(case, kb)
    case = replace(case, resolutions={f.code: "Prescriber aware" for f in assessment.findings})
    handout = render(case, kb, language=language)
    assert not handout.blocked
    text = read_pdf(handout.pdf).flat
    w = wording(language)
    never = w.data.own_medicine["do-not-stop"].split(".")[-2].strip()  # "Do not stop it …"
    assert squeeze(never) in text, (rule_id, never)
    assert squeeze("Do not take them unless your doctor says it is OK") not in text


@pytest.mark.parametrize("term", ["phenytoin", "prednisone 20 mg", "warfarin 5 mg", "Dilantin"])
def test_the_named_medicines_of_the_review_get_do_not_stop(term: str, kb: KnowledgeBase) -> None:
    case = replace(example_case("05"), medicines=[term])
    case = replace(
        case,
        resolutions={f.code: "Discussed with the prescriber" for f in assessed(case, kb).findings},
    )
    text = read_pdf(render(case, kb, large_print=False).pdf).flat
    assert squeeze(f"{term}: tell the doctor who prescribed it") in text
    assert squeeze("Do not stop it on your own.") in text


def test_every_interaction_class_has_cited_advice(kb: KnowledgeBase) -> None:
    facts = load_facts()
    for rule in kb.interactions:
        advice = facts.own_medicine.get(rule.id)
        assert advice is not None, rule.id
        for key in advice.sources:
            assert key in kb.sources or key in facts.sources, (rule.id, key)
        for language in LANGUAGES:
            assert advice.advice in wording(language).data.own_medicine


# -- one product lookup -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "spelling",
    ["Absorica", "Absorica 40 mg", "ABSORICA 40MG", "absorica 40mg capsules",
     "Absorica (isotretinoin) 40 mg", "Absorbica 40 mg", "  absorica  "],
)  # fmt: skip
def test_absorica_says_with_or_without_food_in_any_spelling(
    spelling: str, kb: KnowledgeBase
) -> None:
    product = find_product(kb, spelling)
    assert product is not None and product.id == "absorica", spelling
    case = with_rx(example_case("01"), medicine=spelling, strength_mg=40)
    text = read_pdf(render(case, kb).pdf).flat
    assert squeeze("in the evening, with or without food.") in text, spelling
    assert squeeze("with food.") not in text.replace(squeeze("with or without food."), "")
    es = read_pdf(render(case, kb, language="es").pdf).flat
    assert squeeze("con o sin comida.") in es


def test_claravis_and_unknown_strengths_stay_with_food(kb: KnowledgeBase) -> None:
    text = read_pdf(render(with_rx(example_case("01"), medicine="claravis 20mg"), kb).pdf).flat
    assert squeeze("in the evening, with food.") in text


# -- settings the sheet needs -----------------------------------------------------------------


def test_without_pharmacy_name_and_phone_there_is_a_line_to_write_them(
    kb: KnowledgeBase,
) -> None:
    handout = render(example_case("01"), kb, settings=Settings())
    assert handout.missing_settings == ("pharmacy_name", "pharmacy_phone")
    text = read_pdf(handout.pdf).text
    assert "Your pharmacy" not in text
    assert "Call us: Your pharmacy." not in text
    assert "Call us:" in text and "Pharmacy:" in text
    named = render(example_case("01"), kb, settings=Settings(pharmacy_name="Corner Pharmacy"))
    assert named.missing_settings == ("pharmacy_phone",)
    assert squeeze("Call us: Corner Pharmacy") in read_pdf(named.pdf).flat
    assert render(example_case("01"), kb).missing_settings == ()


def test_cli_says_the_pharmacy_details_are_missing(tmp_path: Any) -> None:
    done = run_cli("handout", str(example_path("01")), "-o", str(tmp_path / "x.pdf"))
    assert done.returncode == 0
    assert b"pharmacy_name or pharmacy_phone" in done.stderr


def test_large_print_keeps_the_header_with_its_first_section(kb: KnowledgeBase) -> None:
    for example in ("01", "02", "05", "06"):
        for language in LANGUAGES:
            case = example_case(example)
            content = handout_content(case, assessed(case, kb), kb, SETTINGS, language=language)
            back = read_pdf(render(case, kb, large_print=True, language=language).pdf)
            page_one = squeeze(back.reader.pages[0].extract_text())
            first = content.sections[0]
            assert squeeze(first.title) in page_one, (example, language)
            assert squeeze(first.lines[0].text) in page_one, (example, language)


def test_three_teach_back_questions_for_the_pharmacist_to_ask(kb: KnowledgeBase) -> None:
    for example, expected in (("01", "teach-back-plan"), ("05", "teach-back-dose")):
        case = example_case(example)
        content = handout_content(case, assessed(case, kb), kb, SETTINGS)
        section = content.section("teach-back")
        assert section is not None and len(section.lines) == 3
        ids = [e.id for e in assessed(case, kb).checklist if e.id.startswith("teach-back")]
        assert expected in ids and len(ids) == 3
        text = read_pdf(render(case, kb, large_print=False).pdf).flat
        for line in section.lines:
            assert squeeze(line.text) in text


# -- Medication Guide coverage ----------------------------------------------------------------


def test_every_key_point_is_printed_or_excluded_with_a_reason() -> None:
    coverage = load_coverage()
    en = wording("en").data
    tables = {"avoid_agents", "own_medicine", "blocked", "blocked_next", "not_counted"}
    assert {g.id for g in coverage.guides} == {"us-medication-guide", "uk-eu-patient-leaflet"}
    for guide in coverage.guides:
        assert len(guide.points) >= 20
        for point in guide.points:
            assert point.lines or len(point.excluded) > 40, (guide.id, point.id)
            assert not (point.lines and point.excluded), (guide.id, point.id)
            for key in point.lines:
                assert key in en.text or key in tables, (guide.id, point.id, key)
    us = next(g for g in coverage.guides if g.id == "us-medication-guide")
    must = {
        "birth-defects",
        "two-methods",
        "mental-health",
        "hearing",
        "bones-muscles",
        "blood-tests",
        "vision",
        "skin-reactions",
        "pancreas-bowel",
        "oesophagus",
        "liver",
    }
    assert must <= {p.id for p in us.points if p.lines}  # fmt: skip
    uk = next(g for g in coverage.guides if g.id == "uk-eu-patient-leaflet")
    assert "sexual-function" in {p.id for p in uk.points if p.lines}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("example", ["01", "06"])
def test_the_key_points_hold_on_the_printed_sheet(
    example: str, language: str, kb: KnowledgeBase
) -> None:
    # the sheet a patient who can get pregnant takes home, naming a method that does not count
    case = example_case(example)
    case = replace(case, contraception=[*case.contraception, "withdrawal"])
    assessment = assessed(case, kb)
    assert assessment.dispense != "do-not-dispense"
    content = handout_content(case, assessment, kb, SETTINGS, language=language)
    flat = read_pdf(render(case, kb, language=language).pdf).flat
    family = "US" if example == "01" else "UK"
    by_key: dict[str, list[str]] = {}
    for section in content.sections:
        for line in section.lines:
            by_key.setdefault(line.key.split(".")[0], []).append(line.text)
    for guide in load_coverage().guides:
        if family not in guide.families:
            continue
        for point in guide.points:
            for key in point.lines:
                assert key in by_key, (guide.id, point.id, key)
                for text in by_key[key]:
                    assert squeeze(text) in flat, (point.id, text)


# -- Spanish without English ------------------------------------------------------------------


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _words(text: str) -> set[str]:
    return {w.casefold() for w in re.findall(r"[^\W\d_]{3,}", text)}


def english_words(kb: KnowledgeBase) -> set[str]:
    """Words of the English wording and of the knowledge base's patient-facing names."""
    en = json.loads((pack_folder(kb.medicine) / "en.json").read_text(encoding="utf-8"))
    texts = _strings({k: v for k, v in en.items() if k not in ("name", "language", "months")})
    texts += en["months"]
    for method in kb.contraception:
        texts += [method.label, method.names.get("en", ""), method.note]
    for rule in kb.interactions:
        texts += [rule.agent]
    found = set().union(*(_words(t) for t in texts))
    es = json.loads((pack_folder(kb.medicine) / "es.json").read_text(encoding="utf-8"))
    spanish = set().union(*(_words(t) for t in _strings(es)))
    spanish |= set().union(*(_words(m.names.get("es", "")) for m in kb.contraception))
    return found - spanish


def allowed_names(case: Case, kb: KnowledgeBase) -> set[str]:
    """Names, not words: the patient's, the pharmacy's, the prescriber's, products and brands, and
    the patient's own medicines and methods as they named them."""
    texts = [case.patient.name, case.prescription.prescriber, case.prescription.medicine,
             SETTINGS.pharmacy_name, SETTINGS.pharmacy_address]  # fmt: skip
    texts += [*case.medicines, *case.contraception]  # their own names, printed as they said them
    texts += [p.name for p in kb.products] + [n for p in kb.products for n in p.names]
    return set().union(*(_words(t) for t in texts))


SPANISH_CASES = {
    **{p.name[:2]: example_case(p.name[:2]) for p in EXAMPLE_FILES},
    "busy": replace(
        example_case("01"),
        contraception=["copper IUD", "the pill", "male condoms", "withdrawal", "abstinence"],
        medicines=["prednisone 10 mg", "St John's wort", "warfarin", "vitamin A", "topiramate"],
        resolutions={
            "interaction.st-johns-wort": "Discussed with the prescriber",
            "interaction.vitamin-a": "Discussed with the prescriber",
        },
    ),
    **{f"blocked-{k}": v for k, v in blocked_cases().items()},
}


@pytest.mark.parametrize("which", sorted(SPANISH_CASES))
def test_a_spanish_sheet_has_no_english_word(which: str, kb: KnowledgeBase) -> None:
    case = SPANISH_CASES[which]
    back = read_pdf(render(case, kb, language="es", large_print=False).pdf)
    english = english_words(kb) - allowed_names(case, kb)
    leaked = sorted(_words(back.text) & english)
    assert not leaked, (which, leaked)
    assert "isotretinoína" in back.text
    assert re.search(r"\bisotretinoin\b", back.text) is None
    assert "antes del" not in back.text  # "a más tardar el": the date is the last day
    assert not re.search(r"\b(tú|tienes|puedes|llámanos)\b", back.text, re.IGNORECASE)


def test_the_spanish_words_list_catches_english(kb: KnowledgeBase) -> None:
    english = english_words(kb)
    assert {"capsules", "condoms", "tell", "pregnant", "birth", "once"} <= english
    assert "isotretinoin" in english and "prednisone" in english


def pack_spanish_cases() -> dict[str, Case]:
    cases = {p.stem: load_case(p) for p in sorted(PACK_CASES.glob("*.json"))}
    busy = {
        "acitretin-uk-ppp-routine": (["doxycycline 100 mg", "St John's wort", "phenytoin"],
                                     ["withdrawal", "combined pill"]),
        "valproate-uk-ppp-routine": (["meropenem", "lamotrigine", "aspirin", "St John's wort"],
                                     ["withdrawal", "combined pill"]),
        "valproate-uk-ppp-man": (["carbamazepine", "topiramate 50 mg"], []),
    }  # fmt: skip
    for name, (medicines, methods) in busy.items():
        case = cases[name]
        cases[f"{name}-busy"] = replace(
            case, medicines=medicines, contraception=[*case.contraception, *methods]
        )
    return cases


@pytest.mark.parametrize("which", sorted(pack_spanish_cases()))
def test_a_spanish_pack_sheet_has_no_english_word(which: str) -> None:
    case = pack_spanish_cases()[which]
    kb = load_pack(which.split("-")[0])
    handout = render_handout(case, assess(case, kb), kb, SETTINGS, language="es")
    assert handout.language == "es"
    back = read_pdf(handout.pdf)
    leaked = sorted(_words(back.text) & (english_words(kb) - allowed_names(case, kb)))
    assert not leaked, (which, leaked)
    spanish = load_wording("es", kb.medicine)
    assert spanish is not None and spanish.data.generic in back.text
    assert re.search(rf"\b{kb.medicine}\b", back.text) is None
    assert not re.search(r"\b(tú|tienes|puedes|llámanos)\b", back.text, re.IGNORECASE)
