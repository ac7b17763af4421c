"""Layout and words of every pack's regular sheets, read back from the PDF: at most two pages
with no nearly empty last page; names, phone numbers and dates kept whole on one line; British
English on UK and EU sheets; the document's title shown and its language set."""

from __future__ import annotations

import re
from pathlib import Path

import msgspec
import pytest

from pharmacist_tool.case import Case, load_case
from pharmacist_tool.engine import assess
from pharmacist_tool.handout import render_handout
from pharmacist_tool.handout.wording import load_wording
from pharmacist_tool.knowledge import load_for_counter
from pharmacist_tool.knowledge.model import KnowledgeBase
from tests.handout.conftest import ROUTINE, ROUTINE_IDS, SETTINGS, read_pdf

LANGUAGES = ("en", "es")
MIN_LAST_PAGE_LINES = 6
"""A second page with fewer lines than this (the footer aside) is nearly empty."""
AMERICAN = re.compile(r"\b(fill|fills|poop|pee|diarrhea|estrogen|throw up)\b", re.IGNORECASE)


def base(path: Path) -> tuple[Case, KnowledgeBase]:
    case = load_case(path)
    return case, load_for_counter(case.prescription.medicine)


def variants(case: Case) -> dict[str, Case]:
    """The routine case, and the same with a long name, other medicines and a man's sheet."""
    busy = msgspec.structs.replace(
        case,
        patient=msgspec.structs.replace(case.patient, name="Maria-Fernanda de la Cruz Oyelaran"),
        medicines=["St John's wort", "doxycycline 100 mg", "cetirizine"],
        resolutions={
            "interaction.st-johns-wort": "Stopped",
            "interaction.tetracyclines": "Stopped",
        },
    )
    man = msgspec.structs.replace(
        case, patient=msgspec.structs.replace(case.patient, sex="male", can_get_pregnant=False),
        contraception=[],
    )  # fmt: skip
    return {"routine": case, "busy": busy, "man": man}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(("pack", "path"), ROUTINE, ids=ROUTINE_IDS)
def test_a_regular_sheet_is_at_most_two_pages_with_no_nearly_empty_page(
    pack: str, path: Path, language: str
) -> None:
    case, kb = base(path)
    for name, variant in variants(case).items():
        handout = render_handout(variant, assess(variant, kb), kb, SETTINGS, language=language)
        back = read_pdf(handout.pdf)
        assert back.pages <= 2, name
        if back.pages == 2:
            last = [t for t in back.reader.pages[-1].extract_text().splitlines() if t.strip()]
            assert len(last) - 1 >= MIN_LAST_PAGE_LINES, (name, last)


@pytest.mark.parametrize(("pack", "path"), ROUTINE, ids=ROUTINE_IDS)
def test_names_phone_numbers_and_dates_are_not_split_across_lines(pack: str, path: Path) -> None:
    case, kb = base(path)
    name, prescriber = "Maria Fernanda de la Cruz Oyelaran", "Dr Abimbola Okonkwo-Smith"
    long = msgspec.structs.replace(
        case,
        patient=msgspec.structs.replace(case.patient, name=name),
        prescription=msgspec.structs.replace(case.prescription, prescriber=prescriber),
    )
    settings = msgspec.structs.replace(SETTINGS, pharmacy_phone="+44 20 7946 0958")
    handout = render_handout(long, assess(long, kb), kb, settings, language="en")
    lines = read_pdf(handout.pdf).text.splitlines()
    for whole in ("+44 20 7946 0958", "Dr Abimbola Okonkwo-Smith", "25 November 2026"):
        kept = [line for line in lines if whole in line.replace("\u00a0", " ")]
        assert kept, whole
    # a name too long for its line breaks between its words, never inside one
    words = [w for line in lines for w in line.replace("\u00a0", " ").split()]
    for word in ("Fernanda", "Oyelaran"):
        assert word in words, word


@pytest.mark.parametrize(("pack", "path"), ROUTINE, ids=ROUTINE_IDS)
def test_uk_and_eu_sheets_speak_british(pack: str, path: Path) -> None:
    case, kb = base(path)
    for rule_set in kb.rule_sets:
        if rule_set.family not in ("UK", "EU"):
            continue
        for name, variant in variants(msgspec.structs.replace(case, rule_set=rule_set.id)).items():
            handout = render_handout(variant, assess(variant, kb), kb, SETTINGS, language="en")
            text = read_pdf(handout.pdf).text.replace("\u00a0", " ")
            found = AMERICAN.findall(text)
            assert not found, (rule_set.id, name, found)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(("pack", "path"), ROUTINE, ids=ROUTINE_IDS)
def test_the_title_is_shown_and_the_language_set(pack: str, path: Path, language: str) -> None:
    case, kb = base(path)
    handout = render_handout(case, assess(case, kb), kb, SETTINGS, language=language)
    root = read_pdf(handout.pdf).reader.trailer["/Root"]
    assert str(root["/Lang"]) == language
    assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"]) is True
    assert read_pdf(handout.pdf).reader.metadata.title


SPANISH_SYNONYMS = (
    ("condón", "preservativo"),
    ("compra", "surtido", "despacho", "dispensación"),
    ("diu", "espiral"),
    ("sarpullido", "erupción", "salpullido"),
)
"""One Spanish term for each thing: at most one word of each group on a sheet's wording."""


@pytest.mark.parametrize(("pack", "path"), ROUTINE, ids=ROUTINE_IDS)
def test_one_spanish_term_for_each_thing(pack: str, path: Path) -> None:
    _case, kb = base(path)
    w = load_wording("es", kb.medicine)
    assert w is not None
    texts = [*w.data.text.values(), *w.data.blocked.values(), *w.data.blocked_next.values(),
             *w.data.act.values(), *w.data.own_medicine.values(), *w.data.avoid_agents.values(),
             *w.data.not_counted.values()]  # fmt: skip
    words = {word.casefold() for text in texts for word in re.findall(r"\w+", text)}
    words |= {word[:-1] for word in words if word.endswith("s")}  # plurals
    for group in SPANISH_SYNONYMS:
        used = [term for term in group if term in words]
        assert len(used) <= 1, (pack, used)
