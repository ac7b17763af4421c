"""A database made by a released version upgrades, on SQLite and PostgreSQL.

Each released schema is built by running the migrations up to its revision, then filled as
that version filled it (users, and chained audit events that refer to them): the 2026-11-25
version (schema 0002) failed to upgrade on SQLite ("FOREIGN KEY constraint failed" when
migration 0003 copied the users table that the events refer to).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from alembic import command
from argon2 import PasswordHasher
from sqlalchemy import create_engine, text

from pharmacist_tool.records import chain, service, users
from pharmacist_tool.records.db import alembic_config, head_revision, normalise_url, open_database
from pharmacist_tool.records.models import GENESIS_HASH
from tests.records.helpers import PASSWORD, assessment_for, finished_case, handout_for


def _database_at_0002(database_url: str) -> None:
    """Schema 0002 as the 2026-11-25 version left it: two users and their log-ins chained."""
    url = normalise_url(database_url)
    if url.get_backend_name() == "sqlite":
        Path(url.database or "").touch(mode=0o600)
    engine = create_engine(url)
    hashed = PasswordHasher().hash(PASSWORD)
    now = dt.datetime(2026, 11, 25, 9, 0)
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "0002")
            for uid, name, role in ((1, "boss", "admin"), (2, "rosei", "pharmacist")):
                conn.execute(
                    text(
                        "INSERT INTO users (id, username, full_name, role, password_hash, active,"
                        " created_at, failed_logins) VALUES (:id, :u, :u, :r, :h, :a, :at, 0)"
                    ),
                    {"id": uid, "u": name, "r": role, "h": hashed, "a": True, "at": now},
                )
            prev = GENESIS_HASH
            for seq, (uid, name) in enumerate(((1, "boss"), (2, "rosei")), start=1):
                event = {
                    "id": seq, "at": now, "action": "login", "username": name, "user_id": uid,
                    "detail": json.dumps({}), "workstation": "counter-1", "seq": seq,
                    "prev_hash": prev,
                }  # fmt: skip
                event["row_hash"] = prev = chain.row_hash("audit_events", event)
                conn.execute(
                    text(
                        "INSERT INTO audit_events (id, at, action, username, user_id, detail,"
                        " workstation, seq, prev_hash, row_hash) VALUES (:id, :at, :action,"
                        " :username, :user_id, :detail, :workstation, :seq, :prev_hash,"
                        " :row_hash)"
                    ),
                    event,
                )
            conn.execute(
                text(
                    "UPDATE chain_head SET seq = 2, head_hash = :h, head_table = 'audit_events',"
                    " head_id = 2 WHERE id = 1"
                ),
                {"h": prev},
            )
    finally:
        engine.dispose()


def test_a_database_of_schema_0002_upgrades_and_signs(database_url: str) -> None:
    _database_at_0002(database_url)
    with open_database(database_url) as db:
        assert service.verify(db).intact
        rosei = users.authenticate(db, "rosei", PASSWORD, purpose="sign")
        case = finished_case()
        from pharmacist_tool.records import writing

        writing.sign_record(db, rosei, case, assessment_for(case), handout_for(case))
        report = service.verify(db)
        assert report.intact, report.problems
        # rosei's key was made at that first sign-in: named until an administrator confirms
        assert [w.split("'s signing key")[0] for w in report.warnings] == ["rosei"]
        boss = users.authenticate(db, "boss", PASSWORD, purpose="admin")
        users.countersign_key(db, boss, "rosei")
        report = service.verify(db)
        assert report.intact and [w.split("'s")[0] for w in report.warnings] == ["boss"]
        from pharmacist_tool.records.db import schema_revision

        assert schema_revision(db) == head_revision()


def test_a_tampered_database_is_refused_by_the_upgrade_not_adopted(database_url: str) -> None:
    """A technician promoted by SQL at schema 0006 (users are in the chain from 0003): the
    upgrade to signatures verifies first and refuses, leaving the database as it was."""
    import pytest

    from pharmacist_tool.errors import UserError
    from pharmacist_tool.records.db import schema_revision

    _database_at_0002(database_url)
    url = normalise_url(database_url)
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "0006_record_pack")
            conn.execute(text("UPDATE users SET role = 'pharmacist' WHERE username = 'boss'"))
    finally:
        engine.dispose()
    with pytest.raises(UserError) as caught:
        open_database(database_url)
    assert "does not verify, so it is not upgraded" in str(caught.value)
    assert "'boss' was changed outside pharmacist-tool" in "\n".join(caught.value.details)
    with open_database(database_url, migrate=False) as db:
        assert schema_revision(db) == "0006_record_pack"
