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
from collections.abc import Sequence

from pharmacist_tool.knowledge.model import ContraceptionMethod, InteractionRule, KnowledgeBase

FUZZY_MIN_LETTERS = 7
FUZZY_MIN_RATIO = 0.88

_DROP_APOSTROPHES = {ord(c): None for c in "'’‘`´ʼ"}
_TOKEN = re.compile(r"[a-z]+|[0-9]+")
"""Runs of letters or of digits: punctuation separates words, and "100mg" is "100 mg"."""
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
    if text.isascii():
        text = text.lower()
        if "'" in text or "`" in text:
            text = text.replace("'", "").replace("`", "")
    else:
        import unicodedata

        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
        text = text.translate(_DROP_APOSTROPHES)
    tokens = tuple(_TOKEN.findall(text))
    if drop_doses:
        tokens = tuple(t for t in tokens if not t.isdigit() and t not in _DOSE_WORDS)
    return tokens


def contains(tokens: Sequence[str], term: Sequence[str]) -> int:
    """Index where ``term`` occurs as whole words in ``tokens``, or -1."""
    n = len(term)
    for start in range(len(tokens) - n + 1):
        if tuple(tokens[start : start + n]) == tuple(term):
            return start
    return -1


Words = tuple[str, ...]
_Candidate = tuple[Words, tuple[Words, ...]]
"""A term's words and the words that exclude it."""


class Index:
    """The knowledge base's terms, normalised once (plain class: cheap to define at start-up)."""

    __slots__ = ("fuzzy_methods", "fuzzy_rules", "methods", "rules")

    def __init__(
        self,
        rules: tuple[tuple[InteractionRule, tuple[_Candidate, ...]], ...],
        methods: tuple[tuple[ContraceptionMethod, tuple[Words, ...]], ...],
        fuzzy_rules: tuple[tuple[InteractionRule, str, tuple[Words, ...]], ...],
        fuzzy_methods: tuple[tuple[ContraceptionMethod, str], ...],
    ) -> None:
        self.rules = rules
        self.methods = methods
        self.fuzzy_rules = fuzzy_rules
        """Single-word terms long enough for the fuzzy step: (rule, word, excluding words)."""
        self.fuzzy_methods = fuzzy_methods


_INDEXES: dict[int, tuple[KnowledgeBase, Index]] = {}


def index(kb: KnowledgeBase) -> Index:
    """Normalised terms of a knowledge base (built once per knowledge base object)."""
    cached = _INDEXES.get(id(kb))
    if cached is not None and cached[0] is kb:
        return cached[1]
    rules = []
    for rule in kb.interactions:
        excluded = tuple(t for t in (words(x) for x in rule.exclude_terms) if t)
        terms = (words(term) for term in rule.terms)
        rules.append((rule, tuple((t, excluded) for t in terms if t)))
    methods = tuple(
        (method, tuple(t for t in (words(term) for term in method.terms) if t))
        for method in kb.contraception
    )
    fuzzy_rules = tuple(
        (rule, term[0], excluded_by)
        for rule, candidates in rules
        for term, excluded_by in candidates
        if _fuzzy_word(term)
    )
    fuzzy_methods = tuple(
        (method, term[0]) for method, terms in methods for term in terms if _fuzzy_word(term)
    )
    built = Index(tuple(rules), methods, fuzzy_rules, fuzzy_methods)
    if len(_INDEXES) > 16:
        _INDEXES.clear()
    _INDEXES[id(kb)] = (kb, built)
    return built


def _fuzzy_word(term: tuple[str, ...]) -> bool:
    return len(term) == 1 and len(term[0]) >= FUZZY_MIN_LETTERS and term[0].isalpha()


def _similar(a: str, b: str) -> bool:
    """Both words long enough (checked by the caller) and spelt nearly the same."""
    if abs(len(a) - len(b)) > 2:
        return False
    if len(set(a) ^ set(b)) > 4:
        return False  # too many letters that only one of the words has
    from difflib import SequenceMatcher

    matcher = SequenceMatcher(None, a, b, autojunk=False)
    return matcher.quick_ratio() >= FUZZY_MIN_RATIO and matcher.ratio() >= FUZZY_MIN_RATIO


class MedicineMatch:
    """One interaction rule a line matched, and the words that matched it."""

    __slots__ = ("fuzzy", "rule", "term")

    def __init__(self, rule: InteractionRule, term: str, fuzzy: bool) -> None:
        self.rule = rule
        self.term = term
        """The words that matched (normalised)."""
        self.fuzzy = fuzzy
        """Matched by spelling similarity, not exactly."""

    def __repr__(self) -> str:
        return f"MedicineMatch({self.rule.id!r}, {self.term!r}, fuzzy={self.fuzzy})"


def explain_medicine(kb: KnowledgeBase, text: str) -> list[MedicineMatch]:
    """Every interaction rule a line matches, with the words that matched it."""
    tokens = words(text)
    if not tokens:
        return []
    found: list[MedicineMatch] = []
    covered: set[int] = set()
    entries = index(kb).rules
    for rule, candidates in entries:
        for term, excluded_by in candidates:
            at = contains(tokens, term)
            if at < 0:
                continue
            if any(contains(tokens, x) >= 0 for x in excluded_by):
                break
            covered.update(range(at, at + len(term)))
            found.append(MedicineMatch(rule, " ".join(term), False))
            break
    loose = [t for i, t in enumerate(tokens) if i not in covered and _fuzzy_word((t,))]
    if not loose:
        return found
    matched = {m.rule.id for m in found}
    for rule, word, excluded_by in index(kb).fuzzy_rules:
        if rule.id in matched or any(contains(tokens, x) >= 0 for x in excluded_by):
            continue
        if any(_similar(token, word) for token in loose):
            matched.add(rule.id)
            found.append(MedicineMatch(rule, word, True))
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
            if contains(tokens, term) < 0:
                continue
            score = (len(term), 0 if method.confirm else 1, len("".join(term)))
            if best is None or score > best:
                best, chosen = score, method
    if chosen is not None:
        return chosen
    loose = [t for t in tokens if _fuzzy_word((t,))]
    for method, word in index(kb).fuzzy_methods if loose else ():
        if any(_similar(token, word) for token in loose):
            return method
    return None
