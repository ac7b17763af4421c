"""The daily dose a patient's line states ("Brand 100 mg twice daily" → 200 mg a day).

Used where a rule depends on the dose of another medicine (an enzyme inducer that weakens
contraception only from some daily dose). It reads one amount in mg (g and mcg converted), a
count of tablets ("2 x 25 mg", "2 tablets"), and a frequency (bd, twice daily, tds, every 12
hours, daily, at night …). It never guesses: a line with no amount, or with two different
amounts, has no readable dose, and the caller takes the safe choice.
"""

from __future__ import annotations

import re

_AMOUNT = re.compile(
    r"(?<![\d.,])(\d+(?:[.,]\d+)?)\s*(mg|milligrams?|mcg|micrograms?|µg|ug|g|grams?)(?![a-z])"
)
_TO_MG = {"mg": 1.0, "milligram": 1.0, "mcg": 0.001, "microgram": 0.001, "µg": 0.001}
_TO_MG |= {"ug": 0.001, "g": 1000.0, "gram": 1000.0}
_PER_DAY = re.compile(r"^\s*(?:/\s*(?:day|d)\b|a\s+day\b|per\s+day\b|daily\b|each\s+day\b)")
"""Right after the amount: the amount is already the whole day's ("200 mg/day", "200 mg daily")."""
_COUNT_BEFORE = re.compile(r"(?<![\d.,])(\d+)\s*(?:x|×|\*)\s*$")
_TABLETS = re.compile(r"(?<![\d.,])(\d+)\s*(?:tabs?|tablets?|caps?|capsules?)(?![a-z])")
_FREQUENCIES: tuple[tuple[int, re.Pattern[str]], ...] = (
    (
        4,
        re.compile(
            r"\b(?:qds|qid|q\.i\.d|four\s+times|4\s*(?:x|times)\s*(?:a|per|/)?\s*(?:day|daily)"
            r"|every\s+6\s+hours|q6h)\b"
        ),
    ),
    (
        3,
        re.compile(
            r"\b(?:tds|tid|t\.i\.d|three\s+times|3\s*(?:x|times)\s*(?:a|per|/)?\s*(?:day|daily)"
            r"|every\s+8\s+hours|q8h)\b"
        ),
    ),
    (
        2,
        re.compile(
            r"\b(?:bd|bid|b\.i\.d|twice|2\s*(?:x|times)\s*(?:a|per|/)?\s*(?:day|daily)"
            r"|every\s+12\s+hours|q12h|morning\s+and\s+(?:evening|night))\b"
        ),
    ),
    (
        1,
        re.compile(
            r"\b(?:od|qd|once|daily|a\s+day|per\s+day|each\s+day|nightly|at\s+night|qhs"
            r"|nocte|mane|every\s+morning|each\s+morning|every\s+night|at\s+bedtime)\b"
            r"|/\s*day\b"
        ),
    ),
)


class LineDose:
    """A daily dose read from a line (a plain class: this module is imported on demand)."""

    __slots__ = ("daily_mg", "frequency_stated")

    def __init__(self, daily_mg: float, frequency_stated: bool) -> None:
        self.daily_mg = daily_mg
        self.frequency_stated = frequency_stated
        """False when no frequency was written and ``assumed_doses_per_day`` was used."""

    def __repr__(self) -> str:
        return f"LineDose({self.daily_mg:g} mg a day, frequency_stated={self.frequency_stated})"


def daily_dose(text: str, assumed_doses_per_day: int = 1) -> LineDose | None:
    """The daily dose in mg a line states, or None when it cannot be read without guessing."""
    lowered = text.casefold()
    amounts = list(_AMOUNT.finditer(lowered))
    values = {round(float(m.group(1).replace(",", ".")) * _unit(m.group(2)), 6) for m in amounts}
    if len(values) != 1:
        return None
    first = amounts[0]
    strength = values.pop()
    if _PER_DAY.match(lowered[first.end() :]):
        return LineDose(strength, True)
    count = 1
    before = _COUNT_BEFORE.search(lowered[: first.start()])
    tablets = _TABLETS.search(lowered)
    if before:
        count = int(before.group(1))
    elif tablets:
        count = int(tablets.group(1))
    rest = lowered[: first.start()] + " " + lowered[first.end() :]
    for per_day, pattern in _FREQUENCIES:
        if pattern.search(rest):
            return LineDose(strength * count * per_day, True)
    return LineDose(strength * count * assumed_doses_per_day, False)


def _unit(word: str) -> float:
    return _TO_MG[word.removesuffix("s")] if word != "µg" else _TO_MG["µg"]
