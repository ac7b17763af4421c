"""Matching what people type to medicines, the knowledge base's classes and contraception methods.

Text is compared as whole words after normalising: any letter case, accents removed, apostrophes
dropped ("John’s" = "Johns"), other punctuation as spaces, and numbers split from units
("100mg" = "100 mg"), so "Doxy 100mg tabs" and "St. John’s Wort 300 mg" find their names.

A medicine line is screened in four steps (``screen_medicine``):

1. its names are looked up in the vocabulary of medicines (``vocabulary.py``: every name of every
   substance, from public vocabularies), leftmost and longest first; a name stands for one or
   more substances (several for a combination product) and may imply a form ("cream");
2. a class matches when a name stands for one of its substances (or a salt of one), unless the
   line or the product's form says another form (the class's ``exclude_terms``) or the name
   stands for an ester the class leaves out (``not_substances``);
3. the class's own ``terms`` and its endings (``stems``: "-cycline") catch what the vocabulary
   does not hold;
4. a close spelling of a class's name is tried only on words the vocabulary does not know, or
   one word a letter off in a name of several ("St Johns wart"): a real medicine's name is never
   read as another one.

A line that names nothing the tool knows is "not recognised": the engine says it was not
screened. Everyday medicines are checked never to raise a warning in the tests.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING

import msgspec

from pharmacist_tool.knowledge.model import ContraceptionMethod, InteractionRule, KnowledgeBase

if TYPE_CHECKING:
    from pharmacist_tool.knowledge.vocabulary import Name

FUZZY_MIN_LETTERS = 7
FUZZY_MIN_RATIO = 0.88

_DROP_APOSTROPHES = {ord(c): None for c in "'’‘`´ʼ"}
_TOKEN = re.compile(r"[a-z]+|[0-9]+")
"""Runs of letters or of digits: punctuation separates words, and "100mg" is "100 mg"."""
DOSE_WORDS = frozenset(
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
        tokens = tuple(t for t in tokens if not t.isdigit() and t not in DOSE_WORDS)
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

MAX_NAME_WORDS = 6
"""The longest name of the vocabulary, in words."""
CLOSE_MIN_RATIO = 0.8
"""Similarity (raw or by sound) for a close spelling of a word the vocabulary does not know."""


class _Fuzzy:
    """A name of a flagged class that a close spelling may stand for."""

    __slots__ = ("_key", "joined", "rule", "substance", "words")

    def __init__(self, rule: InteractionRule, words_: Words, substance: str | None) -> None:
        self.rule = rule
        self.words = words_
        self.joined = " ".join(words_)
        self._key = ""
        self.substance = substance

    @property
    def key(self) -> str:
        """How the name sounds (computed when first compared)."""
        if not self._key:
            self._key = _sound(self.joined)
        return self._key


class Index:
    """The knowledge base's terms, normalised once (plain class: cheap to define at start-up)."""

    __slots__ = (
        "_fuzzy",
        "by_id",
        "excluded",
        "fuzzy_methods",
        "kb",
        "members",
        "methods",
        "not_members",
        "rules",
        "salt_members",
        "stems",
    )

    def __init__(
        self,
        kb: KnowledgeBase,
        rules: tuple[tuple[InteractionRule, tuple[_Candidate, ...]], ...],
        methods: tuple[tuple[ContraceptionMethod, tuple[Words, ...]], ...],
        fuzzy_methods: tuple[tuple[ContraceptionMethod, str], ...],
    ) -> None:
        self.kb = kb
        self.rules = rules
        self.methods = methods
        self.fuzzy_methods = fuzzy_methods
        self.members: dict[str, list[str]] = {}
        """Substance id -> the rules it belongs to."""
        self.salt_members: dict[str, list[str]] = {}
        """Parent substance id -> the rules its salts and esters belong to."""
        for rule in kb.interactions:
            for ref in rule.substances:
                self.members.setdefault(ref.id, []).append(rule.id)
                if ref.salts:
                    self.salt_members.setdefault(ref.id, []).append(rule.id)
        self.not_members: dict[str, list[str]] = {}
        """Substance id -> the rules it is excluded from."""
        for rule in kb.interactions:
            for ref in rule.not_substances:
                self.not_members.setdefault(ref.id, []).append(rule.id)
        self.stems = {rule.id: tuple(rule.stems) for rule in kb.interactions if rule.stems}
        self.by_id = {rule.id: rule for rule in kb.interactions}
        self.excluded = {
            rule.id: tuple(t for t in (words(x) for x in rule.exclude_terms) if t)
            for rule in kb.interactions
        }
        self._fuzzy: dict[tuple[int, str], list[_Fuzzy]] | None = None

    def fuzzy(self) -> dict[tuple[int, str], list[_Fuzzy]]:
        """Names of flagged classes for the close-spelling step, by number of words and first
        letter (built on first need)."""
        if self._fuzzy is None:
            from pharmacist_tool.knowledge.vocabulary import vocabulary

            vocab = vocabulary()
            found: dict[tuple[str, str], _Fuzzy] = {}

            def add(rule: InteractionRule, words_: Words, substance: str | None) -> None:
                key = (rule.id, " ".join(words_))
                if key not in found and 1 <= len(words_) <= 3 and _fuzzy_name(words_):
                    found[key] = _Fuzzy(rule, words_, substance)

            for rule, candidates in self.rules:
                for ref in rule.substances:
                    ids = [ref.id, *(vocab.salts_of(ref.id) if ref.salts else [])]
                    for sid in ids:
                        for name in vocab.names_of(sid):
                            add(rule, tuple(name.split()), ref.id)
                for term, _ in candidates:
                    add(rule, term, None)
            buckets: dict[tuple[int, str], list[_Fuzzy]] = {}
            for candidate in found.values():
                key = (len(candidate.words), candidate.joined[0])
                buckets.setdefault(key, []).append(candidate)
            self._fuzzy = buckets
        return self._fuzzy

    def rule(self, rule_id: str) -> InteractionRule:
        return self.by_id[rule_id]

    def rules_of(self, substance_id: str, base: str) -> list[str]:
        """The ids of the rules a substance (with its parent ``base``) belongs to."""
        found = list(self.members.get(substance_id, ()))
        if base != substance_id:
            found += self.salt_members.get(base, ())
        return found


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
    fuzzy_methods = tuple(
        (method, term[0]) for method, terms in methods for term in terms if _fuzzy_word(term)
    )
    built = Index(kb, tuple(rules), methods, fuzzy_methods)
    if len(_INDEXES) > 16:
        _INDEXES.clear()
    _INDEXES[id(kb)] = (kb, built)
    return built


def _fuzzy_word(term: tuple[str, ...]) -> bool:
    return len(term) == 1 and len(term[0]) >= FUZZY_MIN_LETTERS and term[0].isalpha()


def _fuzzy_name(term: tuple[str, ...]) -> bool:
    """Long enough to compare by spelling: 7 letters or more, letters only."""
    return all(w.isalpha() for w in term) and len("".join(term)) >= FUZZY_MIN_LETTERS


_SOUNDS = (
    ("ph", "f"),
    ("ck", "k"),
    ("qu", "kw"),
    ("x", "ks"),
    ("y", "i"),
    ("z", "s"),
    ("ce", "se"),
    ("ci", "si"),
    ("c", "k"),
    ("th", "t"),
)


def _sound(text: str) -> str:
    """A rough key of how a word sounds (doxycycline ~ doxicilin): c/k, y/i, z/s, ph/f and
    doubled letters are spelt one way; a final e is dropped."""
    for a, b in _SOUNDS:
        text = text.replace(a, b)
    out: list[str] = []
    for ch in text:
        if not out or out[-1] != ch:
            out.append(ch)
    return "".join(out).removesuffix("e")


def _ratio(a: str, b: str) -> float:
    from difflib import SequenceMatcher

    matcher = SequenceMatcher(None, a, b, autojunk=False)
    if matcher.real_quick_ratio() < CLOSE_MIN_RATIO or matcher.quick_ratio() < CLOSE_MIN_RATIO:
        return 0.0
    return matcher.ratio()


def _closeness(said: str, candidate: _Fuzzy) -> float:
    """How close a spelling is to a name (0: not close): the same start, a similar length, and
    similar letters or a similar sound. A name of the rule's own terms or the substance's own
    name wins a tie."""
    name = candidate.joined
    if abs(len(said) - len(name)) > 3 or said[:1] != name[:1]:
        return 0.0
    if len(set(said) ^ set(name)) > 5:
        return 0.0
    heard = _sound(said)
    if heard[:2] != candidate.key[:2]:
        return 0.0
    score = max(_ratio(said, name), _ratio(heard, candidate.key))
    return score if score >= CLOSE_MIN_RATIO else 0.0


def _similar(a: str, b: str) -> bool:
    """Both words long enough (checked by the caller) and spelt nearly the same."""
    if abs(len(a) - len(b)) > 2:
        return False
    if len(set(a) ^ set(b)) > 4:
        return False  # too many letters that only one of the words has
    from difflib import SequenceMatcher

    matcher = SequenceMatcher(None, a, b, autojunk=False)
    return matcher.quick_ratio() >= FUZZY_MIN_RATIO and matcher.ratio() >= FUZZY_MIN_RATIO


MatchKind = str
"""How a line matched a rule: ``name`` (a vocabulary name of one of its substances), ``term``
(one of the rule's own terms), ``stem`` (a class ending such as -cycline) or ``close`` (a close
spelling of one of its names)."""


class MedicineMatch:
    """One interaction rule a line matched, and the words that matched it."""

    __slots__ = ("how", "rule", "said", "substance", "term")

    def __init__(
        self,
        rule: InteractionRule,
        term: str,
        how: MatchKind = "name",
        *,
        said: str = "",
        substance: str | None = None,
    ) -> None:
        self.rule = rule
        self.term = term
        """The name or term that matched (normalised)."""
        self.how = how
        self.said = said or term
        """The line's words that matched (differ from ``term`` for a close spelling)."""
        self.substance = substance

    @property
    def fuzzy(self) -> bool:
        """Matched by spelling similarity, not exactly."""
        return self.how == "close"

    def __repr__(self) -> str:
        return f"MedicineMatch({self.rule.id!r}, {self.term!r}, {self.how!r})"


class Screening:
    """What one line of the patient's medicines was recognised as, and the rules it matched."""

    __slots__ = ("line", "matches", "recognised_as", "substances")

    def __init__(
        self,
        line: str,
        recognised_as: str | None,
        matches: list[MedicineMatch],
        substances: tuple[str, ...] = (),
    ) -> None:
        self.line = line
        self.substances = substances
        """The ids of the substances the line's names stand for, each with its parent's."""
        self.recognised_as = recognised_as
        """The substance(s) the line names ("sertraline", "amoxicillin + clavulanic acid"), or
        None when nothing in it is a medicine the tool knows: the line was not screened."""
        self.matches = matches

    def __repr__(self) -> str:
        return f"Screening({self.line!r}, {self.recognised_as!r}, {self.matches!r})"


def _hits(tokens: Words) -> list[tuple[int, int, Name]]:
    """The vocabulary's names in a line: leftmost, longest, not overlapping."""
    from pharmacist_tool.knowledge.vocabulary import vocabulary

    vocab = vocabulary()
    hits: list[tuple[int, int, Name]] = []
    i, n = 0, len(tokens)
    while i < n:
        for j in range(min(n, i + MAX_NAME_WORDS), i, -1):
            entry = vocab.name(" ".join(tokens[i:j]))
            if entry is not None:
                hits.append((i, j, entry))
                i = j
                break
        else:
            i += 1
    return hits


def screen_medicine(kb: KnowledgeBase, text: str) -> Screening:
    """Screen one line: the substances it names and every interaction rule it matches."""
    from pharmacist_tool.knowledge.vocabulary import vocabulary

    tokens = words(text)
    if not tokens:
        return Screening(text, None, [])
    vocab = vocabulary()
    idx = index(kb)
    hits = _hits(tokens)
    forms = [words(entry.form) for _, _, entry in hits if entry.form]
    seen = tokens + tuple(w for form in forms for w in form)
    seen_set, token_set = set(seen), set(tokens)
    covered: set[int] = {k for start, end, _ in hits for k in range(start, end)}
    recognised: list[str] = []
    named: list[str] = []
    by_name: dict[str, MedicineMatch] = {}
    """Rule id -> the first name of the line that stands for one of its substances."""
    blocked: dict[str, set[int]] = {}
    """Rule id -> word positions of names that stand for a form not this rule's."""
    elsewhere: list[tuple[int, int, set[str]]] = []
    """Names of the line and the rules they belong to: a rule's own term found strictly inside a
    longer name of another substance ("doxy" in "Doxy sleep aid", doxylamine) does not match."""
    for start, end, entry in hits:
        said = " ".join(tokens[start:end])
        not_here = {r for sid in entry.substances for r in idx.not_members.get(sid, ())}
        for rule_id in not_here:
            blocked.setdefault(rule_id, set()).update(range(start, end))
        belongs: set[str] = set()
        for sid in entry.substances:
            substance = vocab.substance(sid)
            base = substance.base if substance else sid
            parent = vocab.substance(base) if base != sid else substance
            recognised.append(parent.display if parent else sid)
            named += [sid, base]
            for rule_id in idx.rules_of(sid, base):
                belongs.add(rule_id)
                if rule_id not in not_here and rule_id not in by_name:
                    rule = idx.rule(rule_id)
                    by_name[rule_id] = MedicineMatch(rule, said, "name", substance=base)
        elsewhere.append((start, end, belongs))
    found: list[MedicineMatch] = []
    excluded_rules: set[str] = set()
    for rule, candidates in idx.rules:
        excluded = candidates[0][1] if candidates else idx.excluded[rule.id]
        if any(x[0] in seen_set and contains(seen, x) >= 0 for x in excluded):
            excluded_rules.add(rule.id)
            continue
        match = by_name.get(rule.id)
        if match is None:
            off = blocked.get(rule.id, set())
            for term, _ in candidates:
                if term[0] not in token_set:
                    continue
                at = contains(tokens, term)
                if at < 0 or off.intersection(range(at, at + len(term))):
                    continue
                if any(
                    start <= at
                    and at + len(term) <= end
                    and end - start > len(term)
                    and rule.id not in belongs
                    for start, end, belongs in elsewhere
                ):
                    continue  # inside a longer name of another medicine
                covered.update(range(at, at + len(term)))
                match = MedicineMatch(rule, " ".join(term), "term")
                break
        if match is None:
            for stem in idx.stems.get(rule.id, ()):
                word = next((t for t in tokens if _has_stem(t, stem)), None)
                if word is not None:
                    match = MedicineMatch(rule, "-" + stem, "stem", said=word)
                    break
        if match is not None:
            found.append(match)
    found += _close_spellings(idx, tokens, covered, {m.rule.id for m in found} | excluded_rules)
    for m in found:
        if m.how == "name":
            continue
        if m.substance is not None:
            sub = vocab.substance(m.substance)
            recognised.append(sub.display if sub else m.rule.agent)
        elif not hits:
            recognised.append(m.rule.agent)
    return Screening(text, _shown(recognised), found, tuple(dict.fromkeys(named)))


def _shown(names: list[str]) -> str | None:
    """The substances' names, once each, without stereo-isomer variants of a name shown."""
    unique = list(dict.fromkeys(names))
    kept = [n for n in unique if not any(n != m and n.startswith(m + ",") for m in unique)]
    return " + ".join(kept) or None


def _has_stem(word: str, stem: str) -> bool:
    return word.isalpha() and len(word) >= len(stem) + 3 and word.endswith(stem)


def _close_spellings(
    idx: Index, tokens: Words, covered: set[int], done: set[str]
) -> list[MedicineMatch]:
    """Rules a close spelling names. Only words the vocabulary does not know are compared (a
    real word such as "clotrimazole" or "Cortizone" is never read as another medicine), or in a
    name of several words, one word a letter or two off ("St Johns wart")."""
    from pharmacist_tool.knowledge.vocabulary import vocabulary

    vocab = vocabulary()
    loose = {
        i
        for i, t in enumerate(tokens)
        if i not in covered and t.isalpha() and (len(t) == 1 or t not in DOSE_WORDS)
    }
    unknown = {
        i
        for i in loose
        if len(tokens[i]) >= 3 and tokens[i] not in DOSE_WORDS and not vocab.is_word(tokens[i])
    }
    runs = any(i + 1 in loose for i in loose)
    if not unknown and not runs:
        return []  # every word is known and alone: nothing can be a close spelling
    buckets = idx.fuzzy()
    best: dict[str, tuple[float, int, _Fuzzy, str]] = {}
    for k in (1, 2, 3):
        for at in range(len(tokens) - k + 1):
            span = range(at, at + k)
            if not all(i in loose for i in span):
                continue
            said_words = tokens[at : at + k]
            said = " ".join(said_words)
            if len(said) < FUZZY_MIN_LETTERS:
                continue
            any_unknown = any(i in unknown for i in span)
            if not any_unknown and k == 1:
                continue
            for candidate in buckets.get((k, said[0]), ()):
                rule_id = candidate.rule.id
                if rule_id in done or said == candidate.joined:
                    continue
                if not any_unknown and not _one_word_off(said_words, candidate):
                    continue
                score = _closeness(said, candidate)
                if score and (rule_id not in best or score > best[rule_id][0]):
                    best[rule_id] = (score, at, candidate, said)
    found = []
    for _, _, candidate, said in sorted(best.values(), key=lambda b: b[1]):
        found.append(
            MedicineMatch(
                candidate.rule, candidate.joined, "close", said=said, substance=candidate.substance
            )
        )
    return found


def _one_word_off(said: Words, candidate: _Fuzzy) -> bool:
    """Several words, all but one the same, and that one a letter or two off."""
    if len(said) < 2:
        return False
    differ = [(a, b) for a, b in zip(said, candidate.words, strict=True) if a != b]
    if len(differ) != 1:
        return False
    a, b = differ[0]
    return len(a) >= 3 and len(a) == len(b) and sum(x != y for x, y in zip(a, b, strict=True)) == 1


def explain_medicine(kb: KnowledgeBase, text: str) -> list[MedicineMatch]:
    """Every interaction rule a line matches, with the words that matched it."""
    return screen_medicine(kb, text).matches


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


NO_OTHER_MEDICINES = "no other medicines"
"""What a line that answers "none" is recorded as (``recognised_as``)."""


class _NoMedicineAnswers(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    about: str
    last_reviewed: str
    answers: list[str]


@cache
def _no_medicine_answers() -> frozenset[Words]:
    from pharmacist_tool import paths
    from pharmacist_tool.errors import UserError

    path = paths.resource("vocabulary", "no-medicine-answers.json")
    try:
        found = msgspec.json.decode(path.read_bytes(), type=_NoMedicineAnswers)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError) as error:
        message = f"The list of answers that name no medicine {path} is damaged: {error}"
        raise UserError(message) from error
    return frozenset(words(answer) for answer in found.answers)


def names_no_medicine(text: str) -> bool:
    """The line is an answer such as "none" or "nothing else": no medicine at all."""
    tokens = words(text)
    return bool(tokens) and tokens in _no_medicine_answers()
