"""An export's audit event is committed before any byte of it exists: while another process
holds the chain lock the event waits for, no file of the export (no ``.part``, no target) is
there to read; a stopped export is followed by an ``export-abandoned`` event. On SQLite and
PostgreSQL."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pharmacist_tool.exports.files import ExportCancelled
from pharmacist_tool.exports.service import export_records
from pharmacist_tool.records.reading import RecordFilter, list_events
from tests.conftest import example_case
from tests.exports.conftest import Counter, finished, open_counter
from tests.records.conftest import BACKENDS, new_database_url

REPO = Path(__file__).resolve().parents[2]
WATCH_SECONDS = 3.0
"""How long the folder is watched while the lock is held (not a speed goal: before the event
was committed first, a small export's whole ``.part`` appeared within milliseconds)."""


@pytest.fixture(params=BACKENDS)
def shop(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Counter]:
    for url in new_database_url(request.param, tmp_path):
        counter = open_counter(url)
        try:
            yield counter
        finally:
            counter.db.close()


def _hold_chain_lock(counter: Counter) -> Any:
    """Another process's hold on the chain lock (SQLite: the write lock; PostgreSQL: the head
    row), as a counter signing a long record would hold it."""
    db = counter.db
    if db.dialect == "sqlite":
        conn = sqlite3.connect(str(db.sqlite_path), isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        return conn
    import psycopg

    url = db.url.render_as_string(hide_password=False).replace("postgresql+psycopg", "postgresql")
    conn = psycopg.connect(url)
    conn.execute("SELECT seq FROM chain_head WHERE id = 1 FOR UPDATE")
    return conn


def test_no_byte_of_an_export_exists_before_its_audit_event(
    shop: Counter, tmp_path: Path, isolated_home: Path
) -> None:
    for i in range(50):
        shop.sign(finished(example_case("01"), name=f"Patient {i}"))
    out = tmp_path / "out"
    out.mkdir()
    target = out / "all.csv"
    lock = _hold_chain_lock(shop)
    try:
        child = subprocess.Popen(
            [
                *(sys.executable, "-m", "pharmacist_tool", "--database", str(shop.db.url)),
                *("export", "--format", "csv", "-o", str(target)),
            ],
            cwd=REPO,
            env={**os.environ, "PHARMACIST_TOOL_HOME": str(isolated_home)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + WATCH_SECONDS
        while time.monotonic() < deadline and child.poll() is None:
            assert list(out.iterdir()) == [], "export bytes exist before the audit event"
            time.sleep(0.005)
        assert child.poll() is None, "the export did not wait for the chain lock"
        assert [e for e in list_events(shop.db, action="export")] == []
    finally:
        if shop.db.dialect == "sqlite":
            lock.execute("ROLLBACK")
        else:
            lock.rollback()
        lock.close()
    _, err = child.communicate(timeout=120)
    assert child.returncode == 0, err
    (event,) = list_events(shop.db, action="export")
    assert event.detail["count"] == 50 and event.detail["file"] == str(target)
    assert target.exists()


def test_a_stopped_export_is_followed_by_an_abandoned_event(shop: Counter, tmp_path: Path) -> None:
    shop.sign(finished(example_case("01")))
    target = tmp_path / "stopped.json"
    with pytest.raises(ExportCancelled):
        export_records(
            shop.db, "json", target, RecordFilter(), username="ana", cancelled=lambda: True
        )
    assert not target.exists()
    assert [p for p in tmp_path.iterdir() if p.name.endswith(".part")] == []
    (announced,) = list_events(shop.db, action="export")
    (abandoned,) = list_events(shop.db, action="export-abandoned")
    assert abandoned.detail["file"] == announced.detail["file"] == str(target)
    assert abandoned.detail["why"] == "stopped"
