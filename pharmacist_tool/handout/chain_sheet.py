"""The one-page paper-log sheet of the records' chain head (ReportLab; no Qt).

What the pharmacy writes in its paper log to anchor the hash chain: the pharmacy, the date and
time, the head (``POSITION:HASH``, as ``verify --expect-head`` takes it back), what the chain
held, and lines for the pharmacist's initials. Plain facts only: no patient appears on it.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas

from pharmacist_tool.handout.pdf import BOLD, PAGE_SIZES, REGULAR, register_base_fonts

if TYPE_CHECKING:  # the records' plain value; importing it would bring the database code
    from pharmacist_tool.records.service import HeadNote

MARGIN = 20 * mm
BODY = 11.0
TITLE = "Records chain head for the paper log"


@dataclass(frozen=True)
class ChainSheet:
    pharmacy: str
    address: str
    database: str
    """Which database (its address, no password)."""
    head: HeadNote
    """The head of the verified chain, what it held, and when it was read."""


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"


def render_chain_sheet(sheet: ChainSheet, *, paper: str) -> bytes:
    """One page, ``paper`` (``A4`` or ``Letter``) as the settings give it."""
    register_base_fonts()
    width, height = PAGE_SIZES[paper]
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(width, height), invariant=1)
    canvas.setTitle(TITLE)
    canvas.setAuthor(sheet.pharmacy or "pharmacist-tool")
    canvas.setCreator("pharmacist-tool")
    text_width = width - 2 * MARGIN
    y = height - MARGIN

    def line(text: str, *, font: str = REGULAR, size: float = BODY, gap: float = 1.5) -> None:
        nonlocal y
        for part in simpleSplit(text, font, size, text_width) or [""]:
            y -= size * gap
            canvas.setFont(font, size)
            canvas.drawString(MARGIN, y, part)

    head = sheet.head
    local = head.at.astimezone()
    line(TITLE, font=BOLD, size=16)
    line(sheet.pharmacy, font=BOLD, size=13, gap=2.0)
    if sheet.address:
        line(sheet.address)
    line(f"Date and time: {local:%Y-%m-%d %H:%M} ({head.at.astimezone(dt.UTC):%H:%M} UTC)", gap=2.2)
    line(f"Database: {sheet.database}", size=9)
    line("Chain head (position:hash):", font=BOLD, gap=2.2)
    line(head.text, size=9.5)
    line(f"Position: {head.position}")
    line(f"Hash: {head.hash}", size=9.5)
    held = (
        f"{_plural(head.records, 'signed record')}, {_plural(head.amendments, 'amendment')} "
        f"and {_plural(head.audit_events, 'audit event')}"
    )
    line(
        f"The chain holds {held}; verify found it intact when this sheet was printed.",
        gap=2.2,
    )
    line(
        "Check it later with: pharmacist-tool verify --expect-head POSITION:HASH "
        "(the head above, as written)",
        size=9,
    )
    line("Pharmacist's initials: ______________    Date: ______________", gap=4.0)
    line("Keep this sheet in the paper log, signed and dated.", size=9, gap=2.2)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
