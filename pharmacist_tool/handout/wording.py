"""The handout's words: one JSON file per language under ``resources/handout/``.

Only files marked ``"approved": true`` are used; a language without one prints English with a
note (never a machine translation). Every approved file must carry the same keys and the same
``{placeholders}`` as English; a file that does not is refused when loaded. Dates and numbers are
written from the file's own month names and decimal separator, never from the system locale.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import string
from dataclasses import dataclass
from typing import Annotated, Any

import msgspec

from pharmacist_tool import paths

BASE_LANGUAGE = "en"
_PLACEHOLDER = re.compile(r"\{(\w+)\}")

LanguageCode = Annotated[str, msgspec.Meta(pattern=r"^[a-z]{2}$")]


class WordingFile(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    language: LanguageCode
    name: str
    approved: bool
    reviewed: dt.date
    months: Annotated[list[str], msgspec.Meta(min_length=12, max_length=12)]
    decimal_separator: str
    text: dict[str, str]
    guide: dict[str, str]
    avoid_agents: dict[str, str]


class Fact(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    value: int
    sources: Annotated[list[str], msgspec.Meta(min_length=1)]
    note: str
    unconfirmed: str = ""


class FactsFile(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    last_reviewed: dt.date
    facts: dict[str, Fact]
    emergency_number: dict[str, str]


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


def _load_json(path: Any, kind: type[Any]) -> Any:
    try:
        return msgspec.json.decode(path.read_bytes(), type=kind)
    except FileNotFoundError as error:
        raise WordingError(f"handout wording file missing: {path}") from error
    except (msgspec.DecodeError, msgspec.ValidationError) as error:
        raise WordingError(f"handout wording file {path} is not valid: {error}") from error


def _check_against_base(data: WordingFile, base: WordingFile) -> None:
    problems: list[str] = []
    for section in ("text", "guide", "avoid_agents"):
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
def load_wording(language: str) -> Wording | None:
    """The approved wording for ``language``, or ``None`` when there is none."""
    if not re.fullmatch(r"[a-z]{2}", language):
        return None
    path = paths.resource("handout", f"{language}.json")
    if not path.is_file():
        return None
    data: WordingFile = _load_json(path, WordingFile)
    if data.language != language:
        raise WordingError(f"{path} says it is {data.language!r}, not {language!r}")
    if language != BASE_LANGUAGE:
        base = load_wording(BASE_LANGUAGE)
        if base is None:
            raise WordingError("the English handout wording is missing")
        _check_against_base(data, base.data)
    if not data.approved:
        return None
    return Wording(data)


def approved_languages() -> list[str]:
    folder = paths.resource("handout")
    codes = sorted(p.stem for p in folder.glob("*.json") if re.fullmatch(r"[a-z]{2}", p.stem))
    return [code for code in codes if load_wording(code) is not None]


@functools.cache
def load_facts() -> FactsFile:
    facts: FactsFile = _load_json(paths.resource("handout", "facts.json"), FactsFile)
    return facts


def language_name(code: str) -> str:
    """A readable name for a language code, for the 'not in your language' note."""
    names = json.loads(paths.resource("handout", "languages.json").read_text(encoding="utf-8"))
    name = names.get(code)
    return f"{name}, {code}" if isinstance(name, str) else code
