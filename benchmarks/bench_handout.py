"""Rendering a handout takes at most 2x ReportLab's own time for a document of the same pages.

The floor is a plain platypus document built in the same process, with the same bundled fonts
registered, the handout's own lines as paragraphs, and the same number of pages; the two are
timed in turn (A B A B ...). Run: ``.venv/bin/python benchmarks/bench_handout.py``.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from pathlib import Path
from xml.sax.saxutils import escape

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pypdf
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Paragraph, SimpleDocTemplate

from benchmarks.common import Comparison, paired_call_medians, report
from pharmacist_tool.case import load_case
from pharmacist_tool.engine import assess
from pharmacist_tool.handout import handout_content, render_handout
from pharmacist_tool.handout.pdf import (
    BOLD,
    LARGE_SIZES,
    REGULAR,
    REGULAR_SIZES,
    Sizes,
    register_base_fonts,
)
from pharmacist_tool.knowledge import load_knowledge_base
from pharmacist_tool.settings import Settings

CASE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "examples"
SETTINGS = Settings(
    pharmacy_name="Corner Pharmacy", pharmacy_address="12 High Street", pharmacy_phone="555-0100"
)


def pages(pdf: bytes) -> int:
    return len(pypdf.PdfReader(io.BytesIO(pdf)).pages)


def plain_document(lines: list[str], sizes: Sizes, paper: str, count: int) -> bytes:
    """Plain paragraphs in the same fonts (every sixth line bold), page size and margins."""
    size = sizes.body
    plain = ParagraphStyle("plain", fontName=REGULAR, fontSize=size, leading=size * 1.25)
    bold = ParagraphStyle("bold", parent=plain, fontName=BOLD)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=LETTER if paper == "Letter" else A4,
        leftMargin=sizes.margin,
        rightMargin=sizes.margin,
        topMargin=sizes.margin,
        bottomMargin=sizes.margin,
        invariant=1,
    )
    story = [Paragraph(lines[i % len(lines)], bold if i % 6 == 0 else plain) for i in range(count)]
    doc.build(story)
    return buffer.getvalue()


def floor_for(lines: list[str], sizes: Sizes, paper: str, want: int) -> Callable[[], bytes]:
    """The plain document that just fills as many pages as the handout (its lines, cycled)."""
    count = 1
    while pages(plain_document(lines, sizes, paper, count + 1)) <= want:
        count += 1
    return lambda: plain_document(lines, sizes, paper, count)


def main() -> int:
    register_base_fonts()
    kb = load_knowledge_base()
    comparisons = []
    for example, large in (
        ("01-routine-can-get-pregnant.json", False),
        ("01-routine-can-get-pregnant.json", True),
        ("04-pick-up-window-missed.json", False),  # the "not handed over today" sheet
    ):
        case = load_case(CASE / example)
        assessment = assess(case, kb)
        content = handout_content(case, assessment, kb, SETTINGS)
        lines = [escape(line) for line in content.all_text().splitlines() if line.strip()]

        def subject(case=case, assessment=assessment, large=large) -> bytes:
            return render_handout(case, assessment, kb, SETTINGS, large_print=large).pdf

        want = pages(subject())
        floor = floor_for(lines, LARGE_SIZES if large else REGULAR_SIZES, "Letter", want)
        assert pages(floor()) == want
        value, base = paired_call_medians(subject, floor, runs=30, warmup=3)
        label = "large-print" if large else "regular"
        if assessment.dispense == "do-not-dispense":
            label = "not handed over today"
        comparisons.append(
            Comparison.in_ms(
                f"handout {label} ({want} pages, Letter)",
                value,
                base,
                f"plain platypus, {want} pages",
                2.0,
            )
        )
    return report(comparisons)


if __name__ == "__main__":
    raise SystemExit(main())
