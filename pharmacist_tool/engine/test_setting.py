"""Where a pregnancy test was done: a home test a rule version does not accept does not count.

The rule version's ``test_setting`` says which tests must be in a medical setting. A negative
home test it does not accept is set aside (the other checks then judge the tests that count, and
find a test missing or too old as usual) and raises ``pregnancy-test.home-not-accepted``. A
positive test counts wherever it was done.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from pharmacist_tool.case import Case, PregnancyTest
from pharmacist_tool.knowledge.model import RuleSetVersion

if TYPE_CHECKING:
    from pharmacist_tool.engine.rules import _Context

HOME_NOT_ACCEPTED = "pregnancy-test.home-not-accepted"


def home_tests_accepted(rules: RuleSetVersion, case: Case) -> bool:
    """Whether this visit's tests may be home tests under ``rules``."""
    setting = rules.test_setting
    if setting is None or setting.home_tests == "never":
        return False
    return case.course is not None and case.course.fill_number > 1


def not_counted(rules: RuleSetVersion, case: Case) -> list[PregnancyTest]:
    """The negative home tests this rule version does not accept at this visit."""
    if home_tests_accepted(rules, case):
        return []
    return [t for t in case.pregnancy_tests if t.setting == "home" and t.result == "negative"]


def set_aside_home_tests(ctx: _Context) -> None:
    """Drop the tests that do not count from the case the checks see, and say why."""
    dropped = not_counted(ctx.rules, ctx.case)
    if not dropped:
        return
    ctx.case = msgspec.structs.replace(
        ctx.case, pregnancy_tests=[t for t in ctx.case.pregnancy_tests if t not in dropped]
    )
    ctx.add(
        HOME_NOT_ACCEPTED,
        "pregnancy-prevention",
        "warn",
        test_date=", ".join(t.date.isoformat() for t in sorted(dropped, key=lambda t: t.date)),
    )
