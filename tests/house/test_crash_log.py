"""An unexpected error: the person reads one plain sentence, the log keeps the whole trace."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from pharmacist_tool.logs import LOG_FILE_NAME
from tests.conftest import run_cli

# A fault injected from outside, in a process of its own: the command's handler raises an error
# that nothing expects. Everything after it (main, the log, the message) is the real code.
FAULTY_RUN = """
import sys
from pharmacist_tool import cli

def broken_assess(args):
    raise RuntimeError("planted fault 7c1e: the index went missing")

cli._cmd_assess = broken_assess
raise SystemExit(cli.main(sys.argv[1:]))
"""


def _run_faulty(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", FAULTY_RUN, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_unexpected_error_is_logged_with_its_trace_and_told_plainly(isolated_home: Path) -> None:
    result = _run_faulty("assess", "any-case.json")

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "planted fault" not in result.stderr
    log_file = isolated_home / "logs" / LOG_FILE_NAME
    assert str(log_file) in result.stderr
    assert "unexpected error" in result.stderr
    assert result.stdout == ""

    log = log_file.read_text(encoding="utf-8")
    assert "ERROR" in log
    assert "Traceback (most recent call last)" in log
    assert "RuntimeError: planted fault 7c1e: the index went missing" in log
    assert "broken_assess" in log  # the frame where it happened


def test_the_log_keeps_every_crash(isolated_home: Path) -> None:
    for _ in range(2):
        assert _run_faulty("assess", "any-case.json").returncode == 1
    log = (isolated_home / "logs" / LOG_FILE_NAME).read_text(encoding="utf-8")
    assert log.count("RuntimeError: planted fault 7c1e") == 2


def test_data_dir_option_moves_the_log(tmp_path: Path, isolated_home: Path) -> None:
    elsewhere = tmp_path / "portable"
    result = _run_faulty("--data-dir", str(elsewhere), "assess", "any-case.json")
    assert result.returncode == 1
    assert (elsewhere / "logs" / LOG_FILE_NAME).is_file()
    assert not (isolated_home / "logs" / LOG_FILE_NAME).exists()


def test_bad_input_is_a_message_not_a_crash(isolated_home: Path, tmp_path: Path) -> None:
    result = run_cli("assess", str(tmp_path / "missing.json"))
    assert result.returncode == 2
    stderr = result.stderr.decode()
    assert "missing.json" in stderr
    assert "Traceback" not in stderr
    assert "unexpected" not in stderr


def test_a_log_folder_that_cannot_be_written_does_not_hide_the_error(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "logs").write_text("a file where the log folder should be", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-c", FAULTY_RUN, "--data-dir", str(home), "assess", "x.json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert "The log file could not be written" in result.stderr
    # The trace goes to stderr instead, once, and reporting it does not crash in turn.
    assert result.stderr.count("Traceback (most recent call last)") == 1
    assert "RuntimeError: planted fault 7c1e" in result.stderr
    assert "During handling" not in result.stderr
