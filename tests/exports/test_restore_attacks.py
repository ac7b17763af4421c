"""Restore never drops signed records nor reuses their ids; every copy of the records is private.

The attack: restore an older backup over a live database that has signed newer records. Before,
that succeeded (exit 0, ``verify`` intact) and the dropped records' ids went to other patients.
"""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest

from pharmacist_tool.errors import UserError
from pharmacist_tool.exports.backup import backup_database, restore_database
from pharmacist_tool.records.db import KEEP_COPIES, open_database
from pharmacist_tool.records.reading import list_events
from pharmacist_tool.records.service import verify
from pharmacist_tool.records.writing import record_event
from tests.conftest import example_case, run_cli
from tests.exports.conftest import Counter, finished


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _copies(counter: Counter) -> list[Path]:
    live = Path(str(counter.db.url.database))
    return sorted(live.parent.glob(f"{live.name}.before-restore-*.sqlite3"))


def test_an_older_backup_is_refused_and_no_record_id_is_reused(
    counter: Counter, tmp_path: Path
) -> None:
    url = str(counter.db.url)
    counter.sign(finished(example_case("01")))
    old = backup_database(url, tmp_path / "monday.sqlite3")
    counter.sign(finished(example_case("01"), name="Lucía Fernández"))
    counter.sign(finished(example_case("01"), name="Bob Stone"))
    counter.amend(1, finished(example_case("01"), name="Ana García-López"), "Surname")
    live = Path(str(counter.db.url.database))
    before = live.read_bytes()

    with pytest.raises(UserError) as caught:
        restore_database(url, old.path)
    message = str(caught.value)
    assert "2 signed records and 1 amendment would be lost" in message
    assert "up to number 3" in message
    assert live.read_bytes() == before and _copies(counter) == []

    done = run_cli("--database", url, "restore", str(old.path))
    assert done.returncode == 2
    assert b"2 signed records and 1 amendment would be lost" in done.stderr
    assert verify(counter.db).counts["records"] == 3
    # the next record takes the next number: no id ever goes to another patient
    assert counter.sign(finished(example_case("01"), name="Chen Li")) == 4


def test_a_backup_of_another_database_is_refused(counter: Counter, tmp_path: Path) -> None:
    from tests.exports.conftest import open_counter

    other = open_counter(f"sqlite:///{tmp_path / 'other.sqlite3'}")
    other.sign(finished(example_case("01"), name="Someone Else"))
    other.sign(finished(example_case("01"), name="Someone Else"))
    foreign = backup_database(str(other.db.url), tmp_path / "foreign.sqlite3")
    other.db.close()
    counter.sign(finished(example_case("01")))  # record 1 here is another patient
    with pytest.raises(UserError, match="1 signed record would be lost"):
        restore_database(str(counter.db.url), foreign.path)


def test_a_backup_that_holds_every_record_restores_and_counts_newer_audit_events(
    counter: Counter, tmp_path: Path
) -> None:
    url = str(counter.db.url)
    counter.sign(finished(example_case("01")))
    backup = backup_database(url, tmp_path / "latest.sqlite3")
    record_event(counter.db, "view", user="ana", record_id=1)  # newer than the backup
    done = run_cli("--database", url, "restore", str(backup.path))  # only audit events newer
    assert done.returncode == 0, done.stderr
    (event,) = list_events(counter.db, action="restore")
    assert event.detail["audit_events_not_in_backup"] >= 1
    assert verify(counter.db).intact
    assert counter.sign(finished(example_case("01"))) == 2


def test_a_damaged_live_database_is_replaced_and_kept_privately(
    counter: Counter, tmp_path: Path
) -> None:
    url = str(counter.db.url)
    counter.sign(finished(example_case("01")))
    backup = backup_database(url, tmp_path / "b.sqlite3")
    counter.db.close()
    live = Path(str(counter.db.url.database))
    for sidecar in ("-wal", "-shm"):
        Path(f"{live}{sidecar}").unlink(missing_ok=True)
    live.write_bytes(b"garbage, not a database" * 100)
    result = restore_database(url, backup.path)
    assert result.previous_copy is not None
    assert result.previous_copy.read_bytes().startswith(b"garbage")
    assert _mode(result.previous_copy) == 0o600
    with open_database(url) as db:
        assert verify(db).counts["records"] == 1


def test_before_restore_copies_are_private_and_bounded(counter: Counter, tmp_path: Path) -> None:
    url = str(counter.db.url)
    counter.sign(finished(example_case("01")))
    backup = backup_database(url, tmp_path / "b.sqlite3")
    assert _mode(backup.path) == 0o600
    for _ in range(KEEP_COPIES + 2):
        restore_database(url, backup.path)
    copies = _copies(counter)
    assert len(copies) == KEEP_COPIES
    for copy in copies:
        assert _mode(copy) == 0o600, copy
        with sqlite3.connect(copy) as conn:
            assert conn.execute("SELECT count(*) FROM records").fetchone() == (1,)


def test_restore_on_postgresql_is_pg_restores_job(tmp_path: Path) -> None:
    backup = tmp_path / "b.sqlite3"
    backup.write_bytes(b"")
    done = run_cli("--database", "postgresql://u@127.0.0.1:1/x", "restore", str(backup))
    assert done.returncode == 2 and b"pg_restore" in done.stderr
