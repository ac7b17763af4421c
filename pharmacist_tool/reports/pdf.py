"""The monthly report as a PDF an inspector reads in minutes (ReportLab platypus and graphics).

First page: the period, the chain head it was read under and whether the chain verified, the
supplies per medicine and rule set (a table and a chart), and the per-duty rates (a chart).
Then the rates with the records that missed each, and every flagged supply by record id.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from pharmacist_tool.handout.pdf import BOLD, PAGE_SIZES, REGULAR, register_base_fonts
from pharmacist_tool.reports.figures import MonthlyFigures, Rate

TITLE = "Pregnancy prevention programmes: monthly report"
MARGIN = 18 * mm
BODY = 9.5
MOST_IDS = 40
"""Record ids listed in one cell before the rest are counted (the CSV lists them all)."""


@dataclass(frozen=True)
class ReportHeader:
    pharmacy: str
    chain_head: str
    """``POSITION:HASH`` of the chain the figures were read under."""
    chain_intact: bool
    chain_problems: int
    generated_at: dt.datetime
    generated_by: str


def _styles() -> dict[str, ParagraphStyle]:
    body = ParagraphStyle("body", fontName=REGULAR, fontSize=BODY, leading=BODY * 1.3)
    return {
        "body": body,
        "title": ParagraphStyle("title", parent=body, fontName=BOLD, fontSize=15, leading=19),
        "h2": ParagraphStyle(
            "h2", parent=body, fontName=BOLD, fontSize=12, leading=15, spaceBefore=8, spaceAfter=4
        ),
        "cell": ParagraphStyle("cell", parent=body, fontSize=8.5, leading=10.5),
        "head": ParagraphStyle("head", parent=body, fontName=BOLD, fontSize=8.5, leading=10.5),
        "alert": ParagraphStyle("alert", parent=body, fontName=BOLD, textColor=colors.red),
    }


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def ids_text(ids: Sequence[int]) -> str:
    if not ids:
        return "none"
    shown = ", ".join(str(i) for i in ids[:MOST_IDS])
    rest = len(ids) - MOST_IDS
    return f"{shown} and {rest} more (see the CSV)" if rest > 0 else shown


def percent_text(rate: Rate) -> str:
    value = rate.percent
    return "no supplies" if value is None else f"{value:.0f}% ({len(rate.met)} of {len(rate.of)})"


def _table(rows: list[list[Flowable | str]], widths: list[float]) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, 0), BOLD),
                ("FONTNAME", (0, 1), (-1, -1), REGULAR),
                ("FONTSIZE", (0, 0), (-1, -1), 8.5),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, colors.black),
                ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.grey),
            ]
        )
    )
    return table


def _bar_chart(labels: list[str], values: list[float], *, width: float, top: float) -> Drawing:
    """Horizontal bars, one per label; ``top`` is the value axis's maximum."""
    bar_height = 14
    height = max(60, bar_height * len(labels) + 40)
    drawing = Drawing(width, height)
    chart = HorizontalBarChart()
    chart.x, chart.y = 170, 20
    chart.width, chart.height = width - 190, height - 30
    chart.data = [values]
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = top
    chart.valueAxis.labels.fontName = REGULAR
    chart.valueAxis.labels.fontSize = 7
    chart.categoryAxis.categoryNames = labels
    chart.categoryAxis.labels.fontName = REGULAR
    chart.categoryAxis.labels.fontSize = 7
    chart.categoryAxis.labels.boxAnchor = "e"
    chart.bars[0].fillColor = colors.HexColor("#3b6ea5")
    drawing.add(chart)
    if not labels:
        drawing.add(String(10, height / 2, "No supplies in this period", fontName=REGULAR))
    return drawing


def _short(text: str, most: int = 38) -> str:
    return text if len(text) <= most else text[: most - 1] + "…"


def render_report(figures: MonthlyFigures, header: ReportHeader, *, paper: str) -> bytes:
    register_base_fonts()
    styles = _styles()
    width, _ = PAGE_SIZES[paper]
    text_width = width - 2 * MARGIN
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=PAGE_SIZES[paper],
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=TITLE,
        author=header.pharmacy or "pharmacist-tool",
        creator="pharmacist-tool",
        lang="en",
        displayDocTitle=True,
        invariant=1,
    )
    story: list[Flowable] = []
    story += _heading(figures, header, styles)
    story += _supplies(figures, styles, text_width)
    story += _rates(figures, styles, text_width)
    story += _flagged(figures, styles, text_width)
    doc.build(story)
    return buffer.getvalue()


def _heading(
    figures: MonthlyFigures, header: ReportHeader, styles: dict[str, ParagraphStyle]
) -> list[Flowable]:
    period = f"{figures.since:%d %B %Y} to {figures.until:%d %B %Y}"
    chain = (
        f"Read under chain head <b>{header.chain_head}</b>: the whole chain verified intact."
        if header.chain_intact
        else f"Chain head {header.chain_head}: <b>the chain did NOT verify</b> "
        f"({header.chain_problems} problems): run <i>pharmacist-tool verify</i>."
    )
    made = f"{header.generated_at.astimezone():%Y-%m-%d %H:%M} by {_escape(header.generated_by)}"
    return [
        Paragraph(TITLE, styles["title"]),
        Paragraph(_escape(header.pharmacy or "Pharmacy not named in Settings"), styles["body"]),
        Paragraph(f"Period: {period}. Made {made}.", styles["body"]),
        Paragraph(chain, styles["body" if header.chain_intact else "alert"]),
        Paragraph(
            f"{len(figures.record_ids)} signed records in the period. Records are named by their "
            "number; every figure lists the records behind it.",
            styles["body"],
        ),
    ]


def _supplies(
    figures: MonthlyFigures, styles: dict[str, ParagraphStyle], text_width: float
) -> list[Flowable]:
    heads = ["Medicine / rule set", "Handed over", "Not handed over", "Counselling declined", "All"]
    rows: list[list[Flowable | str]] = [[Paragraph(h, styles["head"]) for h in heads]]
    for count in figures.supplies:
        rows.append(
            [
                Paragraph(_escape(count.group), styles["cell"]),
                str(len(count.handed_over)),
                str(len(count.not_handed_over)),
                str(len(count.declined)),
                str(count.total),
            ]
        )
    chart = _bar_chart(
        [_short(c.group) for c in figures.supplies],
        [float(len(c.handed_over)) for c in figures.supplies],
        width=text_width,
        top=max([len(c.handed_over) for c in figures.supplies] + [1]),
    )
    return [
        Paragraph("Supplies per medicine and rule set", styles["h2"]),
        _table(rows, [text_width * 0.4] + [text_width * 0.15] * 4),
        Spacer(1, 4),
        Paragraph("Handed over, per medicine and rule set:", styles["cell"]),
        chart,
    ]


def _rates(
    figures: MonthlyFigures, styles: dict[str, ParagraphStyle], text_width: float
) -> list[Flowable]:
    rated = [r for r in figures.rates if r.percent is not None]
    chart = _bar_chart(
        [_short(f"{r.label} ({r.group})", 44) for r in rated],
        [r.percent or 0.0 for r in rated],
        width=text_width,
        top=100,
    )
    heads = ["Duty", "Medicine / rule set", "Rate", "Missed in records"]
    rows: list[list[Flowable | str]] = [[Paragraph(h, styles["head"]) for h in heads]]
    short = [r for r in figures.duty_rates if r.missed]
    for rate in [*figures.rates, *short]:
        rows.append(
            [
                Paragraph(_escape(rate.label), styles["cell"]),
                Paragraph(_escape(rate.group), styles["cell"]),
                percent_text(rate),
                Paragraph(ids_text(rate.missed), styles["cell"]),
            ]
        )
    widths = [text_width * 0.34, text_width * 0.24, text_width * 0.16, text_width * 0.26]
    full = len(figures.duty_rates) - len(short)
    return [
        Paragraph("Programme duties and tests (supplies handed over)", styles["h2"]),
        KeepTogether([Paragraph("Rates, in per cent:", styles["cell"]), chart]),
        _table(rows, widths),
        Paragraph(
            f"Each counselling point and duty on its own: {len(short)} below 100% (listed "
            f"above), {full} at 100% (all in the CSV).",
            styles["cell"],
        ),
    ]


def _flagged(
    figures: MonthlyFigures, styles: dict[str, ParagraphStyle], text_width: float
) -> list[Flowable]:
    out: list[Flowable] = [Paragraph("Exceptions to look at", styles["h2"])]
    if not figures.exceptions:
        return [*out, Paragraph("None in this period.", styles["body"])]
    kinds = figures.exception_kinds
    summary = "; ".join(f"{kind}: {count}" for kind, count in sorted(kinds.items()))
    out.append(Paragraph(_escape(summary), styles["body"]))
    rows: list[list[Flowable | str]] = [["Record", "Date", "Exception", "Details"]]
    for item in figures.exceptions:
        rows.append(
            [
                str(item.record_id),
                item.counselled_on.isoformat(),
                Paragraph(_escape(item.kind), styles["cell"]),
                Paragraph(_escape(item.words), styles["cell"]),
            ]
        )
    widths = [text_width * 0.09, text_width * 0.14, text_width * 0.3, text_width * 0.47]
    return [*out, _table(rows, widths)]
