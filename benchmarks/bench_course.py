"""The course across visits at scale: 100,000 signed records from 10,000 patients.

- ``course`` for one patient (``find_course`` by programme id: the session, the one indexed
  query, the fills, the cumulative dose and dates) vs the same SQL through the database driver
  (``sqlite3`` / ``psycopg``, rows fetched, nothing else): goal <= 2x;
- the first page of ``due`` (``due_items``, 100 rows) vs the same SQL through the driver:
  goal <= 2x.

The records are bulk-inserted with their real hash chain, and their course index rows are made
by the same functions signing uses (``fill_values``, ``due_for``).

    .venv/bin/python benchmarks/bench_course.py [--patients 10000] [--fills 10]
        [--database postgresql://...]   # default: a new SQLite file
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import random
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import msgspec
from sqlalchemy import insert

from benchmarks.common import Comparison, paired_call_medians, report
from pharmacist_tool.case import Course, Outcome, dump_case, load_case
from pharmacist_tool.engine import assess
from pharmacist_tool.engine.assessment import encode_assessment
from pharmacist_tool.knowledge import load_knowledge_base
from pharmacist_tool.records import chain
from pharmacist_tool.records import course as course_records
from pharmacist_tool.records.db import Database, open_database
from pharmacist_tool.records.models import CourseDue, CourseFill, Record
from pharmacist_tool.records.reading import fold_name
from pharmacist_tool.records.users import create_first_admin

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "tests" / "fixtures" / "examples" / "01-routine-can-get-pregnant.json"
FIRST = ["Ana", "Luis", "Maria", "John", "Priya", "Chloé", "Tomás", "Olivia", "Wei", "Fatima"]
LAST = ["García", "Smith", "Nguyen", "Müller", "O'Connor", "Rossi", "Kowalski", "Haddad", "Kim"]
ON = dt.date(2026, 3, 2)


def build(db: Database, patients: int, fills: int) -> None:
    """``patients`` x ``fills`` monthly records, signed in date order, with their course rows."""
    create_first_admin(db, "ana", "correct horse battery staple", full_name="Ana Pharmacist",
                       role="pharmacist")  # fmt: skip
    kb = load_knowledge_base()
    base = load_case(EXAMPLE)
    rng = random.Random(13)
    visits: list[tuple[dt.date, int, int]] = []  # (day, patient, fill number)
    people = []
    for p in range(patients):
        start = dt.date(2025, 1, 1) + dt.timedelta(days=rng.randrange(420))
        born = dt.date(1980, 1, 1) + dt.timedelta(days=rng.randrange(9000))
        name = f"{rng.choice(LAST)} {rng.choice(FIRST)} {p}"
        people.append((name, born, f"IP-{p:07d}"))
        for k in range(fills):
            visits.append((start + dt.timedelta(days=30 * k), p, k + 1))
    visits.sort()
    assessments: dict[tuple[dt.date, int], str] = {}
    pdf = b"%PDF-1.4\n" + bytes(random.Random(1).randbytes(3_000)) + b"\n%%EOF\n"
    pdf_sha = hashlib.sha256(pdf).hexdigest()
    with db.session(write=True) as session:
        head = chain.lock_head(session)
        seq, prev = head.seq, head.hash
        records: list[dict[str, Any]] = []
        course_rows: list[dict[str, Any]] = []
        by_patient: dict[int, list[course_records.Fill]] = {}
        for i, (day, p, number) in enumerate(visits, start=1):
            name, born, pid = people[p]
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
                assessments[key] = encode_assessment(assess(case, kb)).decode()
            assessment_json = assessments[key]
            seq += 1
            values = {
                "id": i, "seq": seq, "prev_hash": prev,
                "signed_at": dt.datetime.combine(day, dt.time(9), dt.UTC), "user_id": 1,
                "signer_username": "ana", "signer_full_name": "Ana Pharmacist",
                "signer_role": "pharmacist",
                "signature_meaning": "Counselled the patient and approved hand-over",
                "prepared_by": None, "workstation": "bench", "app_version": "bench",
                "patient_name": name, "patient_name_key": fold_name(name),
                "patient_date_of_birth": born, "counselled_on": day,
                "rule_set": base.rule_set, "medicine": base.prescription.medicine,
                "outcome": "handed-over", "outcome_reason": "", "dispense": "ok",
                "knowledge_base_version": "bench", "rules_version": "bench",
                "rules_effective_from": dt.date(2025, 1, 1),
                "case_json": dump_case(case).decode(), "assessment_json": assessment_json,
                "handout_pdf": pdf, "handout_sha256": pdf_sha,
                "handout_template_version": "bench", "handout_language": "en",
                "handout_large_print": False, "handout_paper": "A4", "handout_source": "rendered",
            }  # fmt: skip
            values["row_hash"] = prev = chain.row_hash("records", values)
            records.append(values)
            fill = course_records.fill_values(case, json.loads(assessment_json))
            course_rows.append({"record_id": i, "amendment_id": None, **fill})
            by_patient.setdefault(p, []).append(
                course_records.Fill(record_id=i, amendment_id=None, **fill)
            )
            if len(records) == 5000:
                session.execute(insert(Record), records)
                session.execute(insert(CourseFill), course_rows)
                records, course_rows = [], []
        if records:
            session.execute(insert(Record), records)
            session.execute(insert(CourseFill), course_rows)
        head.seq, head.hash, head.table, head.id = seq, prev, "records", len(visits)
        chain.store_head(session, head)
        due_rows = []
        for p, patient_fills in by_patient.items():
            name, born, pid = people[p]
            for what, due_on, source in course_records.due_for(patient_fills):
                due_rows.append(
                    {"patient_key": f"id:{pid}", "what": what, "due_on": due_on,
                     "shown_until": due_on + dt.timedelta(days=course_records.OVERDUE_SHOWN_DAYS),
                     "record_id": source.record_id, "patient_name": name,
                     "patient_date_of_birth": born, "programme_id": pid}
                )  # fmt: skip
        for start in range(0, len(due_rows), 5000):
            session.execute(insert(CourseDue), due_rows[start : start + 5000])
    with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            conn.exec_driver_sql("ANALYZE")
        else:
            conn.exec_driver_sql("ANALYZE")


def driver_floor(db: Database, url: str) -> tuple[Any, Any, Any]:
    """(connection, course query, due query) through the driver itself, for the floors."""
    if db.dialect == "sqlite":
        conn = sqlite3.connect(str(db.sqlite_path))

        def course_q(pid: str) -> list[Any]:
            return conn.execute(course_records.BY_PROGRAMME_ID_SQL, {"pid": pid}).fetchall()

        def due_q(params: dict[str, Any]) -> list[Any]:
            iso = {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in params.items()}
            return conn.execute(course_records.DUE_SQL, iso).fetchall()

        return conn, course_q, due_q
    import psycopg

    pg = psycopg.connect(db.engine.url.render_as_string(hide_password=False).replace(
        "postgresql+psycopg://", "postgresql://"), autocommit=True)  # fmt: skip

    def to_pg(sql: str) -> str:
        for name in ("pid", "until", "on", "limit", "offset"):
            sql = sql.replace(f":{name}", f"%({name})s")
        return sql

    course_sql, due_sql = to_pg(course_records.BY_PROGRAMME_ID_SQL), to_pg(course_records.DUE_SQL)

    def pg_course(pid: str) -> list[Any]:
        return pg.execute(course_sql, {"pid": pid}).fetchall()  # type: ignore[arg-type]

    def pg_due(params: dict[str, Any]) -> list[Any]:
        return pg.execute(due_sql, params).fetchall()  # type: ignore[arg-type]

    return pg, pg_course, pg_due


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--fills", type=int, default=10)
    parser.add_argument("--database", metavar="URL", help="a PostgreSQL server (a new schema)")
    args = parser.parse_args()
    schema = None
    if args.database:
        import psycopg

        schema = f"bench_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(args.database, autocommit=True) as admin:
            admin.execute(f"CREATE SCHEMA {schema}")  # type: ignore[arg-type]
        separator = "&" if "?" in args.database else "?"
        url = f"{args.database}{separator}options={quote(f'-csearch_path={schema}')}"
    else:
        folder = Path(tempfile.mkdtemp(prefix="bench-course-"))
        url = f"sqlite:///{folder / 'records.sqlite3'}"
    try:
        db = open_database(url)
        began = time.perf_counter()
        build(db, args.patients, args.fills)
        total = args.patients * args.fills
        print(f"built {total:,} signed records of {args.patients:,} patients in "
              f"{time.perf_counter() - began:.1f} s ({db.dialect})")  # fmt: skip
        conn, course_q, due_q = driver_floor(db, url)
        rng = random.Random(5)
        pids = [f"IP-{rng.randrange(args.patients):07d}" for _ in range(64)]
        turn = iter(range(10**9))

        def ours_course() -> object:
            return course_records.find_course(db, programme_id=pids[next(turn) % len(pids)])

        floor_turn = iter(range(10**9))

        def floor_course() -> object:
            return course_q(pids[next(floor_turn) % len(pids)])

        found = course_records.find_course(db, programme_id=pids[0])
        assert len(found.fills) == args.fills, len(found.fills)
        course_ours, course_floor = paired_call_medians(ours_course, floor_course, runs=200)

        params = {"until": ON + dt.timedelta(days=7), "on": ON, "limit": 100, "offset": 0}
        page = course_records.due_items(db, ON, 7, limit=100)
        assert len(page) == 100 == len(due_q(params)), len(page)

        def ours_due() -> object:
            return course_records.due_items(db, ON, 7, limit=100)

        def floor_due() -> object:
            return due_q(params)

        due_ours, due_floor = paired_call_medians(ours_due, floor_due, runs=200)
        conn.close()
        db.close()
    finally:
        if schema:
            import psycopg

            with psycopg.connect(args.database, autocommit=True) as admin:
                admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")  # type: ignore[arg-type]
    return report(
        [
            Comparison(f"course, one patient ({db.dialect})", course_ours * 1000,
                       course_floor * 1000, "same SQL via the driver", "ms", 2.0),
            Comparison(f"due, first page of 100 ({db.dialect})", due_ours * 1000,
                       due_floor * 1000, "same SQL via the driver", "ms", 2.0),
        ]
    )  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
