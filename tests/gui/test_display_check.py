"""A display that does not answer: exit 2 with a message on the terminal, not Qt's abort (134)
with its words only in its own log."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pharmacist_tool import paths

pytestmark = pytest.mark.gui


def _silent_display() -> str:
    """An X display number nobody serves on this machine."""
    sockets = Path("/tmp/.X11-unix")
    number = next(n for n in range(97, 200) if not (sockets / f"X{n}").exists())
    return f":{number}"


def test_a_display_that_does_not_answer_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    from pharmacist_tool.gui.platform_check import display_problem

    display = _silent_display()
    monkeypatch.setenv("DISPLAY", display)
    problem = display_problem()
    assert problem is not None
    message = problem.message()
    assert f"the X display {display!r} (DISPLAY) does not answer" in message
    assert "connection failed" in message


def test_no_display_set_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    from pharmacist_tool.gui.platform_check import display_problem

    monkeypatch.delenv("DISPLAY", raising=False)
    problem = display_problem()
    assert problem is not None and "DISPLAY is empty" in problem.message()


def test_the_window_command_exits_2_with_the_reason_on_the_terminal(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    env |= {"DISPLAY": _silent_display(), paths.HOME_ENV: str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "pharmacist_tool", "gui"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert done.stderr.startswith("pharmacist-tool: The window cannot start:"), done.stderr
    # Here either the display or, on a machine without Qt's X11 libraries, the packages to add.
    assert "does not answer" in done.stderr or "apt-get install" in done.stderr
