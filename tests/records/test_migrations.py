"""Creating, migrating and refusing databases; SQLite hardening; database URLs."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, text

from pharmacist_tool import paths
from pharmacist_tool.errors import UserError
from pharmacist_tool.records import service, users, writing
from pharmacist_tool.records.db import (
    alembic_config,
    head_revision,
    normalise_url,
    open_database,
    schema_revision,
)
from pharmacist_tool.records.models import Base
from tests.records.helpers import PASSWORD, assessment_for, finished_case, handout_for


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_default_database_is_a_private_wal_file_in_the_data_folder(
    isolated_home: Path,
) -> None:
    with open_database() as db:
        path = db.sqlite_path
        assert path == paths.data_dir() / "records.sqlite3"
        assert path is not None and path.is_relative_to(isolated_home)
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar_one() == 2  # FULL
        assert schema_revision(db) == head_revision()
        users.create_first_admin(db, "boss", PASSWORD)
        for suffix in ("", "-wal", "-shm"):
            sidecar = path.with_name(path.name + suffix)
            if sidecar.exists():
                assert _mode(sidecar) == 0o600, sidecar
    assert _mode(path.parent) == 0o700


def test_an_existing_file_open_to_others_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    sqlite3.connect(path).close()
    path.chmod(0o644)
    with open_database(f"sqlite:///{path}"):
        pass
    assert _mode(path) == 0o600


def test_the_migrations_build_the_same_schema_as_the_models(database_url: str) -> None:
    url = normalise_url(database_url)
    if url.get_backend_name() == "sqlite":
        Path(url.database or "").touch(mode=0o600)
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "head")
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
            head = conn.execute(text("SELECT seq, head_hash FROM chain_head")).one()
            assert tuple(head) == (0, "0" * 64)
    finally:
        engine.dispose()
    with open_database(database_url) as db:  # a migrated database opens without change
        admin = users.create_first_admin(db, "rosei", PASSWORD, role="pharmacist")
        signer = users.authenticate(db, admin.username, PASSWORD, purpose="admin")
        case = finished_case()
        writing.sign_record(db, signer, case, assessment_for(case), handout_for(case))
        with db.engine.connect() as conn:  # the append-only triggers came with the migration
            with pytest.raises(Exception, match="append-only"):
                conn.execute(text("DELETE FROM records"))
            conn.rollback()
        assert service.verify(db).intact


def test_an_older_database_is_backed_up_then_upgraded(tmp_path: Path) -> None:
    """A database at the first schema, with a signed record, moves to the newest schema."""
    path = tmp_path / "old.sqlite3"
    url = f"sqlite:///{path}"
    path.touch(mode=0o600)
    engine = create_engine(url)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0001")
    engine.dispose()
    assert head_revision() != "0001"
    with open_database(url) as db:
        assert schema_revision(db) == head_revision()
        admin = users.create_first_admin(db, "rosei", PASSWORD, role="pharmacist")
        signer = users.authenticate(db, admin.username, PASSWORD, purpose="admin")
        case = finished_case()
        writing.sign_record(db, signer, case, assessment_for(case), handout_for(case))
        assert service.verify(db).intact
    (backup,) = tmp_path.glob(f"old.before-0001-to-{head_revision()}-*.sqlite3")
    assert _mode(backup) == 0o600
    with sqlite3.connect(backup) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == ("0001",)


def test_a_fresh_database_needs_no_backup(tmp_path: Path) -> None:
    with open_database(f"sqlite:///{tmp_path / 'new.sqlite3'}"):
        pass
    assert [p.name for p in tmp_path.iterdir() if "before" in p.name] == []


def test_a_database_from_a_newer_version_is_refused_and_left_alone(database_url: str) -> None:
    with open_database(database_url) as db, db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    with pytest.raises(UserError, match="newer version of pharmacist-tool") as caught:
        open_database(database_url)
    assert "9999_future" in str(caught.value)
    with open_database(database_url, migrate=False) as db:
        assert schema_revision(db) == "9999_future"


def test_a_database_made_by_something_else_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE records (x INTEGER)")
    with pytest.raises(UserError, match="not made by pharmacist-tool"):
        open_database(f"sqlite:///{path}")


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("postgresql://u@db.example:5432/rx", "postgresql+psycopg"),
        ("postgres://u@db.example/rx", "postgresql+psycopg"),
        ("postgresql+psycopg://u@db.example/rx", "postgresql+psycopg"),
        ("sqlite:///x.sqlite3", "sqlite"),
    ],
)
def test_database_urls(url: str, driver: str) -> None:
    assert normalise_url(url).drivername == driver


@pytest.mark.parametrize(
    ("url", "message"),
    [("not a url", "not valid"), ("mysql://u@h/db", "not supported")],
)
def test_bad_database_urls_are_explained(url: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        normalise_url(url)


def test_an_unreachable_server_is_explained() -> None:
    with pytest.raises(UserError, match="Cannot open the records database"):
        open_database("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")


def test_a_failed_migration_leaves_no_copy_and_the_database_as_it_was(tmp_path: Path) -> None:
    """Each failed start used to leave another full copy of every record beside the database."""
    path = tmp_path / "old.sqlite3"
    url = f"sqlite:///{path}"
    path.touch(mode=0o600)
    engine = create_engine(url)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0001")
        conn.execute(text("ALTER TABLE chain_head ADD COLUMN head_table VARCHAR(30)"))  # in the way
    engine.dispose()
    for _ in range(3):
        with pytest.raises(UserError):
            open_database(url)
    assert [p.name for p in tmp_path.iterdir() if ".before-" in p.name] == []
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == ("0001",)


def test_copies_before_migrations_are_private_and_bounded(tmp_path: Path) -> None:
    from pharmacist_tool.records.db import KEEP_COPIES

    path = tmp_path / "old.sqlite3"
    url = f"sqlite:///{path}"
    path.touch(mode=0o600)
    engine = create_engine(url)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0001")
    engine.dispose()
    pristine = path.read_bytes()
    for _ in range(KEEP_COPIES + 2):  # the same old database, migrated again and again
        for sidecar in ("-wal", "-shm"):
            Path(f"{path}{sidecar}").unlink(missing_ok=True)
        path.write_bytes(pristine)
        with open_database(url):
            pass
    copies = sorted(tmp_path.glob("old.before-0001-to-*.sqlite3"))
    assert len(copies) == KEEP_COPIES
    assert all(_mode(copy) == 0o600 for copy in copies)
