"""Lay the handout out as a PDF with ReportLab (the only module that imports it).

- Fonts are bundled (``resources/fonts``) and embedded as subsets: DejaVu Sans for everything,
  Droid Sans Fallback for the characters DejaVu lacks (Chinese, Japanese, Korean).
- Every piece of text is escaped before it reaches ReportLab's paragraph markup.
- ``invariant=1``: the same content gives the same bytes.
- Dark text on white; the warning box is marked by its heading and a thick border, not colour.
"""

from __future__ import annotations

import functools
import io
import unicodedata
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics, ttfonts
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from pharmacist_tool import paths
from pharmacist_tool.handout.content import HandoutContent, Line, Section, Span

REGULAR = "HandoutSans"
BOLD = "HandoutSans-Bold"
FALLBACK = "HandoutFallback"

FONT_FILES = {
    REGULAR: "DejaVuSans.ttf",
    BOLD: "DejaVuSans-Bold.ttf",
    FALLBACK: "DroidSansFallback.ttf",
}
PAGE_SIZES = {"A4": A4, "Letter": LETTER}


# -- fonts ------------------------------------------------------------------------------------


def _to_unicode_cmap(fontname: str, subset: list[int]) -> str:
    """ReportLab's ToUnicode CMap, with characters beyond U+FFFF written as UTF-16 pairs.

    ReportLab 5.1 writes them as five hex digits (``<1F600>``), which PDF readers reject, so an
    emoji or a rare Chinese character in a name would not read back. Otherwise identical.
    """

    def utf16(code: int) -> str:
        return "".join(f"{unit:04X}" for unit in _utf16_units(code))

    return "\n".join(
        [
            "/CIDInit /ProcSet findresource begin",
            "12 dict begin",
            "begincmap",
            "/CIDSystemInfo",
            f"<< /Registry ({fontname})",
            f"/Ordering ({fontname})",
            "/Supplement 0",
            ">> def",
            f"/CMapName /{fontname} def",
            "/CMapType 2 def",
            "1 begincodespacerange",
            f"<00> <{len(subset) - 1:02X}>",
            "endcodespacerange",
            f"{len(subset)} beginbfchar",
            *[f"<{i:02X}> <{utf16(v)}>" for i, v in enumerate(subset)],
            "endbfchar",
            "endcmap",
            "CMapName currentdict /CMap defineresource pop",
            "end",
            "end",
        ]
    )


def _utf16_units(code: int) -> list[int]:
    if code <= 0xFFFF:
        return [code]
    code -= 0x10000
    return [0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF)]


ttfonts.makeToUnicodeCMap = _to_unicode_cmap


@functools.cache
def register_font(name: str) -> frozenset[int]:
    """Register one bundled font (once per process); return the characters it has."""
    font = TTFont(name, str(paths.resource("fonts", FONT_FILES[name])))
    pdfmetrics.registerFont(font)
    return frozenset(font.face.charToGlyph)


def register_base_fonts() -> None:
    register_font(REGULAR)
    register_font(BOLD)
    pdfmetrics.registerFontFamily(REGULAR, normal=REGULAR, bold=BOLD)


MISSING_MARK = "\u25a1"
"""Printed in place of a character no bundled font has (a white square, in DejaVu Sans)."""

_RTL = frozenset(("R", "AL"))
_STRONG_LTR = frozenset(("L",))


def _clusters(text: str) -> list[str]:
    """A base character with the combining marks that follow it."""
    clusters: list[str] = []
    for char in text:
        if clusters and unicodedata.category(char) in ("Mn", "Me"):
            clusters[-1] += char
        else:
            clusters.append(char)
    return clusters


def visual_order(text: str) -> str:
    """Right-to-left runs (Hebrew, Arabic …) reversed for drawing on a left-to-right line.

    A simplified Unicode bidi algorithm for names and short phrases on a left-to-right page:
    runs of right-to-left letters, with the spaces and punctuation between them, are reversed
    cluster by cluster; everything else keeps its order. PDF readers give the text back in
    reading (logical) order.
    """
    if not any(unicodedata.bidirectional(c) in _RTL for c in text):
        return text
    clusters = _clusters(text)
    kinds = []
    for cluster in clusters:
        bidi = unicodedata.bidirectional(cluster[0])
        kinds.append("R" if bidi in _RTL else "L" if bidi in _STRONG_LTR else "N")
    # A neutral between two right-to-left clusters belongs to the right-to-left run.
    resolved = list(kinds)
    for i, kind in enumerate(kinds):
        if kind != "N":
            continue
        before = next((k for k in reversed(kinds[:i]) if k != "N"), "L")
        after = next((k for k in kinds[i + 1 :] if k != "N"), "L")
        resolved[i] = "R" if before == after == "R" else "L"
    out: list[str] = []
    run: list[str] = []
    for cluster, kind in zip(clusters, resolved, strict=True):
        if kind == "R":
            run.append(cluster)
            continue
        out.extend(reversed(run))
        run = []
        out.append(cluster)
    out.extend(reversed(run))
    return "".join(out)


class Markup:
    """Escapes text for ReportLab paragraphs and routes each character to a font that has it.

    A character no bundled font has prints as a white square (a combining mark is left out) and
    is reported in ``missing``, so the pharmacist can be told.
    """

    def __init__(self) -> None:
        register_base_fonts()
        self.missing: set[str] = set()
        self._regular = register_font(REGULAR)
        self._bold = register_font(BOLD)
        self._fallback: frozenset[int] | None = None  # registered on first need

    def _in_fallback(self, code: int) -> bool:
        if self._fallback is None:
            self._fallback = register_font(FALLBACK)
        return code in self._fallback

    def __call__(self, text: str, *, bold: bool = False) -> str:
        if text.isascii():
            return f"<b>{escape(text)}</b>" if bold else escape(text)
        base = self._bold if bold else self._regular
        runs: list[tuple[bool, str]] = []  # (in fallback font, text)
        for char in visual_order(text):
            code = ord(char)
            mark = unicodedata.category(char) in ("Mn", "Me")
            if code in base or char.isspace():
                fallback = bool(runs) and runs[-1][0] and mark and self._in_fallback(code)
            elif self._in_fallback(code):
                fallback = True
            else:
                self.missing.add(char)
                if mark:
                    continue
                char, fallback = MISSING_MARK, False
            if runs and runs[-1][0] == fallback:
                runs[-1] = (fallback, runs[-1][1] + char)
            else:
                runs.append((fallback, char))
        parts = [
            f'<font name="{FALLBACK}">{escape(chunk)}</font>' if in_fallback else escape(chunk)
            for in_fallback, chunk in runs
        ]
        joined = "".join(parts)
        return f"<b>{joined}</b>" if bold else joined


# -- styles -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sizes:
    body: float
    heading: float
    title: float
    pharmacy: float
    margin: float


REGULAR_SIZES = Sizes(body=12, heading=14, title=18, pharmacy=14, margin=12 * mm)
LARGE_SIZES = Sizes(body=18, heading=22, title=26, pharmacy=20, margin=14 * mm)


def _styles(sizes: Sizes, lead: float = 1.2, after: float = 0.15) -> dict[str, ParagraphStyle]:
    body = ParagraphStyle(
        "body",
        fontName=REGULAR,
        fontSize=sizes.body,
        leading=sizes.body * lead,
        textColor=colors.black,
        alignment=TA_LEFT,
        spaceAfter=sizes.body * after,
        splitLongWords=True,
    )
    return {
        "body": body,
        "bullet": ParagraphStyle(
            "bullet",
            parent=body,
            leftIndent=sizes.body * 1.4,
            bulletIndent=sizes.body * 0.3,
            bulletFontName=REGULAR,
            bulletFontSize=sizes.body,
            spaceAfter=sizes.body * 0.05,
        ),
        "heading": ParagraphStyle(
            "heading",
            parent=body,
            fontName=BOLD,
            fontSize=sizes.heading,
            leading=sizes.heading * 1.2,
            spaceBefore=sizes.body * 0.3,
            spaceAfter=sizes.body * 0.15,
        ),
        "title": ParagraphStyle(
            "title",
            parent=body,
            fontName=BOLD,
            fontSize=sizes.title,
            leading=sizes.title * 1.2,
            spaceBefore=sizes.body * 0.4,
            spaceAfter=sizes.body * 0.3,
        ),
        "pharmacy": ParagraphStyle(
            "pharmacy",
            parent=body,
            fontName=BOLD,
            fontSize=sizes.pharmacy,
            leading=sizes.pharmacy * 1.2,
            spaceAfter=0,
        ),
    }


# -- layout -----------------------------------------------------------------------------------


NO_BREAK_SPACE = "\u00a0"


def _line_markup(markup: Markup, line: Line) -> str:
    return "".join(markup(_kept_whole(span), bold=span.bold) for span in line.spans)


def _kept_whole(span: Span) -> str:
    """A name, phone number or date that must not break across a line: its spaces do not break
    (ReportLab breaks lines only at spaces, and inside a word only when it is longer than the
    line)."""
    return span.text.replace(" ", NO_BREAK_SPACE) if span.whole else span.text


def _line_flowable(
    markup: Markup, line: Line, styles: dict[str, ParagraphStyle], width: float
) -> Flowable:
    text = _line_markup(markup, line)
    if line.kind == "bullet":
        return Paragraph(text, styles["bullet"], bulletText="•")
    if line.kind == "blank-line":
        size = styles["body"].fontSize
        label = Paragraph(text, styles["body"])
        label_width = min(pdfmetrics.stringWidth(line.text, BOLD, size) + size, width * 0.75)
        return Table(
            [[label, ""]],
            colWidths=[label_width, width - label_width],
            rowHeights=[size * 2.0],
            style=TableStyle(
                [
                    ("FONT", (0, 0), (-1, -1), REGULAR, size),
                    ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                    ("LINEBELOW", (1, 0), (1, 0), 1, colors.black),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
                ]
            ),
            hAlign="LEFT",
            spaceAfter=size * 0.4,
        )
    return Paragraph(text, styles["body"])


LISTED = "avoid_agents"
"""Lines of this key (short list items) are set in two columns in regular print."""


def _lines_flowables(
    markup: Markup, lines: tuple[Line, ...], styles: dict[str, ParagraphStyle], width: float
) -> list[Flowable]:
    flow: list[Flowable] = []
    run: list[Line] = []
    two_columns = styles["body"].fontSize <= 14

    def flush() -> None:
        if not run:
            return
        if not two_columns or len(run) < 3:
            flow.extend(_line_flowable(markup, line, styles, width) for line in run)
        else:
            half = (len(run) + 1) // 2
            left = [_line_flowable(markup, line, styles, width / 2) for line in run[:half]]
            right = [_line_flowable(markup, line, styles, width / 2) for line in run[half:]]
            flow.append(
                Table(
                    [[left, right]],
                    colWidths=[width / 2, width / 2],
                    style=TableStyle(
                        [
                            ("FONT", (0, 0), (-1, -1), REGULAR, styles["body"].fontSize),
                            ("VALIGN", (0, 0), (-1, -1), "TOP"),
                            ("LEFTPADDING", (0, 0), (-1, -1), 0),
                            ("RIGHTPADDING", (0, 0), (-1, -1), styles["body"].fontSize * 0.5),
                            ("TOPPADDING", (0, 0), (-1, -1), 0),
                            ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
                        ]
                    ),
                )
            )
        run.clear()

    for line in lines:
        if line.key == LISTED:
            run.append(line)
            continue
        flush()
        flow.append(_line_flowable(markup, line, styles, width))
    flush()
    return flow


def _calendar_flowables(
    markup: Markup, section: Section, styles: dict[str, ParagraphStyle], width: float, pad: float
) -> list[Flowable]:
    """The patient's dates as a strip of cells: what, then the date in bold."""
    heading = Paragraph(markup(section.title, bold=True), styles["heading"])
    big = styles["body"].fontSize > 14
    columns = max(1, min(len(section.lines), 2 if big else 3))
    cells: list[list[Flowable]] = []
    for line in section.lines:
        label = "".join(markup(s.text, bold=False) for s in line.spans if not s.bold)
        label = label.rstrip().rstrip(":")
        when = "".join(markup(s.text, bold=True) for s in line.spans if s.bold)
        cells.append([Paragraph(label, styles["body"]), Paragraph(when, styles["body"])])
    rows = [cells[i : i + columns] for i in range(0, len(cells), columns)]
    rows[-1] += [[] for _ in range(columns - len(rows[-1]))]
    strip = Table(
        rows,
        colWidths=[width / columns] * columns,
        style=TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), REGULAR, styles["body"].fontSize),
                ("GRID", (0, 0), (-1, -1), 1, colors.black),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), pad * 0.5),
                ("RIGHTPADDING", (0, 0), (-1, -1), pad * 0.5),
            ]
        ),
    )
    # the strip is short: a page break before it when the heading and one row would not fit
    return [CondPageBreak(styles["heading"].leading + styles["body"].leading * 4), heading, strip]


def _section_flowables(
    markup: Markup,
    section: Section,
    styles: dict[str, ParagraphStyle],
    width: float,
    pad: float,
    *,
    kept: bool = False,
) -> list[Flowable]:
    """``kept``: the caller already keeps the section together (the first, with the header)."""
    if section.kind == "calendar":
        return _calendar_flowables(markup, section, styles, width, pad)
    heading = Paragraph(markup(section.title, bold=True), styles["heading"])
    inner_width = width - 2 * pad if section.boxed else width
    lines = _lines_flowables(markup, section.lines, styles, inner_width)
    if not section.boxed:
        # Keep each heading with its first lines; the rest may flow to the next page.
        return [CondPageBreak(styles["heading"].leading * 3), heading, *lines]
    last = len(lines)
    big = styles["body"].fontSize > 14
    box = Table(
        [[heading], *([line] for line in lines)],
        colWidths=[width],
        repeatRows=1,  # split in large print: the heading again on the next page
        style=TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), REGULAR, styles["body"].fontSize),
                ("BOX", (0, 0), (-1, -1), 2.5, colors.black),
                ("LEFTPADDING", (0, 0), (-1, -1), pad),
                ("RIGHTPADDING", (0, 0), (-1, -1), pad),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (0, 0), pad * 0.3),
                ("BOTTOMPADDING", (0, last), (0, last), pad * 0.6),
            ]
        ),
    )
    # Regular print: the box moves whole to the next page when it does not fit. Large print: it
    # splits between its lines (half a page left empty would push the sheet to more pages).
    spacer = Spacer(1, styles["body"].fontSize * 0.5)
    return [spacer, box] if kept or big else [spacer, KeepTogether([box])]


def _header_flowables(
    markup: Markup, content: HandoutContent, styles: dict[str, ParagraphStyle], width: float
) -> list[Flowable]:
    """The pharmacy (name, address, phone) on the left; the patient and the date on the right."""
    pharmacy: list[Flowable]
    if content.pharmacy:
        pharmacy = [Paragraph(markup(content.pharmacy, bold=True), styles["pharmacy"])]
    else:  # not in the settings: a line to write it on
        label = Line((Span(content.pharmacy_label),), kind="blank-line", measured=False)
        pharmacy = [_line_flowable(markup, label, styles, width * 0.55)]
    if content.pharmacy_details:
        details = "<br/>".join(_line_markup(markup, line) for line in content.pharmacy_details)
        pharmacy.append(Paragraph(details, styles["body"]))
    patient = [_line_flowable(markup, line, styles, width * 0.45) for line in content.header]
    top = Table(
        [[pharmacy, patient]],
        colWidths=[width * 0.55, width * 0.45],
        style=TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), REGULAR, styles["body"].fontSize),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (0, 0), styles["body"].fontSize),
                ("LINEBELOW", (0, 0), (-1, 0), 1, colors.black),
            ]
        ),
    )
    flow: list[Flowable] = [top, Paragraph(markup(content.title, bold=True), styles["title"])]
    if content.notice is not None:
        notice = Paragraph(_line_markup(markup, content.notice), styles["body"])
        flow.append(
            Table(
                [[notice]],
                style=TableStyle(
                    [
                        ("FONT", (0, 0), (-1, -1), REGULAR, styles["body"].fontSize),
                        ("BOX", (0, 0), (-1, -1), 1.5, colors.black),
                    ]
                ),
            )
        )
    return flow


def _numbered_canvas(page_of: str, size: float) -> type[Canvas]:
    """A canvas that writes 'Page x of y' once the number of pages is known (one pass)."""

    class NumberedCanvas(Canvas):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            # No base-14 Helvetica 10 pt left in the page streams: the bundled font at body size.
            kwargs.update(initialFontName=REGULAR, initialFontSize=size, initialLeading=size * 1.2)
            super().__init__(*args, **kwargs)
            self._saved: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 - ReportLab's name
            self._saved.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._saved)
            for state in self._saved:
                self.__dict__.update(state)
                text = page_of.format(page=self._pageNumber, pages=total)
                self.setFont(REGULAR, size)
                self.setFillColor(colors.black)
                width, _ = self._pagesize
                self.drawRightString(width - 16 * mm, 8 * mm, text)
                super().showPage()
            super().save()

    return NumberedCanvas


def render_pdf(
    content: HandoutContent,
    *,
    large_print: bool,
    paper: str,
) -> tuple[bytes, tuple[str, ...]]:
    """The PDF bytes and the characters no bundled font could print.

    A regular sheet that would run onto a third page is set again with tighter line spacing (the
    same type size), so it keeps to two pages."""
    pdf, missing, pages = _render(content, large_print=large_print, paper=paper, tight=False)
    if pages > MAX_PAGES and not large_print:
        pdf, missing, pages = _render(content, large_print=large_print, paper=paper, tight=True)
    return pdf, missing


MAX_PAGES = 2


def _render(
    content: HandoutContent, *, large_print: bool, paper: str, tight: bool
) -> tuple[bytes, tuple[str, ...], int]:
    sizes = LARGE_SIZES if large_print else REGULAR_SIZES
    styles = _styles(sizes, 1.1, 0.04) if tight else _styles(sizes)
    markup = Markup()
    buffer = io.BytesIO()
    page = PAGE_SIZES[paper]
    footer_space = sizes.body * 1.6
    doc = SimpleDocTemplate(
        buffer,
        pagesize=page,
        leftMargin=sizes.margin,
        rightMargin=sizes.margin,
        topMargin=sizes.margin * 0.8,
        bottomMargin=sizes.margin * 0.6 + footer_space,
        title=content.title,
        author=content.pharmacy or "pharmacist-tool",
        subject=content.subject,
        keywords="sources: " + ", ".join(content.sources),
        creator="pharmacist-tool",
        producer="pharmacist-tool (ReportLab)",
        lang=content.language,
        displayDocTitle=1,
        invariant=1,
    )
    width = page[0] - 2 * sizes.margin
    pad = sizes.body * 0.8
    head = _header_flowables(markup, content, styles, width)
    first, *rest = content.sections
    # The header never stands alone on a page: it keeps its first section with it.
    story: list[Flowable] = [
        KeepTogether([*head, *_section_flowables(markup, first, styles, width, pad)])
    ]
    for section in rest:
        story += _section_flowables(markup, section, styles, width, pad)
    doc.build(story, canvasmaker=_numbered_canvas(content.page_of, sizes.body))
    return buffer.getvalue(), tuple(sorted(markup.missing)), doc.page
