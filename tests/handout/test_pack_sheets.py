"""The handout of a pack with no approved handout wording of its own: it prints the pack's own
counselling points for this patient and the medicines the pack says not to take, in English
(with the note when another language was asked for), and nothing of another medicine's facts."""

from __future__ import annotations

import copy
from pathlib import Path

from pharmacist_tool.case import Case, load_case
from pharmacist_tool.knowledge import load_for_counter
from tests.handout.conftest import read_pdf, render

PACK_CASES = Path(__file__).parents[1] / "fixtures" / "packs"


def _case(stem: str) -> Case:
    return load_case(PACK_CASES / f"{stem}.json")


def _text(case: Case, **options: object) -> str:
    handout = render(case, load_for_counter(case.prescription.medicine), **options)
    return read_pdf(handout.pdf).flat


def _flat(text: str) -> str:
    return "".join(text.split())


def test_the_acitretin_sheet_gives_acitretin_periods_never_another_medicine_facts() -> None:
    text = _text(_case("acitretin-uk-ppp-routine"))
    for wanted in [
        "YourNeotigasonsheet",
        "for3yearsafteryourlastcapsule",  # blood donation and contraception
        "for2monthsafteryoustop",  # no alcohol
        "tetracyclines",
        "methotrexate",
        "Sources:A1",
    ]:
        assert wanted in text, wanted
    for never in ["for1monthafteryourlastdose", "8daysafter", "SPF30", "S3,", "iPLEDGE"]:
        assert _flat(never) not in text, never


def test_the_valproate_sheet_never_tells_a_patient_to_stop_another_needed_medicine() -> None:
    case = _case("valproate-uk-ppp-routine")
    case = copy.deepcopy(case)
    case.medicines = ["Lamictal 100 mg", "meropenem"]
    case.contraception = ["combined pill", "condoms"]
    text = _text(case)
    avoid = text[text.index("DonottakethesewithEpilim") :]
    for kept_off in ["lamotrigine", "Lamictal", "carbapenem", "oestrogen", "combinedpill"]:
        assert _flat(kept_off) not in avoid, kept_off
    assert "Donotstopanyofthemonyourown" in text
    assert "Dispensewholeoriginalpacks" not in text, "the pharmacist's own task is not printed"


def test_the_men_advice_is_on_a_man_sheet_only() -> None:
    man = _text(_case("valproate-uk-ppp-man"))
    woman = _text(_case("valproate-uk-ppp-routine"))
    assert "Donotdonatesperm" in man
    assert "Donotdonatesperm" not in woman
    assert "highlyeffectivebirthcontrol" in woman
    assert "highlyeffectivebirthcontrol" not in man


def test_a_pack_sheet_asked_in_spanish_prints_english_with_the_note() -> None:
    handout = render(
        _case("acitretin-us-label-routine"), load_for_counter("Soriatane"), language="es"
    )
    assert handout.language == "en" and handout.requested_language == "es"
    text = read_pdf(handout.pdf).flat
    assert "ThissheetisinEnglish" in text
    assert "MedicationGuide" in text
