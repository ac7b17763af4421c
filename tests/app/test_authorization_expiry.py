"""The authorization's expiry as the counter says it: counted from the fill's last day to hand
over, in days, without Qt."""

from __future__ import annotations

import datetime as dt

from pharmacist_tool.app.words import authorization_expires_on, authorization_expiry_words
from pharmacist_tool.engine import assess
from pharmacist_tool.knowledge import load_for_counter
from tests.conftest import example_case

TODAY = dt.date(2026, 12, 8)


def test_an_authorization_expires_on_the_last_day_to_hand_over() -> None:
    case = example_case("01")
    assessment = assess(case, load_for_counter())
    assert assessment.pick_up_by == dt.date(2026, 11, 27)  # the test of 21 Nov, day 1 of 7
    expires = authorization_expires_on(case.prescription.authorization, assessment.pick_up_by)
    assert expires == dt.date(2026, 11, 27)
    assert authorization_expires_on("  ", assessment.pick_up_by) is None
    assert authorization_expires_on(None, assessment.pick_up_by) is None
    assert authorization_expires_on("RMA-1", None) is None


def test_the_days_left_are_counted_to_the_last_valid_day() -> None:
    assert authorization_expiry_words(dt.date(2026, 12, 12), TODAY) == (
        "Authorization expires in 4 days (valid through Sat 12 Dec 2026)"
    )
    assert authorization_expiry_words(dt.date(2026, 12, 9), TODAY).startswith(
        "Authorization expires in 1 day "
    )
    assert authorization_expiry_words(TODAY, TODAY) == (
        "Authorization expires today (Tue 08 Dec 2026, its last valid day)"
    )


def test_an_expired_authorization_says_so_and_what_to_do() -> None:
    words = authorization_expiry_words(dt.date(2026, 12, 7), TODAY)
    assert words.startswith("✖ Authorization EXPIRED on Mon 07 Dec 2026 (1 day ago)")
    assert "reverse it" in words
    assert authorization_expiry_words(dt.date(2026, 11, 27), TODAY).endswith(
        "(11 days ago): do not hand over on it; reverse it if the fill was not collected"
    )
    assert authorization_expiry_words(None, TODAY) == ""
