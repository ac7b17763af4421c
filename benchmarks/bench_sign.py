"""Signing one record takes at most 20 ms on SQLite (the store path, password already checked).

Measured: ``records.writing.sign_record`` with a finished case, its assessment and a rendered
handout (a real ReportLab PDF of the size the handout has), into an SQLite file with the tool's
settings (WAL, ``synchronous=FULL``: every signature is on disk before the call returns). Each
signature writes the record, its audit event and the chain head in one transaction.

Beside it, the floor: the same bytes inserted with Python's raw ``sqlite3`` (same pragmas, one
row and one commit per call), timed in turn (A B A B …). The password check (argon2id, slow on
purpose against guessing) is timed on its own and reported apart: the window and ``sign`` pay it
once per signature, on top of the store path.

Run: ``.venv/bin/python benchmarks/bench_sign.py [--runs 1000]``. Set
``PHARMACIST_TOOL_BENCH_POSTGRES`` to a PostgreSQL URL to time that store too (no goal).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import Comparison, paired_call_medians, report
from pharmacist_tool.case import dump_case
from pharmacist_tool.engine.assessment import encode_assessment
from pharmacist_tool.records import reading, service, users, writing
from pharmacist_tool.records.db import open_database
from tests.records.helpers import PASSWORD, assessment_for, finished_case, handout_for

GOAL_MS = 20.0


def _material() -> tuple[object, object, reading.StoredHandout]:
    case = finished_case("Ana García")
    # about the size of a real handout: three pages of text, uncompressed (~40 kB)
    handout = handout_for(case, "Isotretinoin: what you need to know, and what to avoid.", 3)
    return case, assessment_for(case), handout


def _raw_floor(path: Path, pdf: bytes) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=FULL"):
        conn.execute(f"PRAGMA {pragma}")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS r (id INTEGER PRIMARY KEY, name TEXT, case_json TEXT, "
        "assessment_json TEXT, pdf BLOB, sha TEXT)"
    )
    return conn


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1000)
    runs = parser.parse_args().runs
    case, assessment, handout = _material()
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
        raw = _raw_floor(Path(folder) / "floor.sqlite3", handout.pdf)

        def subject() -> None:
            writing.sign_record(db, signer, case, assessment, handout)  # type: ignore[arg-type]

        def floor() -> None:
            raw.execute("BEGIN IMMEDIATE")
            raw.execute(
                "INSERT INTO r (name, case_json, assessment_json, pdf, sha) VALUES (?,?,?,?,?)",
                (
                    "Ana García",
                    case_json,
                    assessment_json,
                    handout.pdf,
                    hashlib.sha256(handout.pdf).hexdigest(),
                ),
            )
            raw.execute("COMMIT")

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
        Comparison("sign one record vs raw sqlite3 insert", sign_ms, floor_ms, "raw", "ms", 15.0)
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
        signer = users.AuthenticatedUser(info.id, info.username, info.full_name, info.role)
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
