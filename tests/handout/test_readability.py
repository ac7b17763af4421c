"""Plain language, measured: English Flesch-Kincaid grade <= 6 overall and <= 8 per section;
Spanish Fernández-Huerta >= 70 overall.

Measured: every sentence the patient reads (titles, instructions, lists). Not measured: the
patient's and pharmacy's own details, the version line and the source keys (names and codes,
not prose).
"""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest
import textstat

from pharmacist_tool.case import load_case
from pharmacist_tool.handout import handout_content
from pharmacist_tool.knowledge import load_pack
from pharmacist_tool.knowledge.model import KnowledgeBase
from tests.conftest import EXAMPLE_FILES, example_case
from tests.handout.conftest import SETTINGS, assessed
from tests.handout.test_pack_sheets import blocked_cases

EXAMPLES = [p.name[:2] for p in EXAMPLE_FILES]
PACK_FILES = sorted((Path(__file__).parents[1] / "fixtures" / "packs").glob("*.json"))
PACK_CASES = {
    **{path.stem: load_case(path) for path in PACK_FILES},
    **{f"{name}-blocked": case for name, case in blocked_cases().items()},
}

pytestmark = pytest.mark.usefixtures("offline_textstat")


@pytest.mark.parametrize("example", EXAMPLES)
def test_english_reads_at_grade_six(example: str, kb: KnowledgeBase) -> None:
    case = example_case(example)
    content = handout_content(case, assessed(case, kb), kb, SETTINGS, language="en")
    textstat.set_lang("en")
    whole = textstat.flesch_kincaid_grade(content.measured_text)
    assert whole <= 6, f"whole handout at grade {whole}"
    for section in content.sections:
        grade = textstat.flesch_kincaid_grade(section.measured_text)
        assert grade <= 8, f"section {section.key} at grade {grade}: {section.measured_text}"


@pytest.mark.parametrize("example", EXAMPLES)
def test_spanish_reads_easily(example: str, kb: KnowledgeBase) -> None:
    case = example_case(example)
    content = handout_content(case, assessed(case, kb), kb, SETTINGS, language="es")
    assert content.language == "es"
    textstat.set_lang("es")
    score = textstat.fernandez_huerta(content.measured_text)
    assert score >= 70, f"Fernández-Huerta {score}"


def test_measured_text_is_most_of_the_handout(kb: KnowledgeBase) -> None:
    """The exclusions are small: the measure covers what the patient reads."""
    case = example_case("01")
    content = handout_content(case, assessed(case, kb), kb, SETTINGS, language="en")
    assert len(content.measured_text) > 0.7 * len(content.all_text())


def test_busy_case_still_plain(kb: KnowledgeBase) -> None:
    case = example_case("01")
    case = msgspec.structs.replace(
        case,
        medicines=["doxycycline 100 mg", "prednisone 10 mg", "St John's wort", "vitamin A"],
        contraception=["copper IUD", "male condoms", "diaphragm"],
    )
    textstat.set_lang("en")
    content = handout_content(case, assessed(case, kb), kb, SETTINGS, language="en")
    assert textstat.flesch_kincaid_grade(content.measured_text) <= 6


@pytest.mark.parametrize("name", sorted(PACK_CASES))
def test_every_pack_sheet_reads_at_grade_six_and_easily_in_spanish(name: str) -> None:
    case = PACK_CASES[name]
    kb = load_pack(name.split("-")[0])
    textstat.set_lang("en")
    content = handout_content(case, assessed(case, kb), kb, SETTINGS, language="en")
    whole = textstat.flesch_kincaid_grade(content.measured_text)
    assert whole <= 6, f"whole handout at grade {whole}"
    for section in content.sections:
        grade = textstat.flesch_kincaid_grade(section.measured_text)
        assert grade <= 8, f"section {section.key} at grade {grade}: {section.measured_text}"
    spanish = handout_content(case, assessed(case, kb), kb, SETTINGS, language="es")
    assert spanish.language == "es"
    textstat.set_lang("es")
    score = textstat.fernandez_huerta(spanish.measured_text)
    assert score >= 70, f"Fernández-Huerta {score}"
