"""The handout of each example case, read back from the PDF."""

from __future__ import annotations

import datetime as dt
import hashlib

import msgspec
import pytest

from pharmacist_tool.handout import TEMPLATE_VERSION, handout_content
from pharmacist_tool.handout.content import general_avoid_list, own_medicines
from pharmacist_tool.handout.wording import load_facts, load_wording
from pharmacist_tool.knowledge.matching import match_method
from pharmacist_tool.knowledge.model import KnowledgeBase
from pharmacist_tool.settings import Settings
from tests.conftest import EXAMPLE_FILES, example_case
from tests.handout.conftest import (
    SETTINGS,
    assessed,
    embedded_fonts,
    font_sizes,
    read_pdf,
    render,
    squeeze,
)

EXAMPLES = [p.name[:2] for p in EXAMPLE_FILES]
LETTER = (612.0, 792.0)
A4 = (595.2756, 841.8898)


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("paper", ["Letter", "A4"])
@pytest.mark.parametrize("example", EXAMPLES)
def test_patients_own_details_are_printed(
    example: str, paper: str, language: str, kb: KnowledgeBase
) -> None:
    case = example_case(example)
    assessment = assessed(case, kb)
    handout = render(case, kb, paper=paper, language=language, large_print=False)
    back = read_pdf(handout.pdf)
    w = load_wording(language)
    assert w is not None
    flat = back.flat

    assert squeeze(case.patient.name) in flat
    assert squeeze(w.date(case.counselled_on)) in flat
    assert squeeze("Corner Pharmacy") in flat and "555-0100" in flat
    assert squeeze("12 High Street") in flat
    assert squeeze(w("stop_title")) in flat
    assert squeeze(w("about_title")) in flat
    blocked = assessment.dispense == "do-not-dispense"
    assert handout.blocked is blocked
    if blocked:
        assert squeeze(w("blocked_why_title")) in flat
        assert squeeze(w("blocked_next_title")) in flat
        assert squeeze(w("medicine_title")) not in flat
    else:
        never, ask = general_avoid_list(case, kb, w)
        own = {
            w.data.avoid_agents[i.rule.id]
            for i in own_medicines(case, assessment, kb, load_facts())
        }
        for item in never + ask:
            assert item in own or squeeze(item) in flat
        for key in ("dispose", "missed_dose"):
            assert squeeze(w(key)) in flat
    if case.patient.can_get_pregnant and not blocked:
        for text in case.contraception:
            method = match_method(kb, text)
            assert method is not None
            assert squeeze(method.names[language]).casefold() in flat.casefold()
        assert assessment.next_pregnancy_test_due is not None
        assert squeeze(w.date(assessment.next_pregnancy_test_due)) in flat
        assert squeeze(w("bc_title")) in flat
    if not case.patient.can_get_pregnant:
        assert squeeze(w("bc_title")) not in flat
        assert squeeze(w("stop_pregnant")) not in flat

    assert back.pages <= 2, f"regular handout of {example} on {paper} has {back.pages} pages"
    width, height = (float(x) for x in back.reader.pages[0].mediabox[2:])
    assert (round(width, 1), round(height, 1)) == tuple(
        round(x, 1) for x in (LETTER if paper == "Letter" else A4)
    )
    assert min(font_sizes(back.reader)) >= 12
    assert handout.language == language and handout.paper == paper
    assert handout.knowledge_base_version == assessment.knowledge_base.version
    assert handout.template_version == TEMPLATE_VERSION


def test_own_medicines_come_before_the_general_list(kb: KnowledgeBase) -> None:
    case = example_case("05")
    own = own_medicines(case, assessed(case, kb), kb, load_facts())
    assert [item.rule.id for item in own] == ["corticosteroids", "vitamin-a"]
    text = read_pdf(render(case, kb, large_print=False).pdf).flat
    general = squeeze(load_wording("en").data.text["avoid_general"])  # type: ignore[union-attr]
    for item in own:
        assert text.index(squeeze(item.line)) < text.index(general)


def test_doxycycline_stopped_by_the_prescriber_is_said_as_stopped(kb: KnowledgeBase) -> None:
    case = example_case("02")
    stopped = msgspec.structs.replace(
        case, resolutions={"interaction.tetracyclines": "Prescriber contacted; doxycycline stopped"}
    )
    text = read_pdf(render(stopped, kb).pdf).flat
    assert (
        squeeze(
            "doxycycline 100 mg once a day: your doctor stopped it. "
            "Do not take it with isotretinoin."
        )
        in text
    )
    assert squeeze("cetirizine") not in text  # not an interaction: not listed
    kept = msgspec.structs.replace(
        case, resolutions={"interaction.tetracyclines": "Prescriber aware; not stopped"}
    )
    text = read_pdf(render(kept, kb).pdf).flat
    assert squeeze("your doctor stopped it") not in text
    assert squeeze("Call the doctor who prescribed it today") in text


def test_dose_in_words(kb: KnowledgeBase) -> None:
    case = example_case("01")
    text = read_pdf(render(case, kb).pdf).flat
    assert squeeze("Take 1 capsule (20 mg) in the morning and 1 in the evening, with food.") in text
    assert squeeze("Medicine: Claravis 20 mg capsules (isotretinoin)") in text
    assert squeeze("This fill is for 30 days.") in text
    es = read_pdf(render(case, kb, language="es").pdf).flat
    assert squeeze("Tome 1 cápsula (20 mg) por la mañana y 1 por la noche, con comida.") in es


@pytest.mark.parametrize(
    ("units", "doses", "expected"),
    [
        (1, 1, "Take 1 capsule (40 mg) once a day, with food."),
        (2, 2, "Take 2 capsules (80 mg) in the morning and 2 in the evening, with food."),
        (1, 3, "Take 1 capsule (40 mg) in the morning, 1 at midday and 1 in the evening"),
        (1, 4, "Take 1 capsule (40 mg) 4 times a day, with food."),
    ],
)
def test_dose_wording_follows_the_prescription(
    units: int, doses: int, expected: str, kb: KnowledgeBase
) -> None:
    case = example_case("02")
    rx = msgspec.structs.replace(
        case.prescription,
        units_per_dose=units,
        doses_per_day=doses,
        quantity=units * doses * case.prescription.days_supply,
    )
    case = msgspec.structs.replace(case, prescription=rx, medicines=[])
    assert squeeze(expected) in read_pdf(render(case, kb).pdf).flat


def test_dates_are_written_out_in_each_language(kb: KnowledgeBase) -> None:
    en, es = load_wording("en"), load_wording("es")
    assert en is not None and es is not None
    day = dt.date(2026, 11, 27)
    assert en.date(day) == "27 November 2026"
    assert es.date(day) == "27 de noviembre de 2026"
    assert es.number(8.5) == "8,5" and en.number(8.5) == "8.5" and en.number(20.0) == "20"


def test_calendar_strip_and_plan_carry_the_dates(kb: KnowledgeBase) -> None:
    case = example_case("01")
    assessment = assessed(case, kb)
    due = assessment.next_pregnancy_test_due
    assert due is not None
    content = handout_content(case, assessment, kb, SETTINGS)
    assert [s.key for s in content.sections][:3] == ["why", "stop", "calendar"]
    text = read_pdf(render(case, kb).pdf).flat
    last = due + dt.timedelta(days=6)  # US: 7 days, the test day is day 1
    w = load_wording("en")
    assert w is not None
    assert squeeze(f"Next pregnancy test: by {w.date(due)}") in text
    assert squeeze(f"Last day to pick up your next fill {w.date(last)}") in text
    assert squeeze("a test when you finish, and 1 month after your last dose.") in text
    assert squeeze("until 1 month after your last dose.") in text


def test_calendar_shows_the_end_of_course_dates_when_the_assessment_has_them(
    kb: KnowledgeBase,
) -> None:
    """``after_course`` comes with the course of treatment (contract, December 2026)."""
    case = example_case("01")
    assessment = assessed(case, kb)
    if not hasattr(assessment, "after_course"):
        pytest.skip("this engine does not report after_course yet")
    course = {"fill_number": 5, "cumulative_mg_before": 4800, "previous_fill_on": "2026-10-25",
              "last_fill": True}  # fmt: skip
    data = msgspec.json.decode(msgspec.json.encode(case))
    data["course"] = course
    case = msgspec.json.decode(msgspec.json.encode(data), type=type(case))
    content = handout_content(case, assessed(case, kb), kb, SETTINGS)
    calendar = content.section("calendar")
    assert calendar is not None
    assert {"cal_last_dose", "cal_after_test", "cal_blood"} <= {ln.key for ln in calendar.lines}


def test_uk_plan_counts_from_the_prescription(kb: KnowledgeBase) -> None:
    text = read_pdf(render(example_case("06"), kb).pdf).flat
    assert squeeze("Hormonal IUD (works well on its own)") in text
    assert squeeze("within 7 days of the date on your prescription") in text
    assert squeeze("patient leaflet (in the box)") in text
    assert squeeze("In an emergency, call 999.") in text
    assert squeeze("trouble with an erection") in text  # the MHRA 2023 warning
    us = read_pdf(render(example_case("01"), kb).pdf).flat
    assert squeeze("trouble with an erection") not in us


def test_same_case_same_bytes(kb: KnowledgeBase) -> None:
    case = example_case("01")
    first = render(case, kb, pharmacist="K. Lee, PharmD")
    second = render(case, kb, pharmacist="K. Lee, PharmD")
    assert first.pdf == second.pdf
    assert first.sha256 == hashlib.sha256(first.pdf).hexdigest() == second.sha256
    other = render(case, kb, pharmacist="A. N. Other")
    assert other.sha256 != first.sha256


def test_metadata_title_language_and_author(kb: KnowledgeBase) -> None:
    for language, title in (("en", "Your Claravis sheet"), ("es", "Su hoja de Claravis")):
        back = read_pdf(render(example_case("01"), kb, language=language).pdf)
        meta = back.reader.metadata
        assert meta is not None
        assert meta.title == title
        assert meta.author == "Corner Pharmacy"
        assert str(back.reader.trailer["/Root"]["/Lang"]) == language


def test_pharmacist_printed_or_blank_line(kb: KnowledgeBase) -> None:
    case = example_case("01")
    named = read_pdf(render(case, kb, pharmacist="K. Lee, PharmD").pdf).flat
    assert squeeze("Your pharmacist: K. Lee, PharmD") in named
    blank = read_pdf(render(case, kb).pdf).flat
    assert squeeze("Your pharmacist:") in blank
    assert "K.Lee" not in blank


def test_sheet_says_it_adds_to_the_medication_guide(kb: KnowledgeBase) -> None:
    case = example_case("01")
    back = read_pdf(render(case, kb).pdf)
    assert squeeze("This sheet adds to your Medication Guide. It does not replace it") in back.flat
    assert squeeze(f"Knowledge base {kb.version}") in back.flat
    content = handout_content(case, assessed(case, kb), kb, SETTINGS)
    assert content.sources
    facts = load_facts()
    for key in content.sources:
        assert key in kb.sources or key in facts.sources or key.startswith("C"), key
    # the sources go to the record (the PDF's metadata), never a page of codes on the sheet
    meta = back.reader.metadata
    assert meta is not None and ", ".join(content.sources) in str(meta.get("/Keywords"))
    assert squeeze(", ".join(content.sources[:3])) not in back.flat
    assert "S12" not in back.text


def test_language_without_approved_text_prints_english_with_a_note(kb: KnowledgeBase) -> None:
    handout = render(example_case("01"), kb, language="fr")
    assert handout.language == "en" and handout.requested_language == "fr"
    text = read_pdf(handout.pdf).flat
    assert squeeze("This sheet is in English. We do not have it in your language (French, fr)") in (
        text
    )
    assert squeeze("Stop and get help now") in text


def test_case_defaults_and_overrides(kb: KnowledgeBase) -> None:
    case = example_case("05")  # large_print: true in the case
    assert render(case, kb).large_print is True
    assert render(case, kb, large_print=False).large_print is False
    spanish = msgspec.structs.replace(
        case, patient=msgspec.structs.replace(case.patient, handout_language="es")
    )
    assert render(spanish, kb).language == "es"
    assert render(spanish, kb, language="en").language == "en"
    a4 = Settings(pharmacy_name="X", paper_size="A4")
    assert render(case, kb, settings=a4).paper == "A4"
    assert render(case, kb, settings=a4, paper="Letter").paper == "Letter"


@pytest.mark.parametrize("paper", ["Letter", "A4"])
@pytest.mark.parametrize("example", EXAMPLES)
def test_large_print(example: str, paper: str, kb: KnowledgeBase) -> None:
    handout = render(example_case(example), kb, large_print=True, paper=paper)
    back = read_pdf(handout.pdf)
    sizes = font_sizes(back.reader)
    assert min(sizes) >= 18
    assert squeeze(example_case(example).patient.name) in back.flat
    fonts = embedded_fonts(back.reader)
    assert fonts and all("DejaVuSans" in f or "Fallback" in f for f in fonts)


def test_regular_print_fonts_are_bundled_sans_and_embedded(kb: KnowledgeBase) -> None:
    back = read_pdf(render(example_case("01"), kb).pdf)
    fonts = embedded_fonts(back.reader)
    assert any("DejaVuSans-Bold" in f for f in fonts)
    assert any(f.endswith("+DejaVuSans") or "DejaVuSans" in f for f in fonts)
    sizes = font_sizes(back.reader)
    assert min(sizes) >= 12
    assert sizes.count(12.0) > len(sizes) / 2  # the body is 12 pt


def test_busy_case_still_fits_two_pages(kb: KnowledgeBase) -> None:
    """A long name, four flagged medicines, three methods, a long address: still two pages."""
    case = example_case("01")
    case = msgspec.structs.replace(
        case,
        patient=msgspec.structs.replace(
            case.patient, name="Maria Fernanda de los Ángeles Gutiérrez-Villanueva y Castillo"
        ),
        medicines=[
            "doxycycline 100 mg",
            "prednisone 10 mg",
            "St John's wort tea",
            "vitamin A 10,000 IU",
            "ibuprofen",
        ],
        contraception=["copper IUD", "male condoms", "diaphragm with spermicide"],
        resolutions={"interaction.tetracyclines": "Prescriber contacted; doxycycline stopped"},
    )
    settings = Settings(
        pharmacy_name="Springfield Community Pharmacy and Wellness Centre",
        pharmacy_address="Unit 4, Riverside Shopping Parade\n1200 North Main Street\n"
        "Springfield, IL 62701",
        pharmacy_phone="(555) 010-0100 ext. 22",
    )
    for paper in ("Letter", "A4"):
        handout = render(case, kb, paper=paper, settings=settings, pharmacist="K. Lee, PharmD")
        back = read_pdf(handout.pdf)
        assert back.pages <= 2, (paper, back.pages)
        for medicine in ("doxycycline 100 mg", "prednisone 10 mg", "St John's wort tea"):
            assert squeeze(medicine) in back.flat
