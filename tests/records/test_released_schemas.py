"""A database made by a released version upgrades, on SQLite and PostgreSQL; a tampered one is
refused by the upgrade, not adopted.

Each released schema is built as its version left it: the 2026-11-25 version (schemas 0001 and
0002) wrote its rows itself, so they are written here as it wrote them (users with their
``user-added`` events, log-ins, a signed record and its ``sign`` event, all chained); the later
schemas are reached by running the migrations over that. The 2026-11-25 version failed to
upgrade on SQLite ("FOREIGN KEY constraint failed" when migration 0003 copied the users table
that the events refer to), and on PostgreSQL migration 0003 adopted a users table tampered at
schema 0002 "as found".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from argon2 import PasswordHasher
from sqlalchemy import Connection, create_engine, inspect, text

from pharmacist_tool.case import dump_case
from pharmacist_tool.engine.assessment import encode_assessment
from pharmacist_tool.errors import UserError
from pharmacist_tool.records import service, users, writing
from pharmacist_tool.records.db import (
    alembic_config,
    head_revision,
    normalise_url,
    open_database,
    schema_revision,
)
from pharmacist_tool.records.guards import install_append_only_guards, remove_append_only_guards
from pharmacist_tool.records.reading import fold_name
from tests.conftest import run_cli
from tests.records.helpers import PASSWORD, assessment_for, finished_case, handout_for
from tests.records.released import ChainOfThatEra

RELEASED = ("0001", "0002", "0003_users_in_chain", "0005_course", "0006_record_pack")
MADE = dt.datetime(2026, 11, 25, 9, 0)
PEOPLE = (  # id, name, role, added by (None: the first user, who added themselves)
    (1, "boss", "admin", None),
    (2, "rosei", "pharmacist", "boss"),
    (3, "tech", "technician", "boss"),
)


@contextmanager
def _connection(database_url: str) -> Iterator[Connection]:
    url = normalise_url(database_url)
    if url.get_backend_name() == "sqlite":
        Path(url.database or "").touch(mode=0o600, exist_ok=True)
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            yield conn
    finally:
        engine.dispose()


def _record_of_that_era() -> dict[str, Any]:
    case = finished_case()
    assessment = assessment_for(case)
    handout = handout_for(case)
    kb = assessment.knowledge_base
    assert case.outcome is not None
    return {
        "id": 1, "signed_at": MADE, "user_id": 2, "signer_username": "rosei",
        "signer_full_name": "Rosei", "signer_role": "pharmacist",
        "signature_meaning": "Counselled and handed over", "workstation": "counter-1",
        "app_version": "0.1.0", "patient_name": case.patient.name,
        "patient_name_key": fold_name(case.patient.name),
        "patient_date_of_birth": case.patient.date_of_birth,
        "counselled_on": case.counselled_on, "rule_set": case.rule_set,
        "medicine": assessment.product or case.prescription.medicine,
        "outcome": case.outcome.status, "outcome_reason": case.outcome.reason,
        "dispense": assessment.dispense, "knowledge_base_version": kb.version,
        "rules_version": kb.rules_version, "rules_effective_from": kb.rules_effective_from,
        "case_json": dump_case(case).decode("utf-8"),
        "assessment_json": encode_assessment(assessment).decode("utf-8"),
        "handout_pdf": bytes(handout.pdf), "handout_sha256": handout.sha256,
        "handout_template_version": str(handout.template_version),
        "handout_language": str(handout.language), "handout_large_print": False,
        "handout_paper": str(handout.paper), "handout_source": "rendered",
    }  # fmt: skip


def _database_at(database_url: str, revision: str) -> None:
    """A database of a released schema: made by the 2026-11-25 version (at 0001 or 0002),
    three users added and signed in, one record signed; then upgraded to ``revision``."""
    made_at = "0001" if revision == "0001" else "0002"
    hashed = PasswordHasher().hash(PASSWORD)
    with _connection(database_url) as conn:
        command.upgrade(alembic_config(conn), made_at)
        rows = ChainOfThatEra(conn, MADE)
        for uid, name, role, by in PEOPLE:
            adder = next((p[0], p[1]) for p in PEOPLE if p[1] == by) if by else None
            rows.add_user(uid, name, name.title(), role, hashed, adder)
        for uid, name, _role, _by in PEOPLE:
            rows.event("login", name, uid)
        _lock_out(rows, 3, "tech")
        rows.append("records", _record_of_that_era())
        rows.event("sign", "rosei", 2, record_id=1, outcome="handed-over")
        rows.close(with_newest=made_at == "0002")
        if revision != made_at:
            command.upgrade(alembic_config(conn), revision)


def _lock_out(rows: ChainOfThatEra, uid: int, name: str) -> None:
    """Five wrong passwords, as that version counted them: the row locked for 15 minutes, the
    lock's end in the ``account-locked`` event (written with its offset, as it was)."""
    until = MADE + dt.timedelta(minutes=15)
    for _ in range(5):
        rows.event("login-failed", name, uid, purpose="login", why="wrong password")
    rows.event(
        "account-locked", name, uid, until=until.replace(tzinfo=dt.UTC).isoformat(),
        after_failures=5,
    )  # fmt: skip
    rows.conn.execute(
        text("UPDATE users SET locked_until = :until WHERE id = :id"), {"until": until, "id": uid}
    )


def _tamper(database_url: str, sql: str, *, guarded: bool = True) -> None:
    """Change rows behind the tool's back, as someone with the database file would (lifting
    the append-only guards of schema 0002 on, and putting them back)."""
    with _connection(database_url) as conn:
        if guarded:
            remove_append_only_guards(conn)
        conn.execute(text(sql))
        if guarded:
            install_append_only_guards(conn)


def _refused(database_url: str) -> UserError:
    with pytest.raises(UserError) as caught:
        open_database(database_url)
    assert "does not verify, so it is not upgraded" in caught.value.message
    return caught.value


def _as_found(database_url: str) -> dict[str, Any]:
    """What a refused upgrade must leave alone: the schema, its columns and every chained row."""
    with _connection(database_url) as conn:
        found = inspect(conn)
        return {
            "columns": {
                t: [c["name"] for c in found.get_columns(t)] for t in found.get_table_names()
            },
            "events": conn.execute(text("SELECT id, row_hash FROM audit_events")).all(),
            "users": conn.execute(text("SELECT * FROM users ORDER BY id")).all(),
            "head": conn.execute(text("SELECT seq, head_hash FROM chain_head")).all(),
        }  # fmt: skip


def _signs_at_head(database_url: str) -> None:
    with open_database(database_url) as db:
        assert schema_revision(db) == head_revision()
        report = service.verify(db)
        assert report.intact, report.problems
        rosei = users.authenticate(db, "rosei", PASSWORD, purpose="sign")
        case = finished_case("Bea Jones")
        writing.sign_record(db, rosei, case, assessment_for(case), handout_for(case))
        report = service.verify(db)
        assert report.intact, report.problems
        assert report.counts["records"] == 2
        # rosei's key was made at that first sign-in: named until an administrator confirms
        assert [w.split("'s signing key")[0] for w in report.warnings] == ["rosei"]
        boss = users.authenticate(db, "boss", PASSWORD, purpose="admin")
        users.countersign_key(db, boss, "rosei")
        report = service.verify(db)
        assert report.intact and [w.split("'s")[0] for w in report.warnings] == ["boss"]
        with pytest.raises(UserError):  # a technician never signs
            writing.sign_record(
                db,
                users.authenticate(db, "tech", PASSWORD, purpose="sign"),
                case,
                assessment_for(case),
                handout_for(case),
            )


@pytest.mark.parametrize("revision", RELEASED)
def test_a_database_of_each_released_schema_upgrades_and_signs(
    database_url: str, revision: str
) -> None:
    _database_at(database_url, revision)
    _signs_at_head(database_url)


def test_a_technician_promoted_at_schema_0002_is_refused_not_adopted(database_url: str) -> None:
    """Before schema 0003 users were outside the chain: the upgrade compares each user with
    the events of that era, and names the one whose role no event explains."""
    _database_at(database_url, "0002")
    _tamper(database_url, "UPDATE users SET role = 'pharmacist' WHERE username = 'tech'")
    before = _as_found(database_url)
    refused = _refused(database_url)
    assert "schema 0003_users_in_chain" in refused.message
    assert any(
        "'tech' was changed outside pharmacist-tool: role is 'pharmacist', its 'user-added' "
        "event (audit event 3) says 'technician'" in line
        for line in refused.details
    ), refused.details
    assert _as_found(database_url) == before  # no column added, no event written
    with open_database(database_url, migrate=False) as db:
        assert schema_revision(db) == "0002"


@pytest.mark.parametrize(
    ("sql", "named"),
    [
        ("UPDATE users SET active = FALSE WHERE username = 'boss'", "it is inactive"),
        ("UPDATE users SET full_name = 'Kim Lee' WHERE username = 'rosei'", "printed name"),
        ("UPDATE users SET created_by = NULL WHERE username = 'tech'", "its own first user"),
        (
            "UPDATE users SET locked_until = created_at WHERE username = 'boss'",
            "with no event locking it",
        ),
        (
            "UPDATE users SET locked_until = created_at WHERE username = 'tech'",
            "with no event locking it",
        ),
        (
            "INSERT INTO users (id, username, full_name, role, password_hash, active,"
            " created_at, failed_logins) SELECT 4, 'kim', 'Kim', 'pharmacist', password_hash,"
            " TRUE, created_at, 0 FROM users WHERE id = 1",
            "'kim' has no 'user-added' audit event",
        ),
        (
            "UPDATE users SET username = 'rosie' WHERE username = 'rosei'",
            "names this user 'rosei'",
        ),
    ],
    ids=["deactivated", "renamed-printed", "creator", "locked", "lock-moved", "added", "renamed"],
)
def test_each_user_change_no_event_of_that_era_explains_is_refused(
    database_url: str, sql: str, named: str
) -> None:
    _database_at(database_url, "0002")
    _tamper(database_url, sql)
    refused = _refused(database_url)
    assert any(named in line for line in refused.details), refused.details
    with open_database(database_url, migrate=False) as db:
        assert schema_revision(db) == "0002"


@pytest.mark.parametrize("revision", ["0001", "0002", "0005_course", "0006_record_pack"])
def test_a_record_altered_at_a_released_schema_is_refused(database_url: str, revision: str) -> None:
    _database_at(database_url, revision)
    _tamper(
        database_url,
        "UPDATE records SET patient_name = 'Someone Else' WHERE id = 1",
        guarded=revision != "0001",
    )
    before = _as_found(database_url)
    refused = _refused(database_url)
    assert "record 1: altered" in "\n".join(refused.details), refused.details
    assert _as_found(database_url) == before
    with open_database(database_url, migrate=False) as db:
        assert schema_revision(db) == revision


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM audit_events WHERE id = 4",
        "UPDATE audit_events SET username = 'boss' WHERE id = 5",
    ],
    ids=["event-removed", "event-altered"],
)
def test_an_audit_event_altered_at_schema_0002_is_refused(database_url: str, sql: str) -> None:
    _database_at(database_url, "0002")
    _tamper(database_url, sql)
    refused = _refused(database_url)
    assert "audit event" in "\n".join(refused.details), refused.details


def test_a_user_tampered_at_schema_0006_is_refused_by_the_upgrade_to_signatures(
    database_url: str,
) -> None:
    """Users are in the chain from 0003: the upgrade to signatures verifies them first and
    refuses, leaving the database as it was."""
    _database_at(database_url, "0006_record_pack")
    with _connection(database_url) as conn:
        conn.execute(text("UPDATE users SET role = 'pharmacist' WHERE username = 'boss'"))
    refused = _refused(database_url)
    assert "'boss' was changed outside pharmacist-tool" in "\n".join(refused.details)
    with open_database(database_url, migrate=False) as db:
        assert schema_revision(db) == "0006_record_pack"


def test_the_command_line_refuses_the_tampered_upgrade_with_a_message(database_url: str) -> None:
    _database_at(database_url, "0002")
    _tamper(database_url, "UPDATE users SET role = 'pharmacist' WHERE username = 'tech'")
    done = run_cli("--database", database_url, "verify")
    said = done.stdout.decode() + done.stderr.decode()
    assert done.returncode == 2, said
    assert "does not verify, so it is not upgraded" in said
    assert "'tech' was changed outside pharmacist-tool: role is 'pharmacist'" in said
    assert "Traceback" not in said
    with open_database(database_url, migrate=False) as db:
        assert schema_revision(db) == "0002"
