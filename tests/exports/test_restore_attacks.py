"""Restore never drops signed records nor reuses their ids; every copy of the records is private.

The attack: restore an older backup over a live database that has signed newer records. Before,
that succeeded (exit 0, ``verify`` intact) and the dropped records' ids went to other patients.
"""

from __future__ import annotations

import sqlite3
import stat
import subprocess
from pathlib import Path

import pytest

from pharmacist_tool.errors import UserError
from pharmacist_tool.exports.backup import backup_database, restore_database
from pharmacist_tool.records import chain, users
from pharmacist_tool.records.db import KEEP_COPIES, open_database
from pharmacist_tool.records.models import Record
from pharmacist_tool.records.reading import list_events
from pharmacist_tool.records.service import verify
from pharmacist_tool.records.users import LoginFailedError
from pharmacist_tool.records.writing import record_event
from tests.conftest import example_case, run_cli
from tests.exports.conftest import PASSWORD, Counter, finished


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
        restore_database(url, old.path, counter.signer)
    message = str(caught.value)
    assert "2 signed records and 1 amendment and 3 audit events would be lost" in message
    assert "up to number 3" in message
    assert live.read_bytes() == before and _copies(counter) == []

    done = _restore_cli(url, old.path)
    assert done.returncode == 2
    assert b"2 signed records and 1 amendment and 3 audit events would be lost" in done.stderr
    assert b"audit event 5: amend by ana" in done.stderr
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
    with pytest.raises(UserError, match="1 signed record and 2 audit events would be lost"):
        restore_database(str(counter.db.url), foreign.path, counter.signer)


def test_a_backup_that_lacks_a_newer_audit_event_is_refused_naming_it(
    counter: Counter, tmp_path: Path
) -> None:
    """Issue 21: a backup taken before an export erased its audit event (counted, not named)."""
    url = str(counter.db.url)
    counter.sign(finished(example_case("01")))
    backup = backup_database(url, tmp_path / "latest.sqlite3")
    record_event(counter.db, "export", user=counter.signer, detail={"format": "csv"})
    done = _restore_cli(url, backup.path)
    assert done.returncode == 2, done.stderr
    assert b"1 audit event would be lost" in done.stderr
    assert b"audit event 3: export by ana" in done.stderr
    assert list_events(counter.db, action="restore") == []
    assert verify(counter.db).intact


def test_restore_needs_an_administrator(counter: Counter, tmp_path: Path) -> None:
    url = str(counter.db.url)
    counter.sign(finished(example_case("01")))
    backup = backup_database(url, tmp_path / "latest.sqlite3")
    done = run_cli("--database", url, "restore", str(backup.path))
    assert done.returncode == 2 and b"needs an administrator" in done.stderr
    done = _restore_cli(url, backup.path, password="not the password")
    assert done.returncode == 2 and b"not an active administrator" in done.stderr
    done = _restore_cli(url, backup.path)
    assert done.returncode == 0, done.stderr
    (event,) = list_events(counter.db, action="restore")
    assert event.username == "ana"
    assert verify(counter.db).intact


def _restore_cli(
    url: str, backup: Path, password: str = PASSWORD
) -> subprocess.CompletedProcess[bytes]:
    return run_cli(
        "--database", url, "restore", str(backup), "--admin", "ana", "--password-stdin",
        input=password + "\n",
    )  # fmt: skip


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
    result = restore_database(url, backup.path, counter.signer)
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
    for i in range(KEEP_COPIES + 2):
        restore_database(url, backup.path, counter.signer)
        # the next backup holds the restore's own event (a restore loses none)
        backup = backup_database(url, tmp_path / f"b{i}.sqlite3")
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


# -- issue 21: a restore that would bring back the past (SQLite: PostgreSQL restores are
# pg_restore's, refused above)


def test_an_older_backup_cannot_undo_three_user_changes(counter: Counter, tmp_path: Path) -> None:
    """Taken before a technician was deactivated, a pharmacist demoted and the administrator's
    password changed: restoring it would re-activate, re-promote and bring the old password
    back. Refused, naming each change, even by an administrator who knows the old password."""
    url = str(counter.db.url)
    ana = counter.signer
    users.add_user(counter.db, ana, "tom", "technician", PASSWORD, full_name="Tom Moss")
    users.add_user(counter.db, ana, "rita", "pharmacist", PASSWORD, full_name="Rita Osei")
    counter.sign(finished(example_case("01")))
    old = backup_database(url, tmp_path / "before.sqlite3")
    users.deactivate_user(counter.db, ana, "tom")
    users.change_role(counter.db, ana, "rita", "technician")
    users.change_password(counter.db, "ana", PASSWORD, "a new administrator passphrase")
    done = _restore_cli(url, old.path)  # the old password: valid in the backup
    assert done.returncode == 2, done.stderr
    err = done.stderr.decode()
    assert "4 audit events would be lost" in err
    for named in (
        "user-deactivated of tom by ana",
        "role-changed of rita by ana",
        "password-changed by ana",
        "key-registered by ana",
    ):
        assert named in err, err
    assert users.get_user(counter.db, "tom").active is False  # type: ignore[union-attr]
    with pytest.raises(LoginFailedError):
        users.authenticate(counter.db, "ana", PASSWORD)
    assert verify(counter.db).intact


def test_a_crafted_backup_with_a_forged_record_is_refused(counter: Counter, tmp_path: Path) -> None:
    """Every live row and one more: a record in ana's name appended with the tool's own chain
    code, unsigned (the attacker has the file, not ana's password)."""
    url = str(counter.db.url)
    counter.sign(finished(example_case("01")))
    crafted = backup_database(url, tmp_path / "crafted.sqlite3").path
    db = open_database(f"sqlite:///{crafted}")
    with db.session(write=True) as session, chain.appending(session) as head:
        first = session.get(Record, 1)
        assert first is not None
        values = {
            c.key: getattr(first, c.key)
            for c in Record.__table__.columns
            if c.key not in ("id", "seq", "prev_hash", "row_hash", "signature")
        }
        chain.append(session, head, Record(**{**values, "patient_name": "Someone Else"}))
    db.close()
    before = Path(str(counter.db.url.database)).read_bytes()
    done = _restore_cli(url, crafted)
    assert done.returncode == 2, done.stderr
    assert b"does not pass verification" in done.stderr
    assert b"record 2: not signed" in done.stderr
    assert Path(str(counter.db.url.database)).read_bytes() == before


def _truncate(path: Path, keep_records: int) -> None:
    """Remove the newest records, their events and everything after, and rewind the head:
    what someone with the file does to make an older-looking copy."""
    with sqlite3.connect(path) as conn:
        from_seq = conn.execute(
            "SELECT seq FROM records WHERE id = ?", (keep_records + 1,)
        ).fetchone()[0]
        for table in ("records", "amendments", "audit_events"):
            conn.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
            conn.execute(f"DELETE FROM {table} WHERE seq >= ?", (from_seq,))
        seq, digest, table, rid = conn.execute(
            "SELECT seq, row_hash, 'audit_events', id FROM audit_events ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        conn.execute(
            "UPDATE chain_head SET seq = ?, head_hash = ?, head_table = ?, head_id = ?",
            (seq, digest, table, rid),
        )


def test_a_truncated_copy_is_refused_and_no_id_is_reused(counter: Counter, tmp_path: Path) -> None:
    url = str(counter.db.url)
    for name in ("Ana One", "Ben Two", "Cy Three"):
        counter.sign(finished(example_case("01"), name=name))
    copy = backup_database(url, tmp_path / "copy.sqlite3").path
    _truncate(copy, keep_records=1)
    done = _restore_cli(url, copy)
    assert done.returncode == 2 and b"2 signed records" in done.stderr, done.stderr
    # the live database damaged too: the note of this computer still refuses it
    counter.db.close()
    live = Path(str(counter.db.url.database))
    for sidecar in ("-wal", "-shm"):
        Path(f"{live}{sidecar}").unlink(missing_ok=True)
    live.write_bytes(b"garbage, not a database" * 100)
    done = _restore_cli(url, copy)
    assert done.returncode == 2, done.stderr
    assert b"this computer saw the chain reach position" in done.stderr
    assert live.read_bytes().startswith(b"garbage")
