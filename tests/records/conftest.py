"""Each records test gets its own database: an SQLite file, and a PostgreSQL schema of its own
(dropped afterwards) when ``PHARMACIST_TOOL_TEST_POSTGRES`` names a server."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from pharmacist_tool.records.db import Database, open_database
from pharmacist_tool.records.users import (
    AuthenticatedUser,
    add_user,
    authenticate,
    create_first_admin,
)
from tests.records.helpers import PASSWORD

POSTGRES_ENV = "PHARMACIST_TOOL_TEST_POSTGRES"
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


def _pg_admin_url() -> str:
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(
            f"PostgreSQL tests need {POSTGRES_ENV} (e.g. postgresql://postgres@127.0.0.1/test)"
        )
    return url


def _pg_exec(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def new_database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A URL to a database no other test sees; removed afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / f'records-{uuid.uuid4().hex[:8]}.sqlite3'}"
        return
    base = _pg_admin_url()
    schema = f"t_{uuid.uuid4().hex[:16]}"
    _pg_exec(base, f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        _pg_exec(base, f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from new_database_url(request.param, tmp_path)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = open_database(database_url)
    yield database
    database.close()


def signed_in(db: Database, info: object, password: str = PASSWORD) -> AuthenticatedUser:
    """The user signed in with their password (which opens their signing key)."""
    return authenticate(db, info.username, password, purpose="admin")  # type: ignore[attr-defined]


@pytest.fixture
def admin(db: Database) -> AuthenticatedUser:
    return signed_in(db, create_first_admin(db, "boss", PASSWORD, full_name="Pat Boss"))


@pytest.fixture
def pharmacist(db: Database, admin: AuthenticatedUser) -> AuthenticatedUser:
    return signed_in(
        db, add_user(db, admin, "rosei", "pharmacist", PASSWORD, full_name="Rita Osei")
    )
