"""Shared helpers for the benchmark scripts: whole-process timing and the figure-beside-floor line.

Every goal is a ratio to a floor measured in the same run, on the same machine, side by side
(A B A B …), so a slow or noisy machine moves both numbers together.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


@dataclass(frozen=True)
class Comparison:
    name: str
    value: float
    floor: float
    floor_name: str
    unit: str
    goal_ratio: float

    @classmethod
    def in_ms(
        cls, name: str, seconds: float, floor_seconds: float, floor_name: str, goal_ratio: float
    ) -> Comparison:
        """A figure measured in seconds, shown in milliseconds."""
        return cls(name, seconds * 1000, floor_seconds * 1000, floor_name, "ms", goal_ratio)

    @property
    def ratio(self) -> float:
        return self.value / self.floor if self.floor else float("inf")

    @property
    def holds(self) -> bool:
        return self.ratio <= self.goal_ratio

    def line(self) -> str:
        verdict = "ok" if self.holds else "OVER GOAL"
        return (
            f"{self.name:<44} {self.value:9.2f} {self.unit}   floor ({self.floor_name}) "
            f"{self.floor:9.2f} {self.unit}   ratio {self.ratio:5.2f} (goal <= {self.goal_ratio:g})"
            f"  {verdict}"
        )


@dataclass(frozen=True)
class Budget(Comparison):
    """A figure with an absolute goal (e.g. a frame's 16 ms), printed beside its floor."""

    limit: float = 0.0

    @property
    def holds(self) -> bool:
        return self.value <= self.limit

    def line(self) -> str:
        verdict = "ok" if self.holds else "OVER GOAL"
        return (
            f"{self.name:<44} {self.value:9.2f} {self.unit}   floor ({self.floor_name}) "
            f"{self.floor:9.2f} {self.unit}   ratio {self.ratio:5.2f} (goal <= {self.limit:g} "
            f"{self.unit})  {verdict}"
        )


def fresh_app_env(scratch: str | Path) -> dict[str, str]:
    """Environment for timing the app in fresh processes: an empty home, the source checkout on
    the path, and a bytecode cache of its own (filled by the warm-up runs, as an installed copy
    would have one) even where PYTHONDONTWRITEBYTECODE is set."""
    return {
        "PHARMACIST_TOOL_HOME": str(Path(scratch) / "home"),
        "PYTHONDONTWRITEBYTECODE": "",
        "PYTHONPYCACHEPREFIX": str(Path(scratch) / "pycache"),
        "PYTHONPATH": str(REPO),
    }


def run_once(cmd: Sequence[str], env: dict[str, str] | None = None) -> float:
    """Wall seconds from spawn to reap of one process; fails loudly if the command fails."""
    start = time.perf_counter()
    done = subprocess.run(
        list(cmd), env={**os.environ, **(env or {})}, capture_output=True, check=False
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(
            f"benchmark command failed ({done.returncode}): {' '.join(cmd)}\n"
            f"{done.stderr.decode(errors='replace')[-2000:]}"
        )
    return elapsed


def paired_process_medians(
    subject: Sequence[str],
    floor: Sequence[str],
    runs: int = 15,
    env: dict[str, str] | None = None,
) -> tuple[float, float]:
    """Median wall seconds of two commands run in turn (one warm-up each first)."""
    run_once(subject, env)
    run_once(floor, env)
    subject_times: list[float] = []
    floor_times: list[float] = []
    for _ in range(runs):
        subject_times.append(run_once(subject, env))
        floor_times.append(run_once(floor, env))
    return statistics.median(subject_times), statistics.median(floor_times)


def paired_call_medians(
    subject: Callable[[], object], floor: Callable[[], object], runs: int = 50, warmup: int = 5
) -> tuple[float, float]:
    """Median seconds of two in-process callables, interleaved."""
    for _ in range(warmup):
        subject()
        floor()
    subject_times: list[float] = []
    floor_times: list[float] = []
    for _ in range(runs):
        start = time.perf_counter()
        subject()
        subject_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        floor()
        floor_times.append(time.perf_counter() - start)
    return statistics.median(subject_times), statistics.median(floor_times)


def report(comparisons: Sequence[Comparison]) -> int:
    """Print each figure beside its floor; exit status 1 when a goal does not hold."""
    for comparison in comparisons:
        print(comparison.line(), flush=True)
    return 0 if all(c.holds for c in comparisons) else 1


BENCH_SIGNATURE: dict[str, object] = {
    "user_id": 1, "signer_username": "ana", "signer_full_name": "Ana Pharmacist",
    "signer_role": "pharmacist",
    "signature_meaning": "Counselled the patient and approved hand-over",
    "prepared_by": None, "workstation": "bench", "app_version": "bench",
    "outcome": "handed-over", "outcome_reason": "", "dispense": "ok",
    "knowledge_base_version": "bench", "rules_version": "bench",
    "handout_template_version": "bench", "handout_language": "en",
    "handout_large_print": False, "handout_paper": "A4", "handout_source": "rendered",
}  # fmt: skip
"""The columns every bulk-built benchmark record shares (signer, outcome, versions, handout)."""


def bench_record_values(**varying: object) -> dict[str, object]:
    """A signed record's column values for the benchmarks' bulk builds: the shared columns, the
    rules' date, and what varies per record (ids, chain, patient, case, assessment, handout)."""
    return {**BENCH_SIGNATURE, "rules_effective_from": dt.date(2025, 1, 1), **varying}
