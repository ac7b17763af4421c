"""The authorization's lifecycle on the due list and in a course: a fill recorded and not handed
over says by when to reverse its authorization if not collected (the rule set's pick-up window),
and every fill says when its authorization expires (SQLite file and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json

import msgspec

from pharmacist_tool.records.course import due_items, find_course
from pharmacist_tool.records.db import Database
from pharmacist_tool.records.users import AuthenticatedUser
from tests.conftest import run_cli
from tests.records.test_rule_impact import _sign, _visit

D = dt.date.fromisoformat


def test_a_fill_not_collected_says_by_when_to_reverse(
    database_url: str, db: Database, pharmacist: AuthenticatedUser
) -> None:
    # prepared on 2026-11-10, tested 2026-11-09: the 7-day window's last day is 2026-11-15
    waiting = _sign(db, pharmacist, _visit("Ana García", "IP-1", "2026-11-10"), "not-handed-over")
    # a patient who cannot get pregnant, under the 2026 modification: no window, no date
    no_window = _visit("Bo Lind", "IP-2", "2026-11-20", can_get_pregnant=False)
    open_ended = _sign(db, pharmacist, no_window, "not-handed-over")
    collected = _sign(db, pharmacist, _visit("Cy Moss", "IP-3", "2026-11-10"))

    listed = due_items(db, D("2026-11-10"), 30)
    items = {i.record_id: i for i in listed if i.what == "reverse-authorization"}
    assert items[waiting].due_on == D("2026-11-16")  # the day after the last day to collect
    assert items[waiting].reverse_if_not_collected_by == D("2026-11-15")
    assert items[open_ended].reverse_if_not_collected_by is None
    assert items[open_ended].due_on == D("2026-11-20")
    assert collected not in items  # handed over: nothing to reverse
    assert any(i.record_id == collected for i in listed)

    done = run_cli("--database", database_url, "due", "--on", "2026-11-10", "--within", "30",
                   "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.decode().splitlines()]
    reversal = next(
        x for x in lines if x["record_id"] == waiting and x["what"] == "reverse-authorization"
    )
    assert reversal["reverse_if_not_collected_by"] == "2026-11-15"
    assert reversal["authorization_expires_on"] == "2026-11-15"
    other = next(x for x in lines if x["record_id"] == collected)
    assert "authorization_expires_on" not in other  # only a reversal carries it
    text = run_cli("--database", database_url, "due", "--on", "2026-11-10", "--within", "30")
    header, *rows = text.stdout.decode().splitlines()
    assert header.endswith("REVERSE IF NOT COLLECTED BY")
    assert any("reverse the authorization" in r and r.endswith("2026-11-15") for r in rows)

    course = find_course(db, programme_id="IP-1").to_json()
    assert course["fills"][0]["authorization_expires_on"] == "2026-11-15"
    shown = run_cli("--database", database_url, "course", "--patient-id", "IP-1")
    assert shown.returncode == 0, shown.stderr
    assert b"Authorization RMA-IP-1 (record" in shown.stdout
    assert b"expires 2026-11-15: reverse it if the fill is not collected by then." in shown.stdout
    collected_course = find_course(db, programme_id="IP-3").to_json()
    assert collected_course["fills"][0]["authorization_expires_on"] == "2026-11-15"
    assert msgspec.json.encode(collected_course)  # plain JSON
