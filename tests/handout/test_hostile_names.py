"""Any name prints literally: scripts, right-to-left, marks, emoji, markup, SQL, control characters.

The printing rule (``content.clean``): NFC; control characters become spaces; invisible format
characters (zero-width joiners, direction overrides, BOM) are dropped; white space is collapsed.
A character that no bundled font has prints as a white square (a combining mark is left out) and
is reported in ``Handout.missing_characters`` for the pharmacist.
"""

from __future__ import annotations

import json
import unicodedata
from functools import cache
from pathlib import Path

import msgspec
import pytest
from reportlab.pdfbase.ttfonts import TTFont

from pharmacist_tool.handout.content import clean, flagged_medicines
from pharmacist_tool.knowledge.matching import match_method
from pharmacist_tool.knowledge.model import KnowledgeBase
from tests.conftest import FIXTURES, example_case
from tests.handout.conftest import assessed, font_sizes, read_pdf, render, squeeze

NAMES: list[str] = json.loads((FIXTURES / "hostile_names.json").read_text(encoding="utf-8"))[
    "names"
]
FONTS = Path(__file__).resolve().parents[2] / "resources" / "fonts"


def test_the_corpus_is_large_and_varied() -> None:
    assert len(NAMES) >= 100
    joined = "".join(NAMES)
    assert any(unicodedata.bidirectional(c) == "AL" for c in joined)  # Arabic
    assert any(unicodedata.bidirectional(c) == "R" for c in joined)  # Hebrew
    assert any(unicodedata.category(c) == "Mn" for c in joined)  # combining marks
    assert any(unicodedata.category(c) == "Cc" for c in joined)  # control characters
    assert any(ord(c) > 0xFFFF for c in joined)  # emoji, beyond the BMP
    assert any("<" in n for n in NAMES) and any("DROP TABLE" in n for n in NAMES)
    assert max(len(n) for n in NAMES) == 200


def spaced(text: str) -> str:
    """White space (line breaks included) as single spaces."""
    return " ".join(text.split())


@cache
def _coverage() -> frozenset[int]:
    """Characters the bundled fonts have (read from the font files, independently of the app)."""
    codes: set[int] = set()
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DroidSansFallback.ttf"):
        codes |= set(TTFont(name, str(FONTS / name)).face.charToGlyph)
    return frozenset(codes)


def expected_print(text: str) -> tuple[str, set[str]]:
    """What the rule says prints, and which characters the fonts cannot show."""
    out: list[str] = []
    missing: set[str] = set()
    for char in clean(text):
        if char.isspace() or ord(char) in _coverage():
            out.append(char)
            continue
        missing.add(char)
        if unicodedata.category(char) not in ("Mn", "Me"):
            out.append("\u25a1")
    return "".join(out), missing


@pytest.mark.parametrize("index", range(len(NAMES)))
def test_hostile_name_prints_literally(index: int, kb: KnowledgeBase) -> None:
    name = NAMES[index]
    base = example_case("01")
    case = msgspec.structs.replace(
        base,
        patient=msgspec.structs.replace(base.patient, name=name),
        contraception=[name, "male condoms"],
        medicines=[f"doxycycline {name}"],
    )
    handout = render(case, kb, pharmacist=name)
    back = read_pdf(handout.pdf)
    printed, missing = expected_print(name)

    assert set(handout.missing_characters) == missing
    # Patient name and pharmacist, literally; the method too when it is not recognised (a method
    # the knowledge base recognises prints under its own name, in the sheet's language).
    times = 2 if match_method(kb, name) is not None else 3
    assert back.flat.count(squeeze(printed)) >= times, (printed, back.text[:400])
    flagged = flagged_medicines(assessed(case, kb))
    assert flagged, "doxycycline must be flagged whatever follows it"
    for medicine in flagged:
        assert squeeze(expected_print(medicine)[0]) in back.flat
    # Markup in a name is text: no size, font or image change reaches the page.
    assert max(font_sizes(back.reader)) <= 20
    for page in back.reader.pages:
        assert "/XObject" not in page["/Resources"]
    # No control character reaches the page.
    assert not any(unicodedata.category(c) == "Cc" for c in back.text.replace("\n", ""))
    assert back.pages <= 3


def test_markup_and_sql_print_as_written(kb: KnowledgeBase) -> None:
    base = example_case("01")
    for name in ("<font size=80>Bob</font>", "Robert'); DROP TABLE Students;--", "&amp; &lt;"):
        case = msgspec.structs.replace(
            base, patient=msgspec.structs.replace(base.patient, name=name)
        )
        assert f"For: {name}" in spaced(read_pdf(render(case, kb).pdf).text)


def test_scripts_print_with_embedded_fonts(kb: KnowledgeBase) -> None:
    base = example_case("01")
    name = "Zoë Łukasiewicz-Øberg Ελένη Дмитрий 李小龍 김민준"
    case = msgspec.structs.replace(base, patient=msgspec.structs.replace(base.patient, name=name))
    handout = render(case, kb)
    assert handout.missing_characters == ()
    back = read_pdf(handout.pdf)
    assert f"For: {name}" in spaced(back.text)
    fonts = {str(f) for p in back.reader.pages for f in p["/Resources"]["/Font"]}
    assert fonts  # resource names; the base names are checked in test_handout_pdf


def test_right_to_left_names_read_back_in_order(kb: KnowledgeBase) -> None:
    base = example_case("01")
    for name in ("محمد بن سلمان", "דוד בן־גוריון"):
        case = msgspec.structs.replace(
            base, patient=msgspec.structs.replace(base.patient, name=name)
        )
        assert f"For: {name}" in spaced(read_pdf(render(case, kb).pdf).text)
    # Mixed directions: the letters come back in order; pypdf moves the space between runs.
    name = "Sara سارا Cohen"
    case = msgspec.structs.replace(base, patient=msgspec.structs.replace(base.patient, name=name))
    assert squeeze(f"For: {name}") in read_pdf(render(case, kb).pdf).flat


def test_unprintable_characters_are_reported_and_marked(kb: KnowledgeBase) -> None:
    base = example_case("01")
    case = msgspec.structs.replace(
        base, patient=msgspec.structs.replace(base.patient, name="Ana 🦄 अभि")
    )
    handout = render(case, kb)
    assert set(handout.missing_characters) == {"🦄", "अ", "भ", "ि"}
    assert "For: Ana □ □□" in spaced(read_pdf(handout.pdf).text)
