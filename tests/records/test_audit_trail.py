"""``pharmacist-tool audit``: every event with its actor and what it was about, readable by an
inspector, and each event's signature status (today: whether its place in the chain holds), so
a forged or altered event shows. SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import io
import json
from contextlib import redirect_stdout
from pathlib import Path

from pharmacist_tool import cli
from pharmacist_tool.exports.service import export_records
from pharmacist_tool.records import users, writing
from pharmacist_tool.records.audit_trail import BROKEN, BROKEN_ELSEWHERE, CHAIN_INTACT
from pharmacist_tool.records.db import Database
from pharmacist_tool.records.reading import RecordFilter
from pharmacist_tool.records.users import AuthenticatedUser
from tests.records.helpers import PASSWORD, assessment_for, finished_case, handout_for, raw_sql


def _audit(db: Database, *options: str) -> tuple[int, str]:
    out = io.StringIO()
    with redirect_stdout(out):
        code = cli.main(
            ["--database", db.url.render_as_string(hide_password=False), "audit", *options]
        )
    return code, out.getvalue()


def _events(db: Database, *options: str) -> list[dict[str, object]]:
    code, out = _audit(db, "--json", *options)
    assert code == 0
    return [json.loads(line) for line in out.splitlines()]


def _day(db: Database, admin: AuthenticatedUser, tmp_path: Path) -> None:
    users.add_user(db, admin, "tmoss", "technician", PASSWORD, full_name="T. Moss")
    users.change_role(db, admin, "tmoss", "pharmacist")
    rita = users.authenticate(db, "tmoss", PASSWORD)
    case = finished_case("Ana García")
    writing.sign_record(db, rita, case, assessment_for(case), handout_for(case))
    export_records(db, "csv", tmp_path / "out.csv", RecordFilter(), username=rita)


def test_every_event_with_its_actor_and_subject(
    db: Database, admin: AuthenticatedUser, tmp_path: Path
) -> None:
    _day(db, admin, tmp_path)
    events = _events(db)
    actions = [e["action"] for e in events]
    for action in ("user-added", "role-changed", "login", "sign", "export"):
        assert action in actions, actions
    assert [e["id"] for e in events] == sorted(e["id"] for e in events)
    role = next(e for e in events if e["action"] == "role-changed")
    assert role["actor"] == "boss" and role["subject"] == "user tmoss"
    assert role["detail"]["state"]["role"] == "pharmacist"  # type: ignore[index]
    sign = next(e for e in events if e["action"] == "sign")
    assert sign["actor"] == "tmoss" and sign["subject"] == "record 1"
    export = next(e for e in events if e["action"] == "export")
    assert export["detail"]["count"] == 1  # type: ignore[index]
    assert {e["signature"] for e in events} == {CHAIN_INTACT}

    code, out = _audit(db)
    assert code == 0 and out.splitlines()[0].split()[:3] == ["ID", "AT", "(UTC)"]
    assert "role-changed" in out and "user tmoss" in out and CHAIN_INTACT in out

    mine = _events(db, "--user", "tmoss")
    assert {e["action"] for e in mine} >= {"user-added", "role-changed", "login", "sign"}
    assert all(e["actor"] == "tmoss" or e["subject"] == "user tmoss" for e in mine)
    tomorrow = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)).isoformat()
    assert _events(db, "--since", tomorrow) == []
    code, _ = _audit(db, "--since", "yesterday")
    assert code == 2


def test_a_forged_role_change_shows_as_broken(
    db: Database, admin: AuthenticatedUser, tmp_path: Path
) -> None:
    _day(db, admin, tmp_path)
    raw_sql(
        db,
        ["UPDATE audit_events SET username = 'tmoss' WHERE action = 'role-changed'"],
    )
    events = _events(db)
    forged = next(e for e in events if e["action"] == "role-changed")
    assert forged["actor"] == "tmoss"  # shown as stored …
    assert forged["signature"] == BROKEN  # … and named as not holding
    others = {e["signature"] for e in events if e["id"] != forged["id"]}
    assert others == {BROKEN_ELSEWHERE}
