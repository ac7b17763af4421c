"""A fatal error inside the window leaves its trace in the log folder, and the next start says
the window stopped abruptly. Both starts are the real ``run_gui`` in a process of their own."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from pharmacist_tool import paths

pytestmark = [pytest.mark.gui, pytest.mark.slow]

CHILD = Path(__file__).with_name("fatal_child.py")


def _start(mode: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", paths.HOME_ENV: str(home)}
    return subprocess.run(
        [sys.executable, str(CHILD), mode],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.parametrize("mode", ["fatal", "abort"])
def test_a_fatal_error_is_kept_in_the_log_folder_and_named_at_the_next_start(
    mode: str, isolated_home: Path
) -> None:
    crashed = _start(mode, isolated_home)
    assert crashed.stdout.startswith("UP"), crashed.stderr
    assert crashed.returncode == -signal.SIGABRT
    logs = isolated_home / "logs"
    trace = (logs / "window-fault.log").read_text(encoding="utf-8")
    assert "Fatal Python error" in trace
    if mode == "fatal":
        assert "planted: none_dealloc" in trace
    assert "fatal_child.py" in trace, "the Python stack of the moment is kept"

    again = _start("report", isolated_home)
    assert again.returncode == 0, again.stderr
    note = next(line for line in again.stdout.splitlines() if line.startswith("NOTE "))
    assert "The window stopped abruptly last time" in note
    kept = logs / "window-fault.previous.log"
    assert str(kept) in note
    assert "Fatal Python error" in kept.read_text(encoding="utf-8")

    third = _start("report", isolated_home)  # closed normally last time: no notice
    note = next(line for line in third.stdout.splitlines() if line.startswith("NOTE "))
    assert "abruptly" not in note
