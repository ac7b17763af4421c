"""Matching what people type to the knowledge base's agents and contraception methods.

Text is compared as whole words after normalising: any letter case, accents removed, apostrophes
dropped ("John’s" = "Johns"), other punctuation as spaces, and numbers split from units
("100mg" = "100 mg"), so "Doxy 100mg tabs" and "St. John’s Wort 300 mg" find their terms. The
terms (generic and brand names, spellings, abbreviations) come from the data. A cautious fuzzy
match catches misspellings of long names only (words of 7 letters or more, similarity at least
0.88); everyday medicines are checked never to match in the tests.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import NamedTuple

from pharmacist_tool.knowledge.model import ContraceptionMethod, InteractionRule, KnowledgeBase

FUZZY_MIN_LETTERS = 7
FUZZY_MIN_RATIO = 0.88

_APOSTROPHES = re.compile(r"['’‘`´ʼ]")
_NOT_WORD = re.compile(r"[^a-z0-9]+")
_NUMBER_UNIT = re.compile(r"(?<=[0-9])(?=[a-z])|(?<=[a-z])(?=[0-9])")
_DOSE_WORDS = frozenset(
    {
        "mg",
        "mcg",
        "µg",
        "ug",
        "g",
        "gm",
        "gram",
        "grams",
        "milligram",
        "milligrams",
        "microgram",
        "micrograms",
        "iu",
        "ui",
        "units",
        "unit",
        "ml",
        "tab",
        "tabs",
        "tablet",
        "tablets",
        "cap",
        "caps",
        "capsule",
        "capsules",
        "softgel",
        "softgels",
        "pill",
        "pills",
        "daily",
        "once",
        "twice",
        "a",
        "day",
        "bd",
        "bid",
        "tid",
        "qd",
        "od",
        "prn",
        "as",
        "needed",
        "x",
        "per",
        "week",
        "weekly",
    }
)


def words(text: str, *, drop_doses: bool = False) -> tuple[str, ...]:
    """The normalised words of a text (``drop_doses``: without numbers and dose words)."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = _APOSTROPHES.sub("", text)
    text = _NOT_WORD.sub(" ", text)
    text = _NUMBER_UNIT.sub(" ", text)
    tokens = tuple(text.split())
    if drop_doses:
        tokens = tuple(t for t in tokens if not t.isdigit() and t not in _DOSE_WORDS)
    return tokens


def _contains(tokens: Sequence[str], term: Sequence[str]) -> int:
    """Index where ``term`` occurs as whole words in ``tokens``, or -1."""
    n = len(term)
    for start in range(len(tokens) - n + 1):
        if tuple(tokens[start : start + n]) == tuple(term):
            return start
    return -1


class _Candidate(NamedTuple):
    term: tuple[str, ...]
    excluded_by: tuple[tuple[str, ...], ...]


class Index(NamedTuple):
    rules: tuple[tuple[InteractionRule, tuple[_Candidate, ...]], ...]
    methods: tuple[tuple[ContraceptionMethod, tuple[tuple[str, ...], ...]], ...]


_INDEXES: dict[int, tuple[KnowledgeBase, Index]] = {}


def index(kb: KnowledgeBase) -> Index:
    """Normalised terms of a knowledge base (built once per knowledge base object)."""
    cached = _INDEXES.get(id(kb))
    if cached is not None and cached[0] is kb:
        return cached[1]
    rules = tuple(
        (
            rule,
            tuple(
                _Candidate(words(term), tuple(words(x) for x in rule.exclude_terms))
                for term in rule.terms
                if words(term)
            ),
        )
        for rule in kb.interactions
    )
    methods = tuple(
        (method, tuple(t for t in (words(term) for term in method.terms) if t))
        for method in kb.contraception
    )
    built = Index(rules, methods)
    if len(_INDEXES) > 16:
        _INDEXES.clear()
    _INDEXES[id(kb)] = (kb, built)
    return built


def _similar(a: str, b: str) -> bool:
    if min(len(a), len(b)) < FUZZY_MIN_LETTERS or not (a.isalpha() and b.isalpha()):
        return False
    if abs(len(a) - len(b)) > 2:
        return False
    from difflib import SequenceMatcher

    return SequenceMatcher(None, a, b, autojunk=False).ratio() >= FUZZY_MIN_RATIO


class MedicineMatch(NamedTuple):
    rule: InteractionRule
    term: str
    """The words that matched (normalised)."""
    fuzzy: bool


def explain_medicine(kb: KnowledgeBase, text: str) -> list[MedicineMatch]:
    """Every interaction rule a line matches, with the words that matched it."""
    tokens = words(text)
    if not tokens:
        return []
    found: list[MedicineMatch] = []
    covered: set[int] = set()
    entries = index(kb).rules
    for rule, candidates in entries:
        for candidate in candidates:
            at = _contains(tokens, candidate.term)
            if at < 0:
                continue
            if any(_contains(tokens, x) >= 0 for x in candidate.excluded_by):
                break
            covered.update(range(at, at + len(candidate.term)))
            found.append(MedicineMatch(rule, " ".join(candidate.term), False))
            break
    loose = [t for i, t in enumerate(tokens) if i not in covered]
    matched = {m.rule.id for m in found}
    for rule, candidates in entries:
        if rule.id in matched:
            continue
        for candidate in candidates:
            if len(candidate.term) != 1 or any(
                _contains(tokens, x) >= 0 for x in candidate.excluded_by
            ):
                continue
            if any(_similar(token, candidate.term[0]) for token in loose):
                found.append(MedicineMatch(rule, candidate.term[0], True))
                break
    return found


def match_medicine(kb: KnowledgeBase, text: str) -> list[InteractionRule]:
    """The interaction rules (agents and classes) a line of the patient's medicines matches."""
    return [m.rule for m in explain_medicine(kb, text)]


def match_method(kb: KnowledgeBase, text: str) -> ContraceptionMethod | None:
    """The contraception method a line names; the most specific (longest) term wins."""
    tokens = words(text)
    if not tokens:
        return None
    best: tuple[int, int, int] | None = None
    chosen: ContraceptionMethod | None = None
    for method, terms in index(kb).methods:
        for term in terms:
            if _contains(tokens, term) < 0:
                continue
            score = (len(term), 0 if method.confirm else 1, len("".join(term)))
            if best is None or score > best:
                best, chosen = score, method
    if chosen is not None:
        return chosen
    for method, terms in index(kb).methods:
        for term in terms:
            if len(term) == 1 and any(_similar(token, term[0]) for token in tokens):
                return method
    return None
