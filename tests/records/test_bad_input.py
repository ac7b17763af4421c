"""Bad input on the command line: a message naming what is wrong, exit 2, nothing half-written.

In-memory and empty database addresses, empty dates, ids no database can hold, a full disk; on
SQLite and PostgreSQL wherever the backend matters.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from pharmacist_tool.errors import UserError
from pharmacist_tool.records.db import normalise_url, open_database
from pharmacist_tool.records.reading import count_records
from pharmacist_tool.records.service import verify
from tests.conftest import run_cli
from tests.records.helpers import PASSWORD, FullDisk, full_disk
from tests.records.test_cli import _finished

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("sqlite://", "names no file"),
        ("sqlite:///", "names no file"),
        ("sqlite:///:memory:", "in-memory"),
        ("sqlite:///file::memory:?cache=shared", "in-memory"),
        ("sqlite:///x.sqlite3?mode=memory", "in-memory"),
        ("postgresql://u@db.example/", "names no database"),
        ("postgresql://u@db.example", "names no database"),
    ],
)
def test_in_memory_and_empty_database_addresses_are_refused(url: str, words: str) -> None:
    with pytest.raises(UserError, match=words):
        normalise_url(url)


def test_the_command_line_refuses_a_throwaway_database(tmp_path: Path) -> None:
    for url in ("sqlite:///", "sqlite:///:memory:"):
        done = run_cli("--database", url, "records")
        assert done.returncode == 2, (url, done.stderr)
        assert b"vanish" in done.stderr and b"Traceback" not in done.stderr


def _signed(url: str) -> None:
    first = run_cli(
        "--database", url, "users", "add", "rosei", "--role", "pharmacist",
        "--full-name", "Rita Osei", "--password-stdin", input=PASSWORD + "\n",
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    done = run_cli(
        "--database", url, "sign", str(_finished_case()), "--user", "rosei", "--password-stdin",
        input=PASSWORD + "\n",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


@pytest.fixture(autouse=True)
def finished_case_file(tmp_path: Path) -> Iterator[None]:
    _CASE[:] = [_finished(tmp_path)]
    yield


_CASE: list[Path] = []


def _finished_case() -> Path:
    return _CASE[0]


def _ready_url(database_url: str) -> str:
    with open_database(database_url):
        pass
    return database_url


def test_empty_dates_are_refused(database_url: str, tmp_path: Path) -> None:
    url = _ready_url(database_url)
    for args in (
        ["records", "--since", ""],
        ["records", "--until", "  "],
        ["export", "--format", "csv", "-o", str(tmp_path / "x.csv"), "--since", ""],
        ["export", "--format", "json", "-o", str(tmp_path / "x.json"), "--until", ""],
    ):
        done = run_cli("--database", url, *args)
        assert done.returncode == 2, (args, done.stderr)
        assert b"is empty" in done.stderr, done.stderr
    assert not list(tmp_path.glob("x.*"))


@pytest.mark.parametrize(
    ("record_id", "words"),
    [
        ("99999999999999999999999", b"never that large"),
        ("2147483648", b"never that large"),
        ("2147483647", b"no record 2147483647"),
        ("0", b"not a record id"),
        ("-3", b"not a record id"),
        ("\uff11\uff12", b"not a record id"),  # full-width digits
    ],
)
def test_out_of_range_record_ids(database_url: str, record_id: str, words: bytes) -> None:
    url = _ready_url(database_url)
    done = run_cli(
        "--database", url, "amend", record_id, str(_finished_case()), "--user", "rosei",
        "--reason", "typo", "--password-stdin", input=PASSWORD + "\n",
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert words in done.stderr, done.stderr


# -- a full disk --------------------------------------------------------------------------------


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[FullDisk]:
    yield from full_disk(tmp_path)


def _cli_limited(disk: FullDisk, *args: str, input: str = "") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "pharmacist_tool", *args],
        input=input.encode(),
        capture_output=True,
        cwd=REPO,
        preexec_fn=disk.preexec(),
        timeout=120,
        check=False,
    )


def test_signing_on_a_full_disk_says_so_and_stores_nothing(disk: FullDisk, tmp_path: Path) -> None:
    if not disk.mounted:
        pytest.skip("needs a tmpfs (run as root): SQLite's shared-memory file trips the size limit")
    made = tmp_path / "made.sqlite3"
    _signed(f"sqlite:///{made}")
    with open_database(f"sqlite:///{made}") as db:
        assert verify(db).counts["records"] == 1
    live = disk.folder / "records.sqlite3"
    shutil.copyfile(made, live)
    live.chmod(0o600)
    url = f"sqlite:///{live}"

    def sign() -> subprocess.CompletedProcess[bytes]:
        return _cli_limited(
            disk, "--database", url, "sign", str(_finished_case()), "--user", "rosei",
            "--password-stdin", input=PASSWORD + "\n",
        )  # fmt: skip

    window = open_database(url)  # a window keeps it open: its -wal and -shm files stay
    try:
        with window.session() as session:
            session.execute(text("SELECT count(*) FROM records"))
        disk.fill()
        done = sign()  # the write itself finds no room
        assert done.returncode == 2, done.stderr
        assert b"the disk is full" in done.stderr and b"unexpected" not in done.stderr
    finally:
        window.close()
    done = sign()  # with no window open there is no room even to open the database
    assert done.returncode == 2, done.stderr
    assert b"the disk is full" in done.stderr, done.stderr
    (disk.folder / "filler").unlink()
    with open_database(url) as db:
        report = verify(db)
        assert report.intact, report.problems
        assert report.counts["records"] == 1


def test_exports_and_backups_on_a_full_disk_say_so_and_leave_no_file(
    database_url: str, disk: FullDisk
) -> None:
    _signed(database_url)
    disk.fill()
    outputs = {
        "csv": disk.folder / "records.csv",
        "json": disk.folder / "records.json",
        "fhir": disk.folder / "records.fhir.json",
    }
    for fmt, out in outputs.items():
        done = _cli_limited(
            disk, "--database", database_url, "export", "--format", fmt, "-o", str(out)
        )
        assert done.returncode == 2, (fmt, done.stderr)
        assert b"the disk is full" in done.stderr, done.stderr
    if database_url.startswith("sqlite"):
        done = _cli_limited(
            disk, "--database", database_url, "backup", "-o", str(disk.folder / "b.sqlite3")
        )
        assert done.returncode == 2 and b"the disk is full" in done.stderr, done.stderr
    left = sorted(p.name for p in disk.folder.iterdir() if p.name != "filler")
    assert left == [], left
    with open_database(database_url) as db:
        assert count_records(db) == 1
        assert verify(db).intact
