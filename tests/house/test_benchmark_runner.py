"""benchmarks/run.py: every script runs, every figure is collected, any failure fails the run."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RUNNER = REPO / "benchmarks" / "run.py"

REPORTING = """
from benchmarks.common import Comparison, report
raise SystemExit(report([Comparison("{name}", {value}, 1.0, "bare", "ms", {goal})]))
"""


def _write(folder: Path, name: str, source: str) -> None:
    (folder / f"bench_{name}.py").write_text(source, encoding="utf-8")


def _run(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(RUNNER), "--dir", str(folder), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_all_goals_hold(tmp_path: Path) -> None:
    _write(tmp_path, "fast", REPORTING.format(name="fast thing", value=1.5, goal=2))
    _write(tmp_path, "quick", REPORTING.format(name="quick thing", value=0.9, goal=1.2))
    result = _run(tmp_path, "--markdown")
    assert result.returncode == 0, result.stdout + result.stderr
    summary = result.stdout.split("== Summary")[1]
    assert "bench_fast.py" in summary
    assert "bench_quick.py" in summary
    assert "fast thing" in summary
    assert "ratio  1.50 (goal <= 2)" in summary
    assert "2 figures from 2 scripts" in summary
    assert "every goal holds" in summary
    for about in ("CPU", "RAM", "OS", "Python", "SQLite", "PySide6-Essentials", "SQLAlchemy"):
        assert about in summary
    assert "| `bench_fast.py` | fast thing | 1.50 ms | bare: 1.00 ms | 1.50 | ≤ 2 | ok |" in (
        result.stdout
    )


def test_a_goal_that_does_not_hold_fails_the_run(tmp_path: Path) -> None:
    _write(tmp_path, "fine", REPORTING.format(name="fine", value=1.0, goal=2))
    _write(tmp_path, "slow", REPORTING.format(name="slow", value=3.0, goal=2))
    result = _run(tmp_path)
    assert result.returncode == 1
    assert "bench_slow.py" in result.stdout
    assert "1 goal(s) do not hold" in result.stdout
    assert "failed: bench_slow.py" in result.stdout


def test_a_script_that_fails_fails_the_run_and_shows_why(tmp_path: Path) -> None:
    _write(tmp_path, "ok", REPORTING.format(name="fine", value=1.0, goal=2))
    _write(tmp_path, "broken", "raise RuntimeError('the fixture database is missing')\n")
    result = _run(tmp_path)
    assert result.returncode == 1
    assert "bench_broken.py" in result.stdout
    assert "failed (exit 1)" in result.stdout
    assert "the fixture database is missing" in result.stdout.split("== Summary")[1]


def test_a_script_that_measures_nothing_fails_the_run(tmp_path: Path) -> None:
    _write(tmp_path, "silent", "print('done')\n")
    result = _run(tmp_path)
    assert result.returncode == 1
    assert "printed no figure" in result.stdout


def test_a_script_out_of_time_is_stopped(tmp_path: Path) -> None:
    _write(tmp_path, "stuck", "import time\ntime.sleep(60)\n")
    _write(tmp_path, "then", REPORTING.format(name="after the stuck one", value=1.0, goal=2))
    result = _run(tmp_path, "--budget", "2")
    assert result.returncode == 1
    assert "out of time (2 s)" in result.stdout
    assert "after the stuck one" in result.stdout  # the next script still ran


def test_only_the_named_benchmarks_run(tmp_path: Path) -> None:
    _write(tmp_path, "one", REPORTING.format(name="first", value=1.0, goal=2))
    _write(tmp_path, "two", REPORTING.format(name="second", value=1.0, goal=2))
    result = _run(tmp_path, "two")
    assert result.returncode == 0
    assert "second" in result.stdout
    assert "first" not in result.stdout
    unknown = _run(tmp_path, "three")
    assert unknown.returncode != 0
    assert "no benchmark named three" in unknown.stderr


def test_every_benchmark_script_uses_the_shared_helpers() -> None:
    for script in sorted((REPO / "benchmarks").glob("bench_*.py")):
        source = script.read_text(encoding="utf-8")
        assert "benchmarks.common" in source, f"{script.name} does not use benchmarks/common.py"


def test_a_slow_script_leaves_time_for_the_scripts_after_it(tmp_path: Path) -> None:
    _write(tmp_path, "a_stuck", "import time\ntime.sleep(60)\n")
    _write(tmp_path, "b_next", REPORTING.format(name="second", value=1.0, goal=2))
    _write(tmp_path, "c_last", REPORTING.format(name="third", value=1.0, goal=2))
    result = _run(tmp_path, "--total", "46")  # 20 s kept for each of the two after the first
    assert result.returncode == 1
    assert "bench_a_stuck.py" in result.stdout
    assert re.search(r"bench_a_stuck\.py \(\d s\): out of time \([56] s\)", result.stdout)
    assert "second" in result.stdout
    assert "third" in result.stdout
