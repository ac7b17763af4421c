"""Shared fixtures: every test gets its own home folder, so nothing touches the user's data."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pharmacist_tool import paths
from pharmacist_tool.case import Case, load_case

FIXTURES = Path(__file__).parent / "fixtures"
EXAMPLES = FIXTURES / "examples"
EXAMPLE_FILES = sorted(EXAMPLES.glob("0*.json"))


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "home"
    monkeypatch.setenv(paths.HOME_ENV, str(home))
    monkeypatch.delenv(paths.DATABASE_ENV, raising=False)
    paths.set_home(None)
    yield home
    paths.set_home(None)


def example_path(stem_prefix: str) -> Path:
    matches = [p for p in EXAMPLE_FILES if p.name.startswith(stem_prefix)]
    assert len(matches) == 1, f"no single example starting with {stem_prefix!r}"
    return matches[0]


def example_case(stem_prefix: str) -> Case:
    return load_case(example_path(stem_prefix))


def run_cli(
    *args: str, input: str | bytes | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    """Run ``python -m pharmacist_tool`` as a separate process, as a script would."""
    full_env = {**os.environ, **(env or {})}
    data = input.encode() if isinstance(input, str) else input
    return subprocess.run(
        [sys.executable, "-m", "pharmacist_tool", *args],
        input=data,
        capture_output=True,
        env=full_env,
        timeout=120,
        check=False,
    )
