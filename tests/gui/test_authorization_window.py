"""The session's programme step counts down to the authorization's expiry, from the fill's last
day to hand over; a session without an authorization shows none."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import EXAMPLES

pytestmark = pytest.mark.gui


def test_the_programme_step_says_when_the_authorization_expires(
    window: Any, qtbot: Any, tmp_path: Path
) -> None:
    (source,) = EXAMPLES.glob("01*.json")
    data = json.loads(source.read_text(encoding="utf-8"))
    today = dt.date.today()
    data["counselled_on"] = today.isoformat()
    data["prescription"]["prescribed_on"] = (today - dt.timedelta(days=1)).isoformat()
    data["pregnancy_tests"][-1]["date"] = (today - dt.timedelta(days=2)).isoformat()
    path = tmp_path / "today.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert window.open_case_file(path)
    qtbot.waitUntil(lambda: window.assessment is not None)
    last_day = today + dt.timedelta(days=4)  # the test is day 1 of the 7-day window
    assert window.assessment.pick_up_by == last_day
    page = window.pages[1]
    assert page.auth_expiry.text() == (
        f"Authorization expires in 4 days (valid through {last_day:%a %d %b %Y})"
    )
    page.authorization.clear()
    page.tick()
    assert page.auth_expiry.text() == ""
