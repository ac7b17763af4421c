"""Signing one record takes at most 20 ms on SQLite (the store path, password already checked).

Measured: ``records.writing.sign_record`` with a finished case, its assessment and a rendered
handout (a real ReportLab PDF of the size the handout has), into an SQLite file with the tool's
settings (WAL, ``synchronous=FULL``: every signature is on disk before the call returns). Each
signature writes the record, its audit event, the chain head and the patient's course rows in
one transaction, and this computer's note of the head; patients take turns, at most 12 fills
each (a year of monthly fills).

Beside it, the floor: the same rows (record with the same bytes, audit event, head, course fill,
what falls due) written with Python's raw ``sqlite3`` (same pragmas, one transaction per call),
timed in turn (A B A B …). The password check (argon2id, slow on
purpose against guessing) is timed on its own and reported apart: the window and ``sign`` pay it
once per signature, on top of the store path.

Run: ``.venv/bin/python benchmarks/bench_sign.py [--runs 1000]``. Set
``PHARMACIST_TOOL_BENCH_POSTGRES`` to a PostgreSQL URL to time that store too (no goal).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import itertools
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import Comparison, paired_call_medians, report
from pharmacist_tool.case import Case, dump_case
from pharmacist_tool.engine.assessment import encode_assessment
from pharmacist_tool.records import reading, service, users, writing
from pharmacist_tool.records.db import open_database
from tests.records.helpers import PASSWORD, assessment_for, finished_case, handout_for

GOAL_MS = 20.0


FILLS_PER_PATIENT = 12
"""A course is about a year of monthly fills: each patient is signed for at most this often, as
at a counter (signing one patient a thousand times would time a course no one has)."""


def _patient(case: Case, n: int) -> Case:
    """The n-th patient: a name and a date of birth of their own."""
    born = case.patient.date_of_birth + dt.timedelta(days=n)
    return msgspec.structs.replace(
        case, patient=msgspec.structs.replace(case.patient, date_of_birth=born)
    )


def _material(runs: int) -> tuple[list[Case], object, reading.StoredHandout]:
    patients = max(1, -(-(runs + 100) // FILLS_PER_PATIENT))
    cases = [_patient(finished_case(f"Ana García {n}"), n) for n in range(patients)]
    # about the size of a real handout: three pages of text, uncompressed (~40 kB)
    handout = handout_for(cases[0], "Isotretinoin: what you need to know, and what to avoid.", 3)
    return cases, assessment_for(cases[0]), handout


def _raw_floor(path: Path) -> sqlite3.Connection:
    """The rows one signature writes, as plain tables: the record, its audit event, the chain
    head, the course fill and what falls due (no hashing, no checks, no ORM)."""
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=FULL"):
        conn.execute(f"PRAGMA {pragma}")
    conn.executescript(
        "CREATE TABLE r (id INTEGER PRIMARY KEY, name TEXT, case_json TEXT, "
        "assessment_json TEXT, pdf BLOB, sha TEXT, row_hash TEXT);"
        "CREATE TABLE e (id INTEGER PRIMARY KEY, record_id INTEGER, detail TEXT, row_hash TEXT);"
        "CREATE TABLE h (id INTEGER PRIMARY KEY, seq INTEGER, hash TEXT);"
        "INSERT INTO h VALUES (1, 0, '');"
        "CREATE TABLE f (record_id INTEGER PRIMARY KEY, patient TEXT, born TEXT, mg REAL);"
        "CREATE TABLE d (id INTEGER PRIMARY KEY, patient TEXT, what TEXT, due_on TEXT);"
        "CREATE INDEX d_patient ON d (patient);"
    )
    return conn


def _raw_signature(raw: sqlite3.Connection, name: str, case_json: str, assessment_json: str,
                   pdf: bytes) -> None:  # fmt: skip
    raw.execute("BEGIN IMMEDIATE")
    seq = raw.execute("SELECT seq FROM h WHERE id = 1").fetchone()[0] + 1
    sha = hashlib.sha256(pdf).hexdigest()
    cursor = raw.execute(
        "INSERT INTO r (name, case_json, assessment_json, pdf, sha, row_hash) VALUES (?,?,?,?,?,?)",
        (name, case_json, assessment_json, pdf, sha, sha),
    )
    record = cursor.lastrowid
    raw.execute("INSERT INTO e (record_id, detail, row_hash) VALUES (?,?,?)", (record, "{}", sha))
    raw.execute("UPDATE h SET seq = ?, hash = ? WHERE id = 1", (seq, sha))
    raw.execute("INSERT INTO f VALUES (?,?,?,?)", (record, name, "2000-01-01", 1200.0))
    raw.execute("DELETE FROM d WHERE patient = ?", (name,))
    raw.execute("INSERT INTO d (patient, what, due_on) VALUES (?,?,?)", (name, "next", "2026"))
    raw.execute("COMMIT")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1000)
    runs = parser.parse_args().runs
    cases, assessment, handout = _material(runs)
    case = cases[0]
    case_json = dump_case(case).decode()  # type: ignore[arg-type]
    assessment_json = encode_assessment(assessment).decode()  # type: ignore[arg-type]
    comparisons: list[Comparison] = []
    with tempfile.TemporaryDirectory() as folder:
        db = open_database(f"sqlite:///{Path(folder) / 'bench.sqlite3'}")
        users.create_first_admin(db, "rosei", PASSWORD, full_name="Rita Osei", role="pharmacist")
        start = time.perf_counter()
        signer = users.authenticate(db, "rosei", PASSWORD, purpose="sign")
        argon2_times = [time.perf_counter() - start]
        for _ in range(9):
            start = time.perf_counter()
            users.authenticate(db, "rosei", PASSWORD, purpose="sign")
            argon2_times.append(time.perf_counter() - start)
        raw = _raw_floor(Path(folder) / "floor.sqlite3")

        turn = itertools.count()

        def subject() -> None:
            patient = cases[next(turn) % len(cases)]
            writing.sign_record(db, signer, patient, assessment, handout)  # type: ignore[arg-type]

        def floor() -> None:
            _raw_signature(raw, case.patient.name, case_json, assessment_json, handout.pdf)

        sign_s, floor_s = paired_call_medians(subject, floor, runs=runs, warmup=20)
        report_ = service.verify(db)
        assert report_.intact, report_.problems[:5]
        db.close()
        raw.close()
    sign_ms, floor_ms = sign_s * 1000, floor_s * 1000
    comparisons.append(
        Comparison("sign one record, SQLite (median)", sign_ms, GOAL_MS, "goal", "ms", 1.0)
    )
    comparisons.append(
        Comparison(
            "sign one record vs the same rows via sqlite3", sign_ms, floor_ms, "raw", "ms", 15.0
        )
    )
    print(f"# {runs} signatures; handout {len(handout.pdf)} bytes; chain verified intact")
    argon2_ms = statistics.median(argon2_times) * 1000
    print(
        f"# argon2id password check (once per signature, slow on purpose): median "
        f"{argon2_ms:.0f} ms of {len(argon2_times)}; "
        f"a signature at the counter costs about {argon2_ms + sign_ms:.0f} ms"
    )
    pg = os.environ.get("PHARMACIST_TOOL_BENCH_POSTGRES")
    if pg:
        _postgres(pg, case, assessment, handout, min(runs, 300))
    return report(comparisons)


def _postgres(
    url: str, case: object, assessment: object, handout: reading.StoredHandout, runs: int
) -> None:
    import uuid
    from urllib.parse import quote

    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")  # type: ignore[arg-type]
    try:
        sep = "&" if "?" in url else "?"
        db = open_database(f"{url}{sep}options={quote(f'-csearch_path={schema}')}")
        info = users.create_first_admin(db, "rosei", PASSWORD, role="pharmacist")
        signer = users.authenticate(db, info.username, PASSWORD, purpose="sign")
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            writing.sign_record(db, signer, case, assessment, handout)  # type: ignore[arg-type]
            times.append(time.perf_counter() - start)
        db.close()
        median_ms = statistics.median(times) * 1000
        print(f"# PostgreSQL: sign one record, median {median_ms:.2f} ms of {runs}")
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")  # type: ignore[arg-type]


if __name__ == "__main__":
    raise SystemExit(main())
