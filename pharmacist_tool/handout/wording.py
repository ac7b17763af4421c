"""The handout's words and facts: data under the medicine's own knowledge pack.

``resources/knowledge/<medicine>/handout/`` holds, for each medicine pack:

- ``<language>.json``: the sheet's wording in one language (English is the base);
- ``facts.json``: the numbers the sheet prints (cited), its own source register, what the patient
  is told about each of their own medicines, per interaction class (cited), and ``sheet``: which
  wording lines make up the sheet's lists (warning signs, other things to know, keeping it, what
  still applies when it was not handed over, and any section a pack adds, such as advice for men),
  each for the patients it applies to;
- ``coverage.json``: the key points of the Medication Guide / package leaflet, each mapped to the
  sheet's lines or excluded with a reason.

The pack is found by the medicine the knowledge base is for (``KnowledgeBase.medicine``), so a
second medicine brings its own sheet. Only files marked ``"approved": true`` are used; a language
without one prints English with a note (never a machine translation). Every approved file must carry
the same keys and the same ``{placeholders}`` as English; a file that does not is refused when
loaded. Dates and numbers are written from the file's own month names and decimal separator, never
from the system locale.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

from pharmacist_tool import paths
from pharmacist_tool.knowledge import packs
from pharmacist_tool.knowledge.model import PatientCategory, Sex, Source

BASE_LANGUAGE = "en"
BRITISH_FAMILIES = frozenset(("UK", "EU"))
"""Rule-set families whose English sheets are in British English."""
DEFAULT_MEDICINE = packs.default_pack()
"""The pack whose wording is used when none is named (the registry's default)."""

LanguageCode = Annotated[str, msgspec.Meta(pattern=r"^[a-z]{2}$")]
Advice = Literal["do-not-combine", "do-not-stop", "stop-supplement", "skin-ask", "same-medicine",
                 "ask-us"]  # fmt: skip

_SECTIONS = (
    "text",
    "guide",
    "programme_contact",
    "rule_set_names",
    "avoid_agents",
    "own_medicine",
    "blocked",
    "blocked_next",
    "not_counted",
    "teach_back",
    "act",
)
"""The parts of a wording file that every language must carry with English's keys."""


class WordingFile(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    language: LanguageCode
    name: str
    approved: bool
    reviewed: dt.date
    months: Annotated[list[str], msgspec.Meta(min_length=12, max_length=12)]
    decimal_separator: str
    generic: str
    """The medicine's generic name in this language ("isotretinoína")."""
    text: dict[str, str]
    guide: dict[str, str]
    """What the Medication Guide / leaflet is called, per rule-set family."""
    programme_contact: dict[str, str]
    """Whom to call about a possible pregnancy, per rule-set family."""
    rule_set_names: dict[str, str]
    """Each rule set's name in this language, by rule-set id."""
    avoid_agents: dict[str, str]
    """Each interaction class in the patient's words (the general "do not take" lists)."""
    own_medicine: dict[str, str]
    """What the patient is told about a medicine of their own, per kind of advice."""
    blocked: dict[str, str]
    """Why the medicine was not handed over, per finding code (``interaction``, ``other``)."""
    blocked_next: dict[str, str]
    """What happens next, per finding code (same keys as ``blocked``)."""
    not_counted: dict[str, str]
    """Why a birth-control method does not count, per method id."""
    teach_back: dict[str, str]
    """The teach-back questions printed on the sheet, per checklist item id."""
    agent_names: dict[str, str] = msgspec.field(default_factory=dict)
    """Medicine names in this language, keyed by the knowledge base's (English) term."""
    act: dict[str, str] = msgspec.field(default_factory=dict)
    """What the patient must do now about a warning the pharmacist resolved and handed over
    with (an urgent review, a referral, condoms from today), per finding code."""
    british: dict[str, dict[str, str]] = msgspec.field(default_factory=dict)
    """English as the UK and EU sheets say it, by section (``text``, ``blocked`` …) and key:
    "supply", not "fill"; "poo", "diarrhoea"."""


class SharedWordingFile(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Wording every pack's sheet uses in one language (``resources/handout/shared``): the lines
    about the session's outcome and what stands in the way. A pack's own file may say any of
    them its own way (its key wins)."""

    language: LanguageCode
    text: dict[str, str] = msgspec.field(default_factory=dict)
    blocked: dict[str, str] = msgspec.field(default_factory=dict)
    blocked_next: dict[str, str] = msgspec.field(default_factory=dict)
    act: dict[str, str] = msgspec.field(default_factory=dict)


class Fact(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    value: int
    sources: Annotated[list[str], msgspec.Meta(min_length=1)]
    note: str
    unconfirmed: str = ""


class OwnMedicine(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What the patient is told about their own medicine of one interaction class."""

    advice: Advice
    sources: Annotated[list[str], msgspec.Meta(min_length=1)]
    last_reviewed: dt.date
    unconfirmed: str = ""


Family = Literal["US", "UK", "EU"]
AlcoholAnswer = Literal["none", "occasional", "regular"]
VALUE_UNITS = ("number", "months", "days", "years", "fahrenheit")
"""How a fact's number is written into a line (``fact:months`` → "6 months")."""


class SheetLine(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One line of a list on the sheet: a wording key and the patients it is for."""

    key: str
    patient: PatientCategory = "all"
    sex: Sex = "any"
    """``male``: for a man, or (sex not given) a patient who cannot get pregnant."""
    families: list[Family] = msgspec.field(default_factory=list)
    """Only under these rule-set families (empty: every family)."""
    alcohol: list[AlcoholAnswer] = msgspec.field(default_factory=list)
    """Only when the case's alcohol answer is one of these (empty: any answer)."""
    unless_alcohol: list[AlcoholAnswer] = msgspec.field(default_factory=list)
    """Not when the case's alcohol answer is one of these."""
    values: dict[str, str] = msgspec.field(default_factory=dict)
    """Placeholder → ``fact`` or ``fact:unit`` (a unit of ``VALUE_UNITS``)."""
    after_positive_test: bool = True
    """False: not printed once a pregnancy test is positive (it would no longer make sense, such
    as "do not get pregnant")."""


class SheetSection(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A section a pack adds (printed after "why this matters"; on the blocked sheet too)."""

    key: str
    title: str
    """The wording key of its title."""
    lines: Annotated[list[SheetLine], msgspec.Meta(min_length=1)]
    patient: PatientCategory = "all"
    sex: Sex = "any"
    boxed: bool = False


class SheetPlan(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    stop: list[SheetLine]
    """The warning signs under "stop and get help now"."""
    other: list[SheetLine]
    """"Other things to know"."""
    keep: list[SheetLine]
    """"Keep it safe"."""
    still: list[SheetLine]
    """What still applies on the "not handed over today" sheet (never a dose)."""
    sections: list[SheetSection] = msgspec.field(default_factory=list)


class RuleVersionDate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """When the text a rule-set version follows took effect, as the sheet says it (a US label
    version: the Medication Guide's revision), cited."""

    effective: dt.date
    precision: Literal["day", "month", "none"]
    """``month``: the source gives the month ("Revised 02/2014"); ``none``: no date was read."""
    sources: Annotated[list[str], msgspec.Meta(min_length=1)]
    note: str
    unconfirmed: str = ""


class FactsFile(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    last_reviewed: dt.date
    facts: dict[str, Fact]
    emergency_number: dict[str, str]
    sources: dict[str, Source]
    """Sources the sheet's own facts cite beyond the knowledge base's register (``H`` keys)."""
    own_medicine: dict[str, OwnMedicine]
    """Per interaction id."""
    stopped_terms: list[str]
    """Words in a resolution that mean the prescriber stopped the medicine."""
    still_taking_terms: list[str]
    """Words in a resolution that mean it was not stopped (they win over ``stopped_terms``)."""
    sheet: SheetPlan
    rule_versions: dict[str, RuleVersionDate] = msgspec.field(default_factory=dict)
    """Per rule-set version id: the date the sheet prints for it, when the version's own
    ``effective_from`` is not the date of the text it follows."""


class CoveragePoint(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    id: str
    point: str
    """The guide's key point, in our words."""
    lines: list[str]
    """The sheet's wording keys that carry it (empty: ``excluded`` says why)."""
    patient: PatientCategory = "all"
    excluded: str = ""
    note: str = ""
    sources: list[str] = msgspec.field(default_factory=list)
    """The point's own source keys (with their version in the register), beyond the guide's."""
    figures: dict[str, int] = msgspec.field(default_factory=dict)
    """The numbers the cited text gives, by the fact that prints them: a test checks that the
    sheet's fact still says what the source says."""


class Guide(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    id: str
    title: str
    families: list[Literal["US", "UK", "EU"]]
    sources: Annotated[list[str], msgspec.Meta(min_length=1)]
    points: list[CoveragePoint]
    outline: list[str] = msgspec.field(default_factory=list)
    """The key points of the cited materials, by id, in their order: every one must be a point
    (mapped to the sheet's words or left to the leaflet with a reason), and no point may be
    missing from it."""


class CoverageFile(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    last_reviewed: dt.date
    guides: list[Guide]


class WordingError(Exception):
    """A wording file is missing, damaged or does not match English (a packaging bug)."""


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@dataclass(frozen=True)
class Wording:
    """The words of one approved language."""

    data: WordingFile

    @property
    def language(self) -> str:
        return self.data.language

    def __call__(self, key: str, **values: str) -> str:
        return self.data.text[key].format(**values)

    def date(self, day: dt.date) -> str:
        """``27 November 2026`` / ``27 de noviembre de 2026``, without the system locale."""
        return self(
            "date", day=str(day.day), month=self.data.months[day.month - 1], year=str(day.year)
        )

    def number(self, value: float) -> str:
        """``20``, ``8.5`` (English) or ``8,5`` (Spanish)."""
        text = f"{value:.2f}".rstrip("0").rstrip(".")
        return text.replace(".", self.data.decimal_separator)

    def count(self, key: str, count: int) -> str:
        """``1 capsule`` / ``2 capsules`` from ``<key>_one`` and ``<key>_many``."""
        return self(f"{key}_one" if count == 1 else f"{key}_many", count=str(count))

    def join(self, items: list[str]) -> str:
        if len(items) <= 1:
            return "".join(items)
        sep = self.data.text["list_sep"]
        return self("list_and", first=sep.join(items[:-1]), last=items[-1])

    def guide(self, family: str) -> str:
        return self.data.guide.get(family) or self.data.guide["US"]

    def for_family(self, family: str) -> Wording:
        """The words for a rule-set family: British English on UK and EU sheets."""
        if family not in BRITISH_FAMILIES or not self.data.british:
            return self
        sections = {
            name: {**getattr(self.data, name), **words}
            for name, words in self.data.british.items()
            if name in _SECTIONS
        }
        return Wording(msgspec.structs.replace(self.data, **sections))


def pack_folder(medicine: str) -> Path:
    """The medicine's handout folder (``resources/knowledge/<medicine>/handout``)."""
    return paths.resource("knowledge", medicine, "handout")


def _load_json(path: Path, kind: type[Any]) -> Any:
    try:
        return msgspec.json.decode(path.read_bytes(), type=kind)
    except FileNotFoundError as error:
        raise WordingError(f"handout file missing: {path}") from error
    except (msgspec.DecodeError, msgspec.ValidationError) as error:
        raise WordingError(f"handout file {path} is not valid: {error}") from error


def _check_against_base(data: WordingFile, base: WordingFile) -> None:
    problems: list[str] = []
    for section in _SECTIONS:
        mine, theirs = getattr(data, section), getattr(base, section)
        missing = sorted(set(theirs) - set(mine))
        extra = sorted(set(mine) - set(theirs))
        if missing:
            problems.append(f"{section}: missing {', '.join(missing)}")
        if extra:
            problems.append(f"{section}: unknown {', '.join(extra)}")
        for key in sorted(set(mine) & set(theirs)):
            if placeholders(mine[key]) != placeholders(theirs[key]):
                problems.append(
                    f"{section}.{key}: placeholders {sorted(placeholders(mine[key]))} "
                    f"differ from English {sorted(placeholders(theirs[key]))}"
                )
    if problems:
        raise WordingError(
            f"handout wording for {data.language!r} does not match English: " + "; ".join(problems)
        )


@functools.cache
def load_shared(language: str) -> SharedWordingFile:
    """The wording every pack shares in ``language`` (empty when there is none)."""
    path = paths.resource("handout", "shared", f"{language}.json")
    if not path.is_file():
        return SharedWordingFile(language=language)
    shared: SharedWordingFile = _load_json(path, SharedWordingFile)
    return shared


def _with_shared(data: WordingFile) -> WordingFile:
    """The pack's wording over the shared wording of its language (the pack's keys win)."""
    shared = load_shared(data.language)
    return msgspec.structs.replace(
        data,
        text={**shared.text, **data.text},
        blocked={**shared.blocked, **data.blocked},
        blocked_next={**shared.blocked_next, **data.blocked_next},
        act={**shared.act, **data.act},
    )


@functools.cache
def load_wording(language: str, medicine: str = DEFAULT_MEDICINE) -> Wording | None:
    """The approved wording for ``language`` in the medicine's pack, or ``None``."""
    if not re.fullmatch(r"[a-z]{2}", language) or not re.fullmatch(r"[a-z0-9-]+", medicine):
        return None
    path = pack_folder(medicine) / f"{language}.json"
    if not path.is_file():
        return None
    data: WordingFile = _with_shared(_load_json(path, WordingFile))
    if data.language != language:
        raise WordingError(f"{path} says it is {data.language!r}, not {language!r}")
    if language != BASE_LANGUAGE:
        base = load_wording(BASE_LANGUAGE, medicine)
        if base is None:
            raise WordingError(f"the English handout wording of {medicine!r} is missing")
        _check_against_base(data, base.data)
    if not data.approved:
        return None
    return Wording(data)


def approved_languages(medicine: str = DEFAULT_MEDICINE) -> list[str]:
    folder = pack_folder(medicine)
    codes = sorted(p.stem for p in folder.glob("*.json") if re.fullmatch(r"[a-z]{2}", p.stem))
    return [code for code in codes if load_wording(code, medicine) is not None]


def _sheet_lines(plan: SheetPlan) -> list[SheetLine]:
    lists = (plan.stop, plan.other, plan.keep, plan.still)
    return [line for lines in lists for line in lines] + [
        line for section in plan.sections for line in section.lines
    ]


def sheet_problems(facts: FactsFile, wording: WordingFile) -> list[str]:
    """What in the sheet's plan names a wording key or a fact that does not exist."""
    problems: list[str] = []
    keys = [line.key for line in _sheet_lines(facts.sheet)]
    keys += [section.title for section in facts.sheet.sections]
    problems += [f"no wording {key!r}" for key in keys if key not in wording.text]
    for line in _sheet_lines(facts.sheet):
        for name, spec in line.values.items():
            fact, _, unit = spec.partition(":")
            if fact not in facts.facts:
                problems.append(f"{line.key}.{name}: no fact {fact!r}")
            if unit and unit not in VALUE_UNITS:
                problems.append(f"{line.key}.{name}: unknown unit {unit!r}")
            if name not in placeholders(wording.text.get(line.key, "")):
                problems.append(f"{line.key}: has no placeholder {{{name}}}")
    return problems


@functools.cache
def load_facts(medicine: str = DEFAULT_MEDICINE) -> FactsFile:
    path = pack_folder(medicine) / "facts.json"
    facts: FactsFile = _load_json(path, FactsFile)
    base = load_wording(BASE_LANGUAGE, medicine)
    problems = sheet_problems(facts, base.data) if base is not None else []
    if problems:
        raise WordingError(f"handout file {path} does not match its wording: {'; '.join(problems)}")
    return facts


@functools.cache
def load_coverage(medicine: str = DEFAULT_MEDICINE) -> CoverageFile:
    coverage: CoverageFile = _load_json(pack_folder(medicine) / "coverage.json", CoverageFile)
    return coverage


TABLES = ("avoid_agents", "own_medicine", "blocked", "blocked_next", "not_counted", "act")
"""Wording tables a coverage point may name as a whole (their lines are keyed ``table.key``)."""


def coverage_problems(
    coverage: CoverageFile, facts: FactsFile, wording: WordingFile, register: dict[str, Source]
) -> list[str]:
    """What makes a pack's coverage untrue: a key point of the outline not listed (or listed and
    not in the outline), a point neither mapped nor left to the leaflet with a reason, a line or a
    source that does not exist, a source without its version, a figure that differs from the fact
    the sheet prints. ``register``: every source key the pack cites (knowledge base and facts)."""
    problems: list[str] = []
    for guide in coverage.guides:
        where = guide.id
        ids = [point.id for point in guide.points]
        if not guide.outline:
            problems.append(f"{where}: no outline of the key points of its materials")
        problems += [f"{where}: key point {i!r} is not listed" for i in guide.outline
                     if i not in ids]  # fmt: skip
        problems += [f"{where}: point {i!r} is not in the outline" for i in ids
                     if i not in guide.outline]  # fmt: skip
        for key in guide.sources:
            problems += _source_problems(where, key, register)
        for point in guide.points:
            problems += _point_problems(f"{where}.{point.id}", point, facts, wording, register)
    return problems


def _source_problems(where: str, key: str, register: dict[str, Source]) -> list[str]:
    source = register.get(key)
    if source is None:
        return [f"{where}: source {key!r} is not in the register"]
    if not source.date.strip():
        return [f"{where}: source {key!r} has no version or date"]
    return []


def _point_problems(
    where: str,
    point: CoveragePoint,
    facts: FactsFile,
    wording: WordingFile,
    register: dict[str, Source],
) -> list[str]:
    problems: list[str] = []
    if not point.lines and len(point.excluded.strip()) <= 40:
        problems.append(f"{where}: neither mapped to the sheet nor left to the leaflet with why")
    if point.lines and point.excluded:
        problems.append(f"{where}: both mapped and left to the leaflet")
    for key in point.lines:
        if key not in wording.text and key not in TABLES:
            problems.append(f"{where}: no wording {key!r}")
    for key in point.sources:
        problems += _source_problems(where, key, register)
    for name, figure in point.figures.items():
        fact = facts.facts.get(name)
        if fact is None:
            problems.append(f"{where}: figure {name!r} is not a fact of the sheet")
        elif fact.value != figure:
            problems.append(
                f"{where}: the sheet prints {name} = {fact.value}, the source says {figure}"
            )
    return problems


@functools.cache
def fallback_notes() -> dict[str, str]:
    """The "this sheet is in English" note in each language that has one (``resources/handout/
    fallback-notes.json``), by language code."""
    path = paths.resource("handout", "fallback-notes.json")
    notes: dict[str, str] = _load_json(path, dict[str, str])
    return notes


def language_name(code: str) -> str:
    """A readable name for a language code, for the 'not in your language' note."""
    names = json.loads(paths.resource("handout", "languages.json").read_text(encoding="utf-8"))
    name = names.get(code)
    return f"{name}, {code}" if isinstance(name, str) else code
