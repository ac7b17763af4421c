"""Bad input that used to escape exit 2: a handout that is a device or a pipe, an output that is
a folder, a due window past the calendar, a database file that is not SQLite. Each is a clear
message and exit 2, and touches nothing (SQLite and PostgreSQL where the backend matters)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from pharmacist_tool.records.db import open_database
from pharmacist_tool.records.reading import count_records
from tests.conftest import run_cli
from tests.records.helpers import PASSWORD
from tests.records.test_cli import _finished


def _with_a_user(url: str) -> None:
    done = run_cli(
        "--database", url, "users", "add", "rosei", "--role", "pharmacist",
        "--full-name", "Rita Osei", "--password-stdin", input=PASSWORD + "\n",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def _refused(done: object, *words: str) -> None:
    code, err = done.returncode, done.stderr.decode()  # type: ignore[attr-defined]
    assert code == 2, err
    assert "Traceback" not in err
    for word in words:
        assert word in err, err


def _records(url: str) -> int:
    with open_database(url) as db:
        return count_records(db)


@pytest.mark.parametrize("source", ["/dev/zero", "fifo"])
def test_a_handout_that_is_a_device_or_a_pipe_is_refused_at_once(
    database_url: str, tmp_path: Path, source: str
) -> None:
    _with_a_user(database_url)
    handout = Path(source)
    if source == "fifo":
        handout = tmp_path / "handout.pdf"
        os.mkfifo(handout)  # no writer: reading it would wait forever
    done = run_cli(
        "--database", database_url, "sign", str(_finished(tmp_path)), "--user", "rosei",
        "--password-stdin", "--handout", str(handout), input=PASSWORD + "\n",
    )  # fmt: skip
    _refused(done, str(handout), "a device" if source == "/dev/zero" else "a pipe (FIFO)")
    assert _records(database_url) == 0


def test_next_into_a_folder_is_refused_before_the_database_is_opened(tmp_path: Path) -> None:
    database = tmp_path / "records.sqlite3"
    folder = tmp_path / "out"
    folder.mkdir()
    done = run_cli("--database", f"sqlite:///{database}", "next", "1", "-o", str(folder))
    _refused(done, str(folder), "a folder", "give a file name")
    assert not database.exists() and list(folder.iterdir()) == []


def test_next_into_a_folder_is_refused_with_a_record_there(
    database_url: str, tmp_path: Path
) -> None:
    _with_a_user(database_url)
    signed = run_cli(
        "--database", database_url, "sign", str(_finished(tmp_path)), "--user", "rosei",
        "--password-stdin", input=PASSWORD + "\n",
    )  # fmt: skip
    assert signed.returncode == 0, signed.stderr
    done = run_cli("--database", database_url, "next", "1", "-o", str(tmp_path))
    _refused(done, "a folder")
    missing = tmp_path / "no-such-folder" / "next.json"
    _refused(run_cli("--database", database_url, "next", "1", "-o", str(missing)), "does not exist")
    assert _records(database_url) == 1


@pytest.mark.parametrize("within", ["0", "7"])
def test_due_on_the_last_day_of_the_calendar_is_refused(database_url: str, within: str) -> None:
    done = run_cli("--database", database_url, "due", "--on", "9999-12-31", "--within", within)
    if within == "0":  # a window that fits is answered
        assert done.returncode == 0, done.stderr
        return
    _refused(done, "--on 9999-12-31", "runs past")


@pytest.mark.parametrize("content", [b"hello, this is my thesis\n", b"%PDF-1.7\n" + b"x" * 5000])
def test_a_database_file_that_is_not_sqlite_is_neither_opened_nor_changed(
    tmp_path: Path, content: bytes
) -> None:
    foreign = tmp_path / "thesis.txt"
    foreign.write_bytes(content)
    foreign.chmod(0o644)
    before = foreign.stat()
    for command in (["records"], ["verify"], ["due"]):
        done = run_cli("--database", f"sqlite:///{foreign}", *command)
        _refused(done, str(foreign), "not an SQLite database")
    after = foreign.stat()
    assert foreign.read_bytes() == content
    assert stat.S_IMODE(after.st_mode) == 0o644
    assert after.st_mtime_ns == before.st_mtime_ns
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "thesis.txt"] or sorted(
        p.name for p in tmp_path.iterdir()
    ) == ["thesis.txt"]
