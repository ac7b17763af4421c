"""A pack's numbers as a person would say them at the counter (no "None days", no "1096 days")."""

from __future__ import annotations

DAYS_PER_YEAR = 365.25


def supply_limit_words(max_days_supply: int | None) -> str:
    """The rule set's limit on one supply."""
    if max_days_supply is None:
        return "no limit on the days' supply"
    period = period_words(max_days_supply)
    return f"at most {period}{chr(39) if period.endswith('s') else chr(39) + 's'} supply"


def period_words(days: int) -> str:
    """``30 days``, ``1 day``, ``3 years``, ``6 weeks``: whole years or weeks when the number
    of days is one."""
    years = round(days / DAYS_PER_YEAR)
    if years >= 1 and abs(days - years * DAYS_PER_YEAR) <= 1:
        return f"{years} year{'s' * (years != 1)}"
    if days >= 14 and days % 7 == 0 and days % 30 != 0:
        weeks = days // 7
        return f"{weeks} weeks"
    return f"{days} day{'s' * (days != 1)}"


def after_last_dose_words(days: int) -> str:
    """How long contraception continues after the last dose."""
    if days <= 0:
        return "no set time after the last dose"
    return f"continue for {period_words(days)} after the last dose"
