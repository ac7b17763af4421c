"""The rule version in force, in words: a date the pack marks unconfirmed is said to be so until
the pharmacy confirms that very date (Qt-free)."""

from __future__ import annotations

import datetime as dt

from pharmacist_tool.app.rule_dates import rule_version_words
from pharmacist_tool.engine import assess
from pharmacist_tool.knowledge import load_for_counter
from tests.conftest import example_case

KEY = "isotretinoin/us-ipledge-2026"


def _words(prefix: str, confirmed: dict[str, dt.date]) -> str:
    case = example_case(prefix)
    kb = load_for_counter(case.prescription.medicine)
    return rule_version_words(kb, assess(case, kb), confirmed)


def test_the_2026_ipledge_date_is_unconfirmed_until_the_pharmacy_confirms_it() -> None:
    assert _words("01", {}) == (
        "rule version us-ipledge-2026 in force from 2026-11-15 "
        "(date unconfirmed — confirm in Settings)"
    )
    assert _words("01", {KEY: dt.date(2026, 11, 15)}) == (
        "rule version us-ipledge-2026 in force from 2026-11-15"
    )


def test_a_confirmation_of_another_date_does_not_hold() -> None:
    assert _words("01", {KEY: dt.date(2026, 8, 8)}).endswith(
        "(date unconfirmed — confirm in Settings)"
    )


def test_a_version_whose_date_the_pack_does_not_question_is_shown_plainly() -> None:
    assert _words("06", {}) == "rule version uk-ppp-2026 in force from 2026-01-22"


def test_nothing_is_said_before_an_assessment() -> None:
    assert rule_version_words(load_for_counter(), None, {}) == ""
