"""A machine without one of Qt's platform libraries: the window names the package, exit 2.

The library is hidden from the system loader for real: in a private mount namespace
(``unshare -m``) an empty file is bind-mounted over it, so every ``dlopen`` of it fails as it
would on a machine without the package. Needs root (or user namespaces); skipped where the
mount is not allowed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pharmacist_tool import paths
from pharmacist_tool.gui.platform_check import needed_libraries, platform_problem, qt_folder

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux loader")


def _library_file(soname: str) -> Path | None:
    """Where the loader finds ``soname`` (None when it is not installed)."""
    try:
        ctypes.CDLL(soname)
    except OSError:
        return None
    for line in Path("/proc/self/maps").read_text().splitlines():
        path = line.split()[-1]
        if Path(path).name.startswith(soname.split(".so")[0] + ".so"):
            return Path(path)
    return None


def test_the_plugin_needs_are_read_from_the_elf_file() -> None:
    qt = qt_folder()
    assert qt is not None
    needed = needed_libraries(qt / "plugins" / "platforms" / "libqxcb.so")
    assert "libxcb-cursor.so.0" in needed
    assert "libQt6Gui.so.6" in needed


def test_the_offscreen_platform_loads_here(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert platform_problem() is None


def test_without_libxcb_cursor0_the_window_exits_2_naming_the_package(
    isolated_home: Path,
) -> None:
    if shutil.which("unshare") is None:
        pytest.skip("unshare (util-linux) is not installed")
    hidden = _library_file("libxcb-cursor.so.0")
    mount = f"mount --bind /dev/null {hidden} && " if hidden is not None else ""
    env = {
        **os.environ,
        paths.HOME_ENV: str(isolated_home),
        "QT_QPA_PLATFORM": "xcb",
        "DISPLAY": ":93",  # never reached: the check runs before Qt starts
    }
    private = ["unshare", "--mount", "--propagation", "private", "sh", "-c"]
    if hidden is not None:
        probe = subprocess.run(
            [*private, f"{mount}echo hidden"], capture_output=True, text=True, check=False
        )
        if probe.stdout.strip() != "hidden":
            pytest.skip(f"a private mount is not allowed here: {probe.stderr.strip()[:200]}")
    script = f"{mount}exec {sys.executable} -m pharmacist_tool gui"
    done = subprocess.run(
        [*private, script], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 2, done.stderr
    assert "libxcb-cursor.so.0" in done.stderr
    assert "sudo apt-get install" in done.stderr and "libxcb-cursor0" in done.stderr
    # Nothing crashed: the next start shows no "stopped abruptly" banner.
    fault = isolated_home / "logs" / "window-fault.log"
    assert not fault.exists() or not fault.read_text().strip()
