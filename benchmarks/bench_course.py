"""The course across visits at scale: 100,000 signed records from 10,000 patients.

- ``course`` for one patient (``find_course`` by programme id: the one indexed query, the fills,
  the cumulative dose and dates, each fill checked against its signed record) vs the same two
  statements through the database driver (``sqlite3`` / ``psycopg`` on a connection of its own,
  rows fetched, nothing else): goal <= 2x;
- the first page of ``due`` (``due_items``, 100 rows, each checked against its signed record)
  vs the same two statements through the driver: goal <= 2x.

Each check reads the signed texts every time; the fill a text makes is kept with the text
(``course_check.SIGNED_FILLS``), so a text read again is compared rather than decoded again. The
calls repeat the same patients and page, so they mostly compare; ``--cold`` empties the kept fills
before each call, as for a process's first read.

The records carry their real hash chain (``chain.row_hash``, the function signing uses) and
their course index rows are made by the functions signing uses (``fill_values``, ``due_for``);
they are written straight through the driver in one transaction (SQLite ``executemany``,
PostgreSQL ``COPY``), since one ORM insert per row would take minutes. The SQLite file is built
once and kept in the temporary folder, named by the parameters and a digest of this script,
the records code and the example case (``--rebuild`` makes it again); a PostgreSQL schema is
built each run and dropped after.

    .venv/bin/python benchmarks/bench_course.py [--patients 10000] [--fills 10] [--rebuild]
        [--database postgresql://...]   # default: the kept SQLite file
        [--cold]                        # every signed text decoded at every call
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import random
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import msgspec
from sqlalchemy import Table

from benchmarks.common import Comparison, bench_record_values, paired_call_medians, report
from pharmacist_tool.case import Course, Outcome, dump_case, load_case
from pharmacist_tool.engine import assess
from pharmacist_tool.engine.assessment import encode_assessment
from pharmacist_tool.knowledge import load_knowledge_base
from pharmacist_tool.patient_identity import fold_name, programme_key_text
from pharmacist_tool.records import chain, course_check
from pharmacist_tool.records import course as course_records
from pharmacist_tool.records.db import Database, driver_sql, head_revision, open_database
from pharmacist_tool.records.models import ChainHead, CourseDue, CourseFill, Record
from pharmacist_tool.records.users import create_first_admin

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "tests" / "fixtures" / "examples" / "01-routine-can-get-pregnant.json"
FIRST = ["Ana", "Luis", "Maria", "John", "Priya", "Chloé", "Tomás", "Olivia", "Wei", "Fatima"]
LAST = ["García", "Smith", "Nguyen", "Müller", "O'Connor", "Rossi", "Kowalski", "Haddad", "Kim"]
ON = dt.date(2026, 3, 2)
# The course reads none of the handout: a small stand-in keeps the file small.
PDF = b"%PDF-1.4\n" + random.Random(1).randbytes(600) + b"\n%%EOF\n"
PDF_SHA = hashlib.sha256(PDF).hexdigest()

Row = tuple[Any, ...]


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


class Tables:
    """The rows to write, table by table, in the columns' order."""

    def __init__(self) -> None:
        self.rows: dict[Table, list[Row]] = {
            _table(Record): [], _table(CourseFill): [], _table(CourseDue): []
        }  # fmt: skip

    def add(self, model: Any, values: dict[str, Any]) -> None:
        table = _table(model)
        self.rows[table].append(tuple(values.get(c.key) for c in table.columns))


def visits_in_order(patients: int, fills: int) -> tuple[list[tuple[dt.date, int, int]], list[Any]]:
    """Every (day, patient, fill number), oldest first, and each patient's name, birth, id."""
    rng = random.Random(13)
    visits: list[tuple[dt.date, int, int]] = []
    people = []
    for p in range(patients):
        start = dt.date(2025, 1, 1) + dt.timedelta(days=rng.randrange(420))
        born = dt.date(1980, 1, 1) + dt.timedelta(days=rng.randrange(9000))
        name = f"{rng.choice(LAST)} {rng.choice(FIRST)} {p}"
        people.append((name, fold_name(name), born, f"IP-{p:07d}"))
        visits.extend((start + dt.timedelta(days=30 * k), p, k + 1) for k in range(fills))
    visits.sort()
    return visits, people


def make_rows(head: chain.Head, patients: int, fills: int) -> Tables:
    """``patients`` x ``fills`` monthly records signed in date order after ``head``, with their
    course rows, as signing would write them."""
    kb = load_knowledge_base()
    base = load_case(EXAMPLE)
    visits, people = visits_in_order(patients, fills)
    assessments: dict[tuple[dt.date, bool], tuple[str, dict[str, Any]]] = {}
    tables = Tables()
    seq, prev = head.seq, head.hash
    by_patient: dict[int, list[course_records.Fill]] = {}
    for i, (day, p, number) in enumerate(visits, start=1):
        name, name_key, born, pid = people[p]
        case = msgspec.structs.replace(
            base,
            counselled_on=day,
            patient=msgspec.structs.replace(
                base.patient, name=name, date_of_birth=born, programme_id=pid
            ),
            prescription=msgspec.structs.replace(base.prescription, prescribed_on=day),
            pregnancy_tests=[msgspec.structs.replace(base.pregnancy_tests[0], date=day)],
            course=Course(
                fill_number=number,
                cumulative_mg_before=1200.0 * (number - 1),
                previous_fill_on=day - dt.timedelta(days=30) if number > 1 else None,
                last_fill=number == fills,
            ),
            outcome=Outcome(status="handed-over"),
        )
        key = (day, number == fills)
        if key not in assessments:
            text = encode_assessment(assess(case, kb)).decode()
            assessments[key] = (text, json.loads(text))
        assessment_json, assessment = assessments[key]
        seq += 1
        values = bench_record_values(
            id=i, seq=seq, prev_hash=prev,
            signed_at=dt.datetime.combine(day, dt.time(9), dt.UTC),
            patient_name=name, patient_name_key=name_key,
            patient_date_of_birth=born, counselled_on=day,
            rule_set=base.rule_set, medicine=base.prescription.medicine,
            pack=kb.medicine, chain_format=chain.CHAIN_FORMAT,
            case_json=dump_case(case).decode(), assessment_json=assessment_json,
            handout_pdf=PDF, handout_sha256=PDF_SHA,
        )  # fmt: skip
        values["row_hash"] = prev = chain.row_hash("records", values, pdf_sha256=PDF_SHA)
        tables.add(Record, values)
        fill = course_records.fill_values(case, assessment)
        tables.add(CourseFill, {"record_id": i, "amendment_id": None, **fill})
        by_patient.setdefault(p, []).append(
            course_records.Fill(record_id=i, amendment_id=None, **fill)
        )
    head.seq, head.hash, head.table, head.id = seq, prev, "records", len(visits)
    due_id = 0
    for p, patient_fills in by_patient.items():
        name, _, born, pid = people[p]
        for what, due_on, source in course_records.due_for(patient_fills):
            due_id += 1
            shown = due_on + dt.timedelta(days=course_records.OVERDUE_SHOWN_DAYS)
            tables.add(CourseDue, {
                "id": due_id, "patient_key": programme_key_text(pid), "what": what,
                "due_on": due_on, "shown_until": shown, "record_id": source.record_id,
                "patient_name": name, "patient_date_of_birth": born, "programme_id": pid,
            })  # fmt: skip
    return tables


def first_head(db: Database) -> chain.Head:
    """The pharmacist who signs them, and the chain head after her."""
    create_first_admin(db, "ana", "correct horse battery staple", full_name="Ana Pharmacist",
                       role="pharmacist")  # fmt: skip
    with db.session(write=True) as session:
        return chain.lock_head(session)


def _head_sql(head: chain.Head, mark: str) -> tuple[str, tuple[Any, ...]]:
    table = ChainHead.__tablename__
    sql = f"UPDATE {table} SET seq = {mark}, head_hash = {mark}, head_table = {mark}, "
    return sql + f"head_id = {mark} WHERE id = 1", (head.seq, head.hash, head.table, head.id)


def write_sqlite(path: Path, tables: Tables, head: chain.Head) -> None:
    """Every row in one transaction through ``sqlite3``, each value as SQLAlchemy binds it."""
    from sqlalchemy.dialects import sqlite as sqlite_dialect

    dialect = sqlite_dialect.dialect()
    conn = sqlite3.connect(str(path), isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous=OFF")  # a benchmark's scratch file: no crash to survive
        conn.execute("BEGIN IMMEDIATE")
        for table, rows in tables.rows.items():
            processors = [c.type.bind_processor(dialect) for c in table.columns]
            bound = [i for i, f in enumerate(processors) if f is not None]

            def bind(row: Row, bound: list[int] = bound, processors: list[Any] = processors) -> Row:
                values = list(row)
                for i in bound:
                    if values[i] is not None:
                        values[i] = processors[i](values[i])
                return tuple(values)

            names = ", ".join(c.name for c in table.columns)
            marks = ", ".join("?" for _ in table.columns)
            conn.executemany(
                f"INSERT INTO {table.name} ({names}) VALUES ({marks})", map(bind, rows)
            )
        conn.execute(*_head_sql(head, "?"))
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def write_postgresql(url: str, tables: Tables, head: chain.Head) -> None:
    """Every row in one transaction through ``psycopg`` ``COPY``."""
    import psycopg

    with psycopg.connect(url) as conn:
        with conn.cursor() as cursor:
            for table, rows in tables.rows.items():
                names = ", ".join(c.name for c in table.columns)
                with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            cursor.execute(*_head_sql(head, "%s"))
        conn.commit()
        conn.autocommit = True
        conn.execute("ANALYZE")


def driver_url(db: Database) -> str:
    return db.engine.url.render_as_string(hide_password=False).replace(
        "postgresql+psycopg://", "postgresql://"
    )


def build(db: Database, patients: int, fills: int) -> None:
    """Write the records and their course rows into ``db`` (new, empty but for its schema)."""
    head = first_head(db)
    tables = make_rows(head, patients, fills)
    if db.dialect == "sqlite":
        path = db.sqlite_path
        assert path is not None
        db.engine.dispose()
        write_sqlite(path, tables, head)
    else:
        write_postgresql(driver_url(db), tables, head)


def kept_sqlite_file(
    stem: str, sources: Sequence[Path], fill: Callable[[Database], None], rebuild: bool
) -> tuple[Path, float | None]:
    """The SQLite file ``stem`` that ``fill`` makes (built now when missing, when ``sources``
    or the schema changed, or when ``rebuild``), and the seconds building took (``None``: it
    was already there)."""
    digest = hashlib.sha256(f"{stem} {head_revision()}".encode())
    for source in sources:
        digest.update(source.read_bytes())
    folder = Path(tempfile.gettempdir()) / "pharmacist-tool-bench"
    folder.mkdir(mode=0o700, exist_ok=True)
    path = folder / f"{stem}-{digest.hexdigest()[:16]}.sqlite3"
    if path.exists() and not rebuild:
        return path, None
    for stale in folder.glob(f"{stem}-*.sqlite3"):  # made by older code
        stale.unlink(missing_ok=True)
    part = path.with_suffix(f".part-{os.getpid()}")
    began = time.perf_counter()
    try:
        db = open_database(f"sqlite:///{part}")
        fill(db)
        db.close()
        part.replace(path)
    finally:
        for leftover in (part, Path(f"{part}-wal"), Path(f"{part}-shm")):
            leftover.unlink(missing_ok=True)
    return path, time.perf_counter() - began


def kept_sqlite(patients: int, fills: int, rebuild: bool) -> tuple[Path, float | None]:
    """The course database for these parameters (``kept_sqlite_file``)."""
    sources = [
        Path(__file__),
        EXAMPLE,
        *sorted((REPO / "pharmacist_tool" / "records").glob("*.py")),
    ]
    return kept_sqlite_file(
        f"course-{patients}x{fills}", sources, lambda db: build(db, patients, fills), rebuild
    )


Query = Callable[[dict[str, Any]], Sequence[Any]]


def _day(value: Any) -> dt.date:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value  # type: ignore[no-any-return]


def driver_floor(db: Database) -> tuple[Any, Query, Query]:
    """(connection, course query, due query) through the driver itself, on a connection of
    its own kept open (autocommit: one statement, no transaction), for the floors."""
    course_sql = driver_sql(course_records.BY_PROGRAMME_ID_SQL, db.dialect)
    due_sql = driver_sql(course_records.DUE_SQL, db.dialect)
    if db.dialect == "sqlite":
        conn: Any = sqlite3.connect(str(db.sqlite_path), isolation_level=None)

        def iso(params: dict[str, Any]) -> dict[str, Any]:
            return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in params.items()}

    else:
        import psycopg

        conn = psycopg.connect(driver_url(db), autocommit=True)

        def iso(params: dict[str, Any]) -> dict[str, Any]:
            return params

    def course_q(params: dict[str, Any]) -> Sequence[Any]:
        rows = conn.execute(course_sql, iso(params)).fetchall()
        # and the signed records the index rows read are checked against (``course_check``)
        born = {_day(row[5]) for row in rows}
        where = course_check.neighbourhood((row[0] for row in rows), born)
        conn.execute(driver_sql(course_check.sources_sql(where), db.dialect)).fetchall()
        return rows  # type: ignore[no-any-return]

    def due_q(params: dict[str, Any]) -> Sequence[Any]:
        rows = conn.execute(due_sql, iso(params)).fetchall()
        ids = course_check._ids(row[5] for row in rows)
        conn.execute(
            driver_sql(course_check.sources_sql(f"r.id IN ({ids})"), db.dialect)
        ).fetchall()
        return rows  # type: ignore[no-any-return]

    return conn, course_q, due_q


def measure(db: Database, patients: int, fills: int, cold: bool = False) -> list[Comparison]:
    conn, course_q, due_q = driver_floor(db)
    forget = course_check.SIGNED_FILLS.forget if cold else (lambda: None)
    rng = random.Random(5)
    pids = [f"IP-{rng.randrange(patients):07d}" for _ in range(64)]
    ours_turn, floor_turn = iter(range(10**9)), iter(range(10**9))

    def ours_course() -> object:
        forget()
        return course_records.find_course(db, programme_id=pids[next(ours_turn) % len(pids)])

    def floor_course() -> object:
        return course_q({"pid": pids[next(floor_turn) % len(pids)]})

    found = course_records.find_course(db, programme_id=pids[0])
    assert len(found.fills) == fills, len(found.fills)
    course_ours, course_floor = paired_call_medians(ours_course, floor_course, runs=400)

    params = {"until": ON + dt.timedelta(days=7), "on": ON, "limit": 100, "offset": 0}
    page = course_records.due_items(db, ON, 7, limit=100)
    assert len(page) == 100 == len(due_q(params)), len(page)

    def ours_due() -> object:
        forget()
        return course_records.due_items(db, ON, 7, limit=100)

    def floor_due() -> object:
        return due_q(params)

    due_ours, due_floor = paired_call_medians(ours_due, floor_due, runs=400)
    conn.close()
    how = ", cold" if cold else ""
    return [
        Comparison(f"course, one patient ({db.dialect}{how})", course_ours * 1000,
                   course_floor * 1000, "same SQL via the driver", "ms", 2.0),
        Comparison(f"due, first page of 100 ({db.dialect}{how})", due_ours * 1000,
                   due_floor * 1000, "same SQL via the driver", "ms", 2.0),
    ]  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--fills", type=int, default=10)
    parser.add_argument("--database", metavar="URL", help="a PostgreSQL server (a new schema)")
    parser.add_argument("--rebuild", action="store_true", help="build the SQLite file again")
    parser.add_argument(
        "--cold", action="store_true", help="decode every signed text at every call (keep none)"
    )
    args = parser.parse_args()
    total = args.patients * args.fills
    if not args.database:
        path, took = kept_sqlite(args.patients, args.fills, args.rebuild)
        how = f"built in {took:.1f} s" if took is not None else f"kept from an earlier run: {path}"
        print(f"{total:,} signed records of {args.patients:,} patients ({how})")
        with open_database(f"sqlite:///{path}") as db:
            return report(measure(db, args.patients, args.fills, args.cold))
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(args.database, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    try:
        separator = "&" if "?" in args.database else "?"
        url = f"{args.database}{separator}options={quote(f'-csearch_path={schema}')}"
        with open_database(url) as db:
            began = time.perf_counter()
            build(db, args.patients, args.fills)
            print(f"{total:,} signed records of {args.patients:,} patients (built in "
                  f"{time.perf_counter() - began:.1f} s, {db.dialect})")  # fmt: skip
            return report(measure(db, args.patients, args.fills, args.cold))
    finally:
        with psycopg.connect(args.database, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


if __name__ == "__main__":
    raise SystemExit(main())
