"""The personalised patient handout (ReportLab; no Qt).

``render_handout`` turns a case and its assessment into the PDF a patient takes home. Importing
this package is cheap: ReportLab is imported only when a handout is rendered, so the window can
import it lazily without slowing its start.

The same case, assessment, knowledge base, settings and options always give the same bytes, so a
reprint of a signed record is identical; ``Handout.sha256`` with ``template_version`` and
``knowledge_base_version`` identifies what was handed out.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypedDict

from pharmacist_tool.errors import UserError

if TYPE_CHECKING:
    from pharmacist_tool.case import Case
    from pharmacist_tool.engine.assessment import Assessment
    from pharmacist_tool.handout.content import HandoutContent
    from pharmacist_tool.knowledge.model import KnowledgeBase
    from pharmacist_tool.settings import Settings

TEMPLATE_VERSION = "2026.12.1"
"""Bump when the wording (``resources/handout``) or the layout changes."""

PAPER_SIZES = ("A4", "Letter")


class RenderOptions(TypedDict, total=False):
    """How a handout was or is to be rendered, beyond the case: what ``render_handout`` takes."""

    large_print: bool | None
    language: str | None
    paper: str | None
    pharmacist: str | None


@dataclass(frozen=True)
class Handout:
    pdf: bytes
    sha256: str
    """Hex SHA-256 of ``pdf``."""
    template_version: str
    knowledge_base_version: str
    language: str
    """What was actually printed ("en" when the requested language has no approved text)."""
    large_print: bool
    paper: str
    """"A4" or "Letter"."""
    requested_language: str = ""
    """The language asked for (from the options or the case)."""
    missing_characters: tuple[str, ...] = ()
    """Characters from the case that no bundled font has (they print as a box): warn the user."""
    blocked: bool = False
    """The "not handed over today" sheet was printed (the session is ``do-not-dispense``)."""
    missing_settings: tuple[str, ...] = ()
    """Settings the sheet needs that are not set (``pharmacy_name``, ``pharmacy_phone``)."""
    sources: tuple[str, ...] = ()
    """The source keys the sheet relies on (also in the PDF's metadata), for the record."""


def _options(
    case: Case,
    settings: Settings,
    large_print: bool | None,
    language: str | None,
    paper: str | None,
) -> tuple[bool, str, str]:
    big = case.patient.large_print if large_print is None else large_print
    lang = (language if language is not None else case.patient.handout_language or "en").strip()
    lang = lang.lower()
    if len(lang) != 2 or not lang.isascii() or not lang.isalpha():
        raise UserError(
            f"Handout language {language!r} is not a two-letter language code (such as en or es)."
        )
    size = paper if paper is not None else settings.paper_size
    matched = next((p for p in PAPER_SIZES if p.lower() == str(size).lower()), None)
    if matched is None:
        raise UserError(f"Paper size {size!r} is not known (use A4 or Letter).")
    return big, lang, matched


def handout_content(
    case: Case,
    assessment: Assessment,
    kb: KnowledgeBase,
    settings: Settings | None = None,
    *,
    language: str | None = None,
    pharmacist: str | None = None,
) -> HandoutContent:
    """The words of the handout, without layout (what the readability checks measure)."""
    from pharmacist_tool.handout.content import build_content

    if settings is None:
        from pharmacist_tool.settings import load_settings

        settings = load_settings()
    _, lang, _ = _options(case, settings, None, language, None)
    return build_content(
        case,
        assessment,
        kb,
        settings,
        language=lang,
        pharmacist=pharmacist,
        template_version=TEMPLATE_VERSION,
    )


def render_handout(
    case: Case,
    assessment: Assessment,
    kb: KnowledgeBase,
    settings: Settings | None = None,
    *,
    large_print: bool | None = None,
    language: str | None = None,
    paper: str | None = None,
    pharmacist: str | None = None,
) -> Handout:
    """Render the patient's handout.

    ``large_print``, ``language`` default to the case (``patient.large_print`` /
    ``handout_language``); ``paper`` to the settings; ``settings`` to this machine's settings.
    ``pharmacist`` is printed as the counselling pharmacist (a blank line to write on if None).
    Raises ``UserError`` on options or case text that cannot be printed.
    """
    from pharmacist_tool.handout.content import build_content
    from pharmacist_tool.handout.pdf import render_pdf

    if settings is None:
        from pharmacist_tool.settings import load_settings

        settings = load_settings()
    big, lang, size = _options(case, settings, large_print, language, paper)
    content = build_content(
        case,
        assessment,
        kb,
        settings,
        language=lang,
        pharmacist=pharmacist,
        template_version=TEMPLATE_VERSION,
    )
    pdf, missing = render_pdf(content, large_print=big, paper=size)
    return Handout(
        pdf=pdf,
        sha256=hashlib.sha256(pdf).hexdigest(),
        template_version=TEMPLATE_VERSION,
        knowledge_base_version=assessment.knowledge_base.version or kb.version,
        language=content.language,
        large_print=big,
        paper=size,
        requested_language=lang,
        missing_characters=missing,
        blocked=content.blocked,
        missing_settings=content.missing_settings,
        sources=content.sources,
    )


__all__ = ["PAPER_SIZES", "TEMPLATE_VERSION", "Handout", "handout_content", "render_handout"]
