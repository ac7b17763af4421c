"""Exports are audited before they exist, under a name only with that user's password; what a
killed export or backup leaves behind is removed at the next start. On SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pharmacist_tool.records.reading import list_events
from tests.conftest import example_case, run_cli
from tests.exports.conftest import PASSWORD, Counter, finished, open_counter
from tests.records.conftest import BACKENDS, new_database_url

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(params=BACKENDS)
def shop(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Counter]:
    for url in new_database_url(request.param, tmp_path):
        counter = open_counter(url)
        try:
            yield counter
        finally:
            counter.db.close()


def _exports(counter: Counter) -> list[dict[str, object]]:
    return [{"username": e.username, **e.detail} for e in list_events(counter.db, action="export")]


def test_an_export_that_exists_was_audited_even_when_killed_as_it_appears(
    shop: Counter, tmp_path: Path, isolated_home: Path
) -> None:
    for i in range(300):
        shop.sign(finished(example_case("01"), name=f"Patient {i}"))
    target = tmp_path / "all.json"
    child = subprocess.Popen(
        [
            *(sys.executable, "-m", "pharmacist_tool", "--database", str(shop.db.url)),
            *("export", "--format", "json", "-o", str(target)),
        ],
        cwd=REPO,
        env={**os.environ, "PHARMACIST_TOOL_HOME": str(isolated_home)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while not target.exists() and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.001)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert target.exists(), "the export did not finish in time"
    (event,) = _exports(shop)  # the file exists: its audit event was committed before it
    assert event["count"] == 300 and event["file"] == str(target)


def test_export_under_a_name_needs_that_users_password(shop: Counter, tmp_path: Path) -> None:
    shop.sign(finished(example_case("01")))
    url = str(shop.db.url)
    out = tmp_path / "out.csv"

    done = run_cli("--database", url, "export", "--format", "csv", "-o", str(out), "--user", "ana")
    assert done.returncode == 2 and b"needs that user's password" in done.stderr
    done = run_cli(
        "--database", url, "export", "--format", "csv", "-o", str(out), "--user", "ana",
        "--password-stdin", input="not the password\n",
    )  # fmt: skip
    assert done.returncode == 2 and b"Wrong user name or password" in done.stderr
    assert not out.exists() and _exports(shop) == []

    done = run_cli(
        "--database", url, "export", "--format", "csv", "-o", str(out), "--user", "ana",
        "--password-stdin", input=PASSWORD + "\n",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    done = run_cli("--database", url, "export", "--format", "csv", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert [e["username"] for e in _exports(shop)] == [None, "ana"]  # newest first


_KILLED_WRITER = """
import os, sys
from pathlib import Path
from pharmacist_tool.exports.files import part_beside
with part_beside(Path(sys.argv[1])) as part:
    part.write_bytes(b"every patient " * 10000)
    print(part, flush=True)
    if sys.argv[2] == "die":
        os.kill(os.getpid(), 9)
    sys.stdin.readline()
    part.replace(sys.argv[1])
"""


def test_stale_part_files_are_removed_at_the_next_start(
    shop: Counter, tmp_path: Path, isolated_home: Path
) -> None:
    env = {**os.environ, "PHARMACIST_TOOL_HOME": str(isolated_home)}

    def writer(target: Path, how: str) -> tuple[subprocess.Popen[str], Path]:
        child = subprocess.Popen(
            [sys.executable, "-c", _KILLED_WRITER, str(target), how],
            cwd=REPO,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        return child, Path(child.stdout.readline().strip())

    killed, stale = writer(tmp_path / "export.csv", "die")
    killed.wait()
    running, live = writer(tmp_path / "other.csv", "wait")
    try:
        assert stale.exists() and live.exists() and stale.name.endswith(".part")
        done = run_cli("--database", str(shop.db.url), "records", env=env)
        assert done.returncode == 0, done.stderr
        assert not stale.exists(), "the killed export's .part file is removed"
        assert live.exists(), "a .part file still being written is left alone"
    finally:
        assert running.stdin is not None
        running.communicate("\n")
    assert not live.exists() and (tmp_path / "other.csv").exists()  # finished: renamed


@pytest.mark.parametrize("fmt", ["csv", "json", "fhir"])
def test_an_export_is_readable_by_its_owner_only(shop: Counter, tmp_path: Path, fmt: str) -> None:
    import stat

    from pharmacist_tool.exports.service import export_records
    from pharmacist_tool.records.reading import RecordFilter

    shop.sign(finished(example_case("01")))
    target = tmp_path / f"out.{fmt}"
    export_records(shop.db, fmt, target, RecordFilter(), username=None)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []
