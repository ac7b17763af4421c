"""Backup while another process signs; restore refuses anything but an intact database."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pharmacist_tool.errors import UserError
from pharmacist_tool.exports.backup import backup_database, restore_database
from pharmacist_tool.records.db import open_database
from pharmacist_tool.records.service import verify
from tests.conftest import run_cli
from tests.exports.conftest import PASSWORD, Counter, finished, open_counter

REPO = Path(__file__).resolve().parents[2]


def test_backup_during_signing_restores_to_a_verified_database(
    counter: Counter, tmp_path: Path
) -> None:
    url = str(counter.db.url)
    counter.sign(finished(_case()))
    stop = tmp_path / "stop"
    signer = subprocess.Popen(
        [sys.executable, "-m", "tests.exports.signing_loop", url, str(stop)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert signer.stdout is not None
        signer.stdout.readline()  # the loop is signing
        backups = []
        for i in range(3):
            backups.append(backup_database(url, tmp_path / f"backup-{i}.sqlite3"))
            time.sleep(0.05)
    finally:
        stop.touch()
        _, err = signer.communicate(timeout=60)
    assert signer.returncode == 0, err.decode()
    assert backups[-1].records > 1

    taken = backups[-1]
    restored_url = f"sqlite:///{tmp_path / 'restored.sqlite3'}"
    result = restore_database(restored_url, taken.path, counter.signer)
    assert result.previous_copy is None
    with open_database(restored_url) as db:
        report = verify(db)
        assert report.intact, report.problems
        assert report.counts["records"] == taken.records
    done = run_cli("--database", restored_url, "verify")
    assert done.returncode == 0, done.stderr


def test_restore_keeps_a_copy_and_replaces_the_live_database(
    counter: Counter, tmp_path: Path
) -> None:
    url = str(counter.db.url)
    counter.sign(finished(_case()))
    early = backup_database(url, tmp_path / "early.sqlite3")
    counter.sign(finished(_case()))
    later = backup_database(url, tmp_path / "later.sqlite3")
    live_url = f"sqlite:///{tmp_path / 'counter-2.sqlite3'}"
    assert restore_database(live_url, early.path, counter.signer).previous_copy is None
    with open_database(live_url) as window:  # a window has the database open
        assert verify(window).counts["records"] == 1
        with pytest.raises(UserError, match="audit event 3: restore by ana"):
            restore_database(live_url, later.path, counter.signer)  # lacks that restore
        newer = backup_database(live_url, tmp_path / "newer.sqlite3").path
        Counter(window, counter.signer).sign(finished(_case()))  # newer: behind by one record
        with pytest.raises(UserError, match="1 signed record and 1 audit event would be lost"):
            restore_database(live_url, newer, counter.signer)
        again = backup_database(live_url, tmp_path / "again.sqlite3")
        result = restore_database(live_url, again.path, counter.signer)  # holds every entry
        assert result.previous_copy is not None and result.previous_copy.exists()
        with open_database(live_url) as db:
            assert verify(db).counts["records"] == 2
            assert verify(db).intact
        # the window's open connection sees the restored database
        assert verify(window).counts["records"] == 2


def test_restore_refuses_what_is_not_an_intact_database_of_this_tool(
    counter: Counter, tmp_path: Path
) -> None:
    url = str(counter.db.url)
    counter.sign(finished(_case()))
    before = Path(counter.db.url.database).read_bytes()  # type: ignore[arg-type]

    text = tmp_path / "notes.txt"
    text.write_text("not a database")
    other = tmp_path / "other.sqlite3"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    unknown = tmp_path / "future.sqlite3"
    backup_database(url, unknown)
    with sqlite3.connect(unknown) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'fffffffffff'")
    tampered = tmp_path / "tampered.sqlite3"
    backup_database(url, tampered)
    with sqlite3.connect(tampered) as conn:
        conn.execute("DROP TRIGGER IF EXISTS records_no_update")
        conn.execute("UPDATE records SET patient_name = 'Someone Else'")
    truncated = tmp_path / "truncated.sqlite3"
    data = (tmp_path / "future.sqlite3").read_bytes()
    truncated.write_bytes(data[: len(data) // 2])

    cases = {
        text: "not an SQLite database",
        other: "no schema version",
        unknown: "schema version fffffffffff",
        tampered: "does not pass verification",
        truncated: "",
        tmp_path / "missing.sqlite3": "does not exist",
    }
    for path, words in cases.items():
        with pytest.raises(UserError) as caught:
            restore_database(url, path, counter.signer)
        assert words in str(caught.value), (path.name, str(caught.value))
    assert "record 1" in str(_restore_error(url, tampered, counter))
    assert Path(counter.db.url.database).read_bytes() == before  # type: ignore[arg-type]
    done = run_cli(
        "--database", url, "restore", str(tampered), "--admin", "ana", "--password-stdin",
        input=PASSWORD + "\n",
    )  # fmt: skip
    assert done.returncode == 2 and b"does not pass verification" in done.stderr


def test_postgres_is_pg_dumps_job(tmp_path: Path) -> None:
    done = run_cli(
        "--database", "postgresql://u@127.0.0.1:1/x", "backup", "-o", str(tmp_path / "b")
    )
    assert done.returncode == 2
    assert b"pg_dump" in done.stderr


def test_backup_command(tmp_path: Path) -> None:
    c = open_counter(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    c.sign(finished(_case()))
    c.db.close()
    done = run_cli("--database", str(c.db.url), "backup", "-o", str(tmp_path / "b.sqlite3"))
    assert done.returncode == 0, done.stderr
    assert b"Backed up 1 records" in done.stdout


def _restore_error(url: str, path: Path, counter: Counter) -> UserError:
    try:
        restore_database(url, path, counter.signer)
    except UserError as error:
        return error
    raise AssertionError("restore did not refuse")


def _case():  # type: ignore[no-untyped-def]
    from tests.conftest import example_case

    return example_case("01")
