"""A database from before "one printed name per active user" may hold two active users who
sign under one name. On SQLite and PostgreSQL: ``verify``, ``users list`` and the Users screen
name the clash, neither user can sign until an administrator renames one, and the rename is
chained like every other change to a user."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic import command
from argon2 import PasswordHasher
from sqlalchemy import create_engine

from pharmacist_tool.errors import UserError
from pharmacist_tool.records import reading, service, users, writing
from pharmacist_tool.records.db import alembic_config, normalise_url, open_database
from tests.conftest import run_cli
from tests.records.helpers import PASSWORD, assessment_for, finished_case, handout_for
from tests.records.released import ChainOfThatEra


def _database_before_the_rule(database_url: str, tmp_path: object) -> None:
    """Schema 0002 (users not yet in the chain, no printed-name rule), two active
    pharmacists both printed "Rita Osei", as such a database could hold (each added with its
    chained ``user-added`` event, as that version added users)."""
    url = normalise_url(database_url)
    if url.get_backend_name() == "sqlite":
        from pathlib import Path

        Path(url.database or "").touch(mode=0o600)
    engine = create_engine(url)
    hashed = PasswordHasher().hash(PASSWORD)
    now = dt.datetime(2026, 1, 5, 9, 0)
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "0002")
            rows = ChainOfThatEra(conn, now)
            first = (1, "rosei")
            for uid, name, printed in ((1, "rosei", "Rita Osei"), (2, "rosei2", "rita  OSEI")):
                rows.add_user(uid, name, printed, "pharmacist", hashed, first if uid > 1 else None)
            rows.close(with_newest=True)
    finally:
        engine.dispose()


def _sign(db: object, user: users.AuthenticatedUser) -> int:
    case = finished_case("Ana García")
    return writing.sign_record(db, user, case, assessment_for(case), handout_for(case)).id  # type: ignore[arg-type]


def test_a_shared_printed_name_is_named_and_blocks_signing_until_renamed(
    database_url: str, tmp_path: object
) -> None:
    _database_before_the_rule(database_url, tmp_path)
    with open_database(database_url) as db:  # migrated to the newest schema
        report = service.verify(db)
        assert report.intact, report.problems  # no tampering: the rows are as the tool found them
        (warning,) = report.warnings
        assert "rosei and rosei2 are active and sign as 'Rita Osei'" in warning
        assert "users rename" in warning
        clashes = users.printed_name_clashes(db)
        assert [c.usernames for c in clashes] == [("rosei", "rosei2")]

        for name in ("rosei", "rosei2"):
            signer = users.authenticate(db, name, PASSWORD, purpose="sign")
            with pytest.raises(UserError, match="Not signed: rosei and rosei2 are active"):
                _sign(db, signer)
        assert reading.count_records(db) == 0

        admin = users.authenticate(db, "rosei", PASSWORD, purpose="admin")
        assert admin.is_admin  # migration 0003 gave the first pharmacist the rights
        with pytest.raises(UserError, match="already signs as 'Rita Osei'"):
            users.rename_user(db, admin, "rosei2", "RITA OSEI")
        with pytest.raises(UserError, match="control character"):
            users.rename_user(db, admin, "rosei2", "Rita\x1b[2J Osei")
        users.rename_user(db, admin, "rosei2", "Rita Osei (locum)")

        assert users.printed_name_clashes(db) == []
        second = users.authenticate(db, "rosei2", PASSWORD, purpose="sign")
        record_id = _sign(db, second)
        assert reading.get_record(db, record_id).stored["signer_full_name"] == "Rita Osei (locum)"
        _sign(db, users.authenticate(db, "rosei", PASSWORD, purpose="sign"))
        after = service.verify(db)
        assert after.intact
        # what remains: both keys were made at their first sign-in after signatures began
        assert [w.split("'s signing key")[0] for w in after.warnings] == ["rosei", "rosei2"]
        (event,) = reading.list_events(db, action="printed-name-changed")
        assert event.username == "rosei"


def test_the_command_line_names_the_clash(database_url: str, tmp_path: object) -> None:
    _database_before_the_rule(database_url, tmp_path)
    done = run_cli("--database", database_url, "verify")
    out = done.stdout.decode()
    assert done.returncode == 0, out
    assert "Warning: rosei and rosei2 are active and sign as 'Rita Osei'" in out
    done = run_cli("--database", database_url, "users", "list")
    assert "Warning: rosei and rosei2 are active" in done.stdout.decode()
    done = run_cli(
        "--database", database_url, "users", "rename", "rosei2", "--full-name", "R. Osei",
        "--admin", "rosei", "--password-stdin", input=PASSWORD + "\n",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Printed name changed" in done.stdout.decode()
    done = run_cli("--database", database_url, "verify")
    assert done.returncode == 0 and "sign as" not in done.stdout.decode()
