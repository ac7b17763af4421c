"""``pharmacist-tool audit``: every event with its actor and what it was about, and whether its
signature verifies, for an administrator only (signed in with their password; the reading is
audited), so that a forged or altered event shows. SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import io
import json
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

from pharmacist_tool import cli
from pharmacist_tool.exports.service import export_records
from pharmacist_tool.records import chain, signing, users, writing
from pharmacist_tool.records.audit_trail import DOES_NOT_VERIFY, UNSIGNED, VERIFIES
from pharmacist_tool.records.db import Database
from pharmacist_tool.records.models import User
from pharmacist_tool.records.reading import RecordFilter, list_events
from pharmacist_tool.records.users import AuthenticatedUser
from tests.records.helpers import PASSWORD, assessment_for, finished_case, handout_for, raw_sql


def _audit(
    db: Database, *options: str, admin: str | None = "boss", password: str = PASSWORD
) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    who = ["--admin", admin, "--password-stdin"] if admin else []
    stdin = sys.stdin
    sys.stdin = io.StringIO(password + "\n")
    try:
        with redirect_stdout(out), redirect_stderr(err):
            url = db.url.render_as_string(hide_password=False)
            code = cli.main(["--database", url, "audit", *who, *options])
    finally:
        sys.stdin = stdin
    return code, out.getvalue(), err.getvalue()


def _events(db: Database, *options: str) -> list[dict[str, object]]:
    code, out, err = _audit(db, "--json", *options)
    assert code == 0, err
    return [json.loads(line) for line in out.splitlines()]


def _day(db: Database, admin: AuthenticatedUser, tmp_path: Path) -> None:
    users.add_user(db, admin, "tmoss", "technician", PASSWORD, full_name="T. Moss")
    users.change_role(db, admin, "tmoss", "pharmacist")
    rita = users.authenticate(db, "tmoss", PASSWORD)
    case = finished_case("Ana García")
    writing.sign_record(db, rita, case, assessment_for(case), handout_for(case))
    export_records(db, "csv", tmp_path / "out.csv", RecordFilter(), username=rita)


def test_every_event_with_its_actor_subject_and_signature(
    db: Database, admin: AuthenticatedUser, tmp_path: Path
) -> None:
    _day(db, admin, tmp_path)
    events = _events(db)
    actions = [e["action"] for e in events]
    for action in ("user-added", "role-changed", "login", "sign", "export", "audit-read"):
        assert action in actions, actions
    assert [e["id"] for e in events] == sorted(e["id"] for e in events)
    role = next(e for e in events if e["action"] == "role-changed")
    assert role["actor"] == "boss" and role["subject"] == "user tmoss"
    assert role["detail"]["state"]["role"] == "pharmacist"  # type: ignore[index]
    assert role["signature"] == VERIFIES and role["problems"] == []
    sign = next(e for e in events if e["action"] == "sign")
    assert sign["actor"] == "tmoss" and sign["subject"] == "record 1"
    assert sign["signature"] == VERIFIES
    export = next(e for e in events if e["action"] == "export")
    assert export["detail"]["count"] == 1  # type: ignore[index]
    assert {e["signature"] for e in events} <= {VERIFIES, UNSIGNED}
    reading = events[-1]  # the reading is audited before the trail is read
    assert reading["action"] == "audit-read" and reading["actor"] == "boss"
    assert reading["signature"] == VERIFIES

    code, out, _ = _audit(db)
    assert code == 0 and out.splitlines()[0].split()[:3] == ["ID", "AT", "(UTC)"]
    assert "role-changed" in out and "user tmoss" in out and VERIFIES in out

    mine = _events(db, "--user", "tmoss")
    assert {e["action"] for e in mine} >= {"user-added", "role-changed", "login", "sign"}
    assert all(e["actor"] == "tmoss" or e["subject"] == "user tmoss" for e in mine)
    tomorrow = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)).isoformat()
    assert _events(db, "--since", tomorrow) == []
    code, _, err = _audit(db, "--since", "yesterday")
    assert code == 2 and "--since" in err
    readings = sorted(list_events(db, action="audit-read"), key=lambda e: e.id)
    assert len(readings) == 4 and {e.username for e in readings} == {"boss"}  # not "yesterday"
    assert readings[-2].detail == {"since": None, "user": "tmoss"}
    assert readings[-1].detail == {"since": tomorrow, "user": None}


def test_only_an_administrator_reads_the_trail(
    db: Database, admin: AuthenticatedUser, tmp_path: Path
) -> None:
    _day(db, admin, tmp_path)  # tmoss: a pharmacist without administrator rights
    before = {e.id for e in list_events(db)}
    code, out, err = _audit(db, admin="tmoss")
    assert code == 2 and out == ""
    assert "Only an administrator can do this (read the audit trail); tmoss is a pharmacist" in err
    code, out, err = _audit(db, admin=None)
    assert code == 2 and out == "" and "This needs an administrator: --admin NAME" in err
    code, out, err = _audit(db, password="not the password")
    assert code == 2 and out == "" and "Wrong user name or password" in err
    after = [e.action for e in list_events(db) if e.id not in before]
    assert after == ["login-failed"]  # no reading was audited


def test_an_altered_role_change_does_not_verify(
    db: Database, admin: AuthenticatedUser, tmp_path: Path
) -> None:
    _day(db, admin, tmp_path)
    raw_sql(db, ["UPDATE audit_events SET username = 'tmoss' WHERE action = 'role-changed'"])
    code, out, err = _audit(db, "--json")
    assert code == 0 and "does NOT verify" in err
    events = [json.loads(line) for line in out.splitlines()]
    forged = next(e for e in events if e["action"] == "role-changed")
    assert forged["actor"] == "tmoss"  # shown as stored …
    assert forged["signature"] == DOES_NOT_VERIFY  # … and named as not verifying, with why
    assert any("altered" in p for p in forged["problems"]), forged["problems"]  # type: ignore[union-attr]
    others = {e["signature"] for e in events if e["id"] != forged["id"]}
    assert others <= {VERIFIES, UNSIGNED}


def test_a_role_change_forged_with_the_tools_own_chain_code_does_not_verify(
    db: Database, admin: AuthenticatedUser
) -> None:
    """The attack of issue 21: a chained "technician → pharmacist" event with the
    administrator as actor, appended by someone with write access and the tool's own code,
    signed with a key of their own (they do not have the administrator's password)."""
    users.add_user(db, admin, "tech", "technician", PASSWORD, full_name="Tess Tech")
    with db.session(write=True) as session, chain.appending(session) as head:
        tech = session.query(User).filter_by(username="tech").one()
        boss = session.query(User).filter_by(username="boss").one()
        tech.role = "pharmacist"
        users._state_event(
            session, head, "role-changed", tech, actor=boss, at=users.utcnow(),
            key=signing.new_key(),
        )  # fmt: skip
    events = _events(db)
    forged = next(e for e in events if e["action"] == "role-changed")
    assert forged["actor"] == "boss" and forged["subject"] == "user tech"
    assert forged["signature"] == DOES_NOT_VERIFY
    assert any("its signature is not 'boss''s" in p for p in forged["problems"]), forged  # type: ignore[union-attr]
    code, out, _ = _audit(db)
    assert code == 0
    row = next(line for line in out.splitlines() if "role-changed" in line)
    assert "DOES NOT VERIFY" in row
    assert [e["action"] for e in events if e["signature"] == DOES_NOT_VERIFY] == ["role-changed"]


def test_the_trail_since_a_day_keeps_that_day(db: Database, admin: AuthenticatedUser) -> None:
    today = dt.datetime.now(dt.UTC).date().isoformat()
    events = _events(db, "--since", today)
    assert "audit-read" in [e["action"] for e in events]
