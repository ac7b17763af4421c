"""Tampering with any stored field of a record, an amendment or an audit event, or removing a
row, is caught by verify: field by field, by raw SQL, on SQLite and PostgreSQL.

A determined editor first switches off the append-only triggers and the foreign keys (as these
tests do, inside a transaction that is rolled back); the hash chain still names the row."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from pharmacist_tool.records import chain, service, users, writing
from pharmacist_tool.records.db import Database, open_database
from pharmacist_tool.records.models import CHAINED_TABLES, ChainHead
from tests.records.conftest import BACKENDS, new_database_url, signed_in
from tests.records.helpers import PASSWORD, assessment_for, finished_case, handout_for

TARGET_ID = 2


@pytest.fixture(scope="module", params=BACKENDS)
def filled(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Database]:
    """One database per backend with three records, two amendments and a dozen audit events."""
    urls = new_database_url(request.param, tmp_path_factory.mktemp("tamper"))
    url = next(urls)
    db = open_database(url)
    admin = signed_in(db, users.create_first_admin(db, "boss", PASSWORD, full_name="Pat Boss"))
    rita = signed_in(
        db, users.add_user(db, admin, "rosei", "pharmacist", PASSWORD, full_name="R O")
    )
    for i, name in enumerate(["Ana García", "Bob Stone", "Chen Li"]):
        case = finished_case(name)
        writing.sign_record(db, rita, case, assessment_for(case), handout_for(case, f"h{i}"))
        writing.record_event(db, "print", user=rita, record_id=i + 1, detail={"printer": "P1"})
    for record_id in (1, 2):
        case = finished_case(f"Amended {record_id}")
        writing.amend_record(
            db, record_id, rita, case, assessment_for(case), handout_for(case), "typo"
        )
    writing.record_event(db, "view", user="rosei", record_id=3)
    assert service.verify(db).intact
    yield db
    db.close()
    for _ in urls:  # drop the PostgreSQL schema
        pass


def _unguarded(db: Database) -> Iterator[tuple[Connection, Session]]:
    with db.engine.connect() as conn:
        conn.begin()
        if db.dialect == "sqlite":
            conn.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
            from pharmacist_tool.records.guards import remove_append_only_guards

            remove_append_only_guards(conn)
        else:
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        session = Session(bind=conn)
        try:
            yield conn, session
        finally:
            session.close()
            conn.rollback()


def _altered(table: str, column: str, value: Any) -> Any:
    if value is None:
        return 1 if column.endswith("_id") else "x"
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        if column in ("id", "seq"):
            return value + 1000
        if column in ("user_id", "record_id", "amendment_id"):
            return 1 if value != 1 else 2
        return value + 1
    if isinstance(value, str):
        if not value:
            return "x"
        return value[:-1] + ("A" if value[-1] != "A" else "B")
    if isinstance(value, dt.datetime):
        return value + dt.timedelta(microseconds=1)
    if isinstance(value, dt.date):
        return value + dt.timedelta(days=1)
    if isinstance(value, bytes | memoryview):
        data = bytearray(bytes(value))
        data[-1] ^= 0x01
        return bytes(data)
    raise AssertionError(f"no alteration for {table}.{column} ({type(value).__name__})")


def _broken_rows(report: chain.VerifyReport) -> set[tuple[str, int | None]]:
    return {(p.table, p.id) for p in report.problems}


COLUMNS = [
    pytest.param(table, column.key, id=f"{table}.{column.key}")
    for table, model in CHAINED_TABLES.items()
    for column in model.__table__.columns
]


@pytest.mark.parametrize(("table", "column"), COLUMNS)
def test_altering_any_stored_field_is_caught(filled: Database, table: str, column: str) -> None:
    t = CHAINED_TABLES[table].__table__
    for conn, session in _unguarded(filled):
        current = conn.execute(select(t.c[column]).where(t.c.id == TARGET_ID)).scalar_one()
        new = _altered(table, column, current)
        conn.execute(update(t).where(t.c.id == TARGET_ID).values({column: new}))
        report = chain.verify_chain(session)
        assert not report.intact
        broken = _broken_rows(report)
        assert (table, TARGET_ID) in broken or (table, new) in broken, report.problems
        label = chain.TABLE_LABELS[table]
        assert any(str(p).startswith(f"{label} ") for p in report.problems)


@pytest.mark.parametrize("table", list(CHAINED_TABLES))
@pytest.mark.parametrize("which", ["first", "middle", "last"])
def test_removing_a_row_is_caught(filled: Database, table: str, which: str) -> None:
    t = CHAINED_TABLES[table].__table__
    for conn, session in _unguarded(filled):
        ids = conn.execute(select(t.c.id).order_by(t.c.id)).scalars().all()
        victim = {"first": ids[0], "middle": ids[len(ids) // 2], "last": ids[-1]}[which]
        conn.execute(t.delete().where(t.c.id == victim))
        report = chain.verify_chain(session)
        assert not report.intact
        assert (table, victim) in _broken_rows(report), report.problems
        assert any("removed" in p.message for p in report.problems)


def test_removing_the_newest_entry_and_its_id_shows_at_the_head(filled: Database) -> None:
    t = CHAINED_TABLES["audit_events"].__table__
    for conn, session in _unguarded(filled):
        newest = conn.execute(select(func.max(t.c.seq))).scalar_one()
        conn.execute(t.delete().where(t.c.seq == newest))
        report = chain.verify_chain(session)
        assert any(p.table == "chain_head" and "removed" in p.message for p in report.problems)


@pytest.mark.parametrize("column", ["seq", "head_hash"])
def test_altering_the_chain_head_is_caught(filled: Database, column: str) -> None:
    t = ChainHead.__table__
    for conn, session in _unguarded(filled):
        current = conn.execute(select(t.c[column])).scalar_one()
        conn.execute(update(t).values({column: _altered("chain_head", column, current)}))
        report = chain.verify_chain(session)
        assert any(p.table == "chain_head" for p in report.problems), report.problems


def test_a_forged_row_with_a_valid_hash_but_out_of_order_is_caught(filled: Database) -> None:
    """A copy of record 1 re-hashed by the forger and slotted in after the newest entry."""
    t = CHAINED_TABLES["records"].__table__
    for conn, session in _unguarded(filled):
        row = dict(conn.execute(select(t).where(t.c.id == 1)).mappings().one())
        newest = conn.execute(select(ChainHead.__table__)).mappings().one()
        row.update(id=99, seq=newest["seq"] + 1, prev_hash="f" * 64, patient_name="Forged")
        row["row_hash"] = chain.row_hash("records", row)
        conn.execute(insert(t).values(row))
        report = chain.verify_chain(session)
        problems = [str(p) for p in report.problems]
        assert any(p.startswith("record 99: does not follow") for p in problems), problems


def test_swapping_two_rows_order_is_caught(filled: Database) -> None:
    t = CHAINED_TABLES["records"].__table__
    for conn, session in _unguarded(filled):
        seq1, seq3 = (conn.execute(select(t.c.seq).where(t.c.id == i)).scalar_one() for i in (1, 3))
        conn.execute(update(t).where(t.c.id == 1).values(seq=-1))
        conn.execute(update(t).where(t.c.id == 3).values(seq=seq1))
        conn.execute(update(t).where(t.c.id == 1).values(seq=seq3))
        broken = _broken_rows(chain.verify_chain(session))
        assert {("records", 1), ("records", 3)} <= broken


@pytest.mark.parametrize("table", list(CHAINED_TABLES))
@pytest.mark.parametrize("statement", ["update", "delete"])
def test_the_database_itself_refuses_changes(filled: Database, table: str, statement: str) -> None:
    t = CHAINED_TABLES[table].__table__
    with filled.engine.connect() as conn:
        stmt = t.delete() if statement == "delete" else update(t).values(workstation="elsewhere")
        with pytest.raises(DBAPIError, match="append-only"):
            conn.execute(stmt.where(t.c.id == 1))
        conn.rollback()
    assert service.verify(filled).intact


def test_the_module_database_is_still_intact(filled: Database, tmp_path: Path) -> None:
    assert service.verify(filled).intact
