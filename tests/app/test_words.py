"""Each pack's numbers in the window's words, as a person would say them."""

from __future__ import annotations

import pytest

from pharmacist_tool.app.words import after_last_dose_words, period_words, supply_limit_words
from pharmacist_tool.knowledge import load_knowledge_base, packs


@pytest.mark.parametrize(
    ("days", "words"),
    [(1, "1 day"), (7, "7 days"), (30, "30 days"), (42, "6 weeks"), (365, "1 year"),
     (730, "2 years"), (1096, "3 years"), (90, "90 days")],
)  # fmt: skip
def test_periods(days: int, words: str) -> None:
    assert period_words(days) == words


def test_supply_limits_and_after_the_last_dose() -> None:
    assert supply_limit_words(None) == "no limit on the days' supply"
    assert supply_limit_words(30) == "at most 30 days' supply"
    assert supply_limit_words(1) == "at most 1 day's supply"
    assert after_last_dose_words(0) == "no set time after the last dose"
    assert after_last_dose_words(1096) == "continue for 3 years after the last dose"
    assert after_last_dose_words(30) == "continue for 30 days after the last dose"


@pytest.mark.parametrize("medicine", packs.names())
def test_no_pack_reads_none_or_zero_days(medicine: str) -> None:
    kb = load_knowledge_base(medicine)
    for rule_set in kb.rule_sets:
        for version in rule_set.versions:
            said = " ".join(
                [
                    supply_limit_words(version.max_days_supply),
                    after_last_dose_words(version.contraception_after_last_dose_days),
                ]
            )
            assert "None" not in said and " 0 days" not in said and "1096" not in said
