"""The window's door to the rest of the tool: knowledge base, engine, records and handout.

Everything heavy is imported here lazily: the knowledge base and the engine when the first case is
shown, the records (SQLAlchemy) only when someone signs in, signs or opens the records, the
handout (ReportLab) only when it is previewed or signed. This module imports no Qt.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from pharmacist_tool.errors import UserError

if TYPE_CHECKING:
    from pharmacist_tool.case import Case
    from pharmacist_tool.engine.assessment import Assessment
    from pharmacist_tool.knowledge.model import KnowledgeBase

log = logging.getLogger(__name__)

RULE_SETS = ("US-iPLEDGE", "UK-PPP", "EU-PPP")


@lru_cache(maxsize=8)
def knowledge_base(medicine: str = "") -> KnowledgeBase:
    """The pack of the session's medicine; the default pack while the medicine names none yet
    (still being typed: the checks then say the product is unknown)."""
    from pharmacist_tool.knowledge import load_for_counter, packs

    try:
        pack = packs.pack_for(medicine) if medicine.strip() else None
    except UserError:
        pack = None
    return load_for_counter(medicine if pack else None)


def assess(case: Case, kb: KnowledgeBase) -> Assessment:
    from pharmacist_tool.engine import assess as run

    return run(case, kb)


def missing_for_signing(case: Case, assessment: Assessment) -> list[str]:
    from pharmacist_tool.engine.readiness import missing_for_signing as missing

    result: list[str] = missing(case, assessment)
    return result


def rule_set_ids(kb: KnowledgeBase | None) -> list[str]:
    """Every pack's rule sets, the session's pack's first (the rule set may be chosen before the
    medicine; a set the medicine's pack lacks is then named by the checks)."""
    from pharmacist_tool.knowledge import packs

    return packs.rule_set_ids(kb.medicine if kb else None) or list(RULE_SETS)


def product_names(kb: KnowledgeBase | None) -> list[str]:
    names: list[str] = []
    for product in kb.products if kb else []:
        names.append(product.name)
        names.extend(n for n in product.names if n.lower() != product.name.lower())
    return sorted(set(names), key=str.lower)


def asks_indication(kb: KnowledgeBase | None) -> bool:
    """The pack's rules depend on what the medicine is for (``indications`` in its data): the
    window then asks it."""
    return kb is not None and bool(kb.indications)


def has_advice_by_sex(kb: KnowledgeBase | None) -> bool:
    """The pack has advice for one sex only (a checklist item with ``sex``): the window then
    asks the patient's sex."""
    return kb is not None and any(item.sex != "any" for item in kb.checklist)


def medicine_terms(kb: KnowledgeBase | None) -> list[str]:
    terms: set[str] = set()
    for rule in kb.interactions if kb else []:
        terms.update(rule.terms)
    return sorted(terms, key=str.lower)


def method_terms(kb: KnowledgeBase | None) -> list[str]:
    terms: set[str] = set()
    for method in kb.contraception if kb else []:
        terms.add(method.label)
        terms.update(method.terms)
    return sorted(terms, key=str.lower)


def family_of(kb: KnowledgeBase, rule_set: str) -> str:
    for rs in kb.rule_sets:
        if rs.id == rule_set:
            return str(rs.family)
    return rule_set.split("-", 1)[0]


@dataclass(frozen=True)
class Match:
    text: str
    """What the line matched, in words for the pharmacist."""
    known: bool


def match_medicine(kb: KnowledgeBase, text: str) -> Match:
    """How a line of the patient's medicines is screened (as ``medicines_screened`` says): what
    it was recognised as and what it matched, or that it was not screened."""
    from pharmacist_tool.knowledge.matching import screen_medicine

    screening = screen_medicine(kb, text)
    if screening.recognised_as is None and not screening.matches:
        return Match("NOT RECOGNISED: not screened, check it by hand", False)
    what = f"recognised as {screening.recognised_as}" if screening.recognised_as else "recognised"
    if not screening.matches:
        return Match(f"{what}: no interaction known with {kb.medicine}", True)
    parts = []
    for m in screening.matches:
        if m.fuzzy:
            how = f"“{m.said}” spelt close to “{m.term}”: check it"
        elif m.how == "stem":
            how = f"“{m.said}”, from its ending {m.term}: check it"
        else:
            how = f"“{m.said}”"
        parts.append(f"{m.rule.agent} ({how})")
    return Match(f"{what}: matches " + "; ".join(parts), True)


def match_method(kb: KnowledgeBase, text: str, rule_set: str) -> Match:
    """The birth-control method a line names, and how this programme counts it."""
    from pharmacist_tool.knowledge.matching import match_method as match

    result = match(kb, text)
    if result is None:
        return Match("not recognised: not counted as a method", False)
    label = result.label
    family = family_of(kb, rule_set)
    status = result.status.get(family, "not listed")
    words = {
        "primary": "primary method",
        "secondary": "secondary method",
        "not-acceptable": "not acceptable for this programme",
        "abstinence": "abstinence",
        "agreement": "agreement recorded: no contraception needed",
    }
    described = words.get(status, status)
    if family != "US" and result.user_independent and status != "not-acceptable":
        described = "highly effective on its own (user-independent)"
    return Match(f"{label}: {described}", True)


def handout_languages() -> list[tuple[str, str]]:
    """(code, name) of every language with approved handout wording; English if none load."""
    try:
        from pharmacist_tool.handout.wording import approved_languages, language_name

        found = [
            (code, f"{language_name(code).split(',')[0]} ({code})") for code in approved_languages()
        ]
    except Exception:  # the window keeps working with English alone
        log.exception("listing the handout languages")
        found = []
    return found or [("en", "English (en)")]
