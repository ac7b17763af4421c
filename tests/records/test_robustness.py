"""Crash safety (a signing process killed with SIGKILL at random moments) and concurrency (two
processes signing into one database): the chain stays whole and intact."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from pharmacist_tool.records import reading, service, users
from pharmacist_tool.records.db import open_database
from pharmacist_tool.records.models import AuditEvent, Record
from tests.records.helpers import PASSWORD

REPO = Path(__file__).resolve().parents[2]
KILLS = 200


def _worker(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.records.worker", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def _finish(proc: subprocess.Popen[bytes], timeout: float) -> str:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err.decode(errors="replace")[-3000:]
    return out.decode().strip()


def _setup_pharmacist(url: str) -> None:
    with open_database(url) as db:
        users.create_first_admin(db, "rosei", PASSWORD, full_name="Rita Osei", role="pharmacist")


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork (POSIX)")
def test_sigkill_at_random_moments_leaves_whole_records(tmp_path: Path) -> None:
    path = tmp_path / "crash.sqlite3"
    url = f"sqlite:///{path}"
    _setup_pharmacist(url)
    start = time.monotonic()
    killed = _finish(_worker("crash", url, "rosei", PASSWORD, str(KILLS), "20261125"), 300)
    assert int(killed) == KILLS
    assert time.monotonic() - start < 300

    with open_database(url) as db:
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
        with db.session() as session:
            records = session.execute(select(Record.id)).scalars().all()
            signs = session.execute(
                select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "sign")
            ).scalar_one()
        assert len(records) > 0, "no child lived long enough to sign: the kills are too early"
        assert signs == len(records)
        with db.session() as session:
            for detail in reading.iter_records(session, include_handout=True, batch=100):
                assert detail.handout_pdf is not None
                assert hashlib.sha256(detail.handout_pdf).hexdigest() == detail.handout_sha256
                assert detail.case.outcome is not None
                assert json.loads(detail.assessment_json)["dispense"] == "ok"
        report = service.verify(db)
        assert report.intact, report.problems
    print(f"{KILLS} kills, {len(records)} whole records")


@pytest.mark.slow
def test_two_processes_sign_a_thousand_records_each(database_url: str) -> None:
    _setup_pharmacist(database_url)
    workers = [_worker("sign", database_url, "rosei", PASSWORD, "1000") for _ in range(2)]
    assert [_finish(w, 600) for w in workers] == ["1000", "1000"]
    with open_database(database_url) as db:
        report = service.verify(db)
        assert report.intact, report.problems[:10]
        assert report.counts["records"] == 2000
        assert report.counts["audit_events"] == 2000 + 1  # + the user's creation
        with db.session() as session:
            ids = session.execute(select(Record.id).order_by(Record.id)).scalars().all()
            assert ids == list(range(1, 2001))
            if db.dialect == "sqlite":
                check = session.execute(text("PRAGMA integrity_check")).scalar_one()
                assert check == "ok"


@pytest.mark.slow
def test_verify_in_a_loop_while_four_counters_sign_raises_no_false_alarm(
    database_url: str,
) -> None:
    """4 processes x 250 signatures while verify runs again and again: each verify reads one
    snapshot, so a signature committed halfway through is either wholly seen or not at all."""
    _setup_pharmacist(database_url)
    workers = [_worker("sign", database_url, "rosei", PASSWORD, "250") for _ in range(4)]
    runs, alarms = 0, []
    with open_database(database_url) as db:
        while any(w.poll() is None for w in workers):
            report = service.verify(db)
            runs += 1
            if not report.intact:
                alarms.append([str(p) for p in report.problems[:5]])
        assert [_finish(w, 600) for w in workers] == ["250"] * 4
        final = service.verify(db)
    assert alarms == [], alarms[:3]
    assert runs >= 2, "the signing finished before verify could run twice"
    assert final.intact and final.counts["records"] == 1000
    print(f"{runs} verify runs while signing, 0 false alarms")
