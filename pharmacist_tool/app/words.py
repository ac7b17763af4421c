"""A pack's numbers and a session's dates as a person would say them at the counter (no "None
days", no "1096 days")."""

from __future__ import annotations

import datetime as dt

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


def authorization_expires_on(
    authorization: str | None, pick_up_by: dt.date | None
) -> dt.date | None:
    """The last day a fill's authorization is valid: the rule set's last day to hand over
    (``pick_up_by``), as the records count it (``records.authorization_dates``). ``None``: no
    authorization entered, or the rule set gives the patient no window."""
    return pick_up_by if authorization and authorization.strip() else None


def authorization_expiry_words(expires_on: dt.date | None, today: dt.date) -> str:
    """``Authorization expires in 4 days (valid through Tue 01 Dec 2026)``, ``… expires today``,
    or ``Authorization EXPIRED on …``; empty when nothing expires."""
    if expires_on is None:
        return ""
    day = expires_on.strftime("%a %d %b %Y")
    left = (expires_on - today).days
    if left < 0:
        ago = -left
        return (
            f"✖ Authorization EXPIRED on {day} ({ago} day{'s' * (ago != 1)} ago): do not hand "
            "over on it; reverse it if the fill was not collected"
        )
    if left == 0:
        return f"Authorization expires today ({day}, its last valid day)"
    return f"Authorization expires in {left} day{'s' * (left != 1)} (valid through {day})"
