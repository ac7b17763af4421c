"""``verify`` cannot be denied: its cost grows with the rows it reads, never with an id or a
position an attacker sets; its problems are summarised; a damaged note of how far the chain
reached is a failure that says so (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout

from pharmacist_tool import cli
from pharmacist_tool.records import service, writing
from pharmacist_tool.records.db import Database
from pharmacist_tool.records.users import AuthenticatedUser
from tests.records.helpers import assessment_for, finished_case, handout_for, raw_sql


def _sign(db: Database, who: AuthenticatedUser, name: str) -> int:
    case = finished_case(name)
    return writing.sign_record(db, who, case, assessment_for(case), handout_for(case)).id


def _cli_verify(db: Database) -> tuple[int, str]:
    out = io.StringIO()
    with redirect_stdout(out):
        code = cli.main(["--database", db.url.render_as_string(hide_password=False), "verify"])
    return code, out.getvalue()


def test_a_note_pushed_a_billion_ahead_costs_one_line(
    db: Database, pharmacist: AuthenticatedUser
) -> None:
    _sign(db, pharmacist, "Ana One")
    note = db.witness.path
    data = json.loads(note.read_text())
    (key,) = data
    far = 10**9
    data[key] = {
        "seq": far,
        "hash": "ab" * 32,
        "ids": {"records": far, "amendments": far, "audit_events": far},
        "at": "2026-12-01T00:00:00+00:00",
    }
    note.write_text(json.dumps(data))
    assert _sign(db, pharmacist, "Ben Two") == far + 1  # never a number seen before
    report = service.verify(db)
    assert not report.intact
    assert len(report.problems) < 10, report.problems
    text = "\n".join(map(str, report.problems))
    assert f"{far - 1:,} ids missing before record {far + 1}" in text
    assert "the chain skips" in text


def test_one_id_set_far_ahead_gives_one_line_not_millions(
    db: Database, pharmacist: AuthenticatedUser
) -> None:
    for name in ("Ana One", "Ben Two", "Cy Three"):
        _sign(db, pharmacist, name)
    raw_sql(db, ["UPDATE records SET id = 3000000 WHERE id = 3"])
    report = service.verify(db)
    assert not report.intact
    assert len(report.problems) <= 20, report.problems
    code, out = _cli_verify(db)
    assert code == 1
    assert "2,999,997 ids missing before record 3000000" in out
    assert len(out.splitlines()) < 30


def test_verify_prints_the_first_twenty_problems_and_counts_the_rest(
    db: Database, pharmacist: AuthenticatedUser
) -> None:
    for i in range(25):
        _sign(db, pharmacist, f"Patient {i}")
    raw_sql(db, ["UPDATE records SET workstation = 'elsewhere'"])
    code, out = _cli_verify(db)
    assert code == 1
    problems = [line for line in out.splitlines() if line.startswith("  record ")]
    assert len(problems) == 20
    # each altered record breaks its hash and its signer's signature over the same bytes
    assert "BROKEN: 50 problem(s) found" in out
    assert "… and 30 more (the first 20 shown)" in out


def test_a_garbage_note_fails_verify_and_says_so(
    db: Database, pharmacist: AuthenticatedUser
) -> None:
    _sign(db, pharmacist, "Ana One")
    note = db.witness.path
    for garbage in ("\x00\x01garbage", "[1, 2]", json.dumps({db.witness.key: {"seq": "x"}})):
        note.write_text(garbage)
        code, out = _cli_verify(db)
        assert code == 1, out
        assert "note of how far the chain reached" in out
        assert str(note) in out
        _sign(db, pharmacist, "Signing goes on")  # a damaged note never stops a signature
        assert note.read_text() == garbage  # … and is never started again behind one's back
