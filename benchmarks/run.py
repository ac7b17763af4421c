"""Run every benchmark, print each figure beside its floor, and say on what machine.

    .venv/bin/python benchmarks/run.py              # all of benchmarks/bench_*.py
    .venv/bin/python benchmarks/run.py startup sign # only bench_startup.py and bench_sign.py
    .venv/bin/python benchmarks/run.py --markdown   # also print the summary as a Markdown table

Each script runs in a process of its own, one after another (never two at once: they would
slow each other), with a time budget: at most ``--budget`` seconds, and never so much that the
scripts still to come are left less than ``RESERVE`` seconds each; the whole run stops within
``--total`` seconds (under five minutes). A script
prints its figures with ``benchmarks.common.Comparison.line``; this runner collects those lines.
The exit status is 1 when a goal does not hold, when a script fails, runs out of time or
measures nothing; 0 otherwise.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RESERVE = 20.0  # seconds kept for each script still to run
LIBRARIES = [
    "PySide6-Essentials",
    "SQLAlchemy",
    "alembic",
    "reportlab",
    "msgspec",
    "argon2-cffi",
    "psycopg",
    "pypdfium2",
]
# The line benchmarks.common.Comparison.line() prints.
FIGURE = re.compile(
    r"^(?P<name>.+?)\s+(?P<value>[\d.]+) (?P<unit>\S+)\s+floor \((?P<floor_name>.+)\)\s+"
    r"(?P<floor>[\d.]+) \S+\s+ratio\s+(?P<ratio>[\d.]+|inf)\s+\(goal <= (?P<goal>[\d.]+)(?: \S+)?\)"
    r"\s+(?P<verdict>ok|OVER GOAL)\s*$"
)


@dataclass
class Result:
    script: str
    exit_status: int | None = None  # None: did not finish
    problem: str = ""  # why it did not finish
    seconds: float = 0.0
    figures: list[re.Match[str]] = field(default_factory=list)
    output: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        if self.problem:
            return self.problem
        over = sum(f["verdict"] != "ok" for f in self.figures)
        # Exit 1 with a figure over its goal is how common.report() says a goal does not hold.
        if self.exit_status not in (0, 1) or (self.exit_status == 1 and not over):
            return f"failed (exit {self.exit_status})"
        if not self.figures:
            return "printed no figure"
        return f"{over} goal(s) do not hold" if over else "every goal holds"

    @property
    def passed(self) -> bool:
        return self.verdict == "every goal holds"


def discover(folder: Path, names: list[str]) -> list[Path]:
    scripts = sorted(folder.glob("bench_*.py"))
    if not names:
        return scripts
    wanted = {n.removeprefix("bench_").removesuffix(".py") for n in names}
    chosen = [s for s in scripts if s.stem.removeprefix("bench_") in wanted]
    unknown = wanted - {s.stem.removeprefix("bench_") for s in chosen}
    if unknown:
        known = ", ".join(s.stem.removeprefix("bench_") for s in scripts)
        raise SystemExit(f"no benchmark named {', '.join(sorted(unknown))} (there are: {known})")
    return chosen


def run_script(script: Path, budget: float, home: Path) -> Result:
    result = Result(script.name)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
        "PHARMACIST_TOOL_HOME": str(home / script.stem),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("PHARMACIST_TOOL_DATABASE", None)
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, str(script)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        start_new_session=True,  # so that a script out of time is stopped with its children
    )

    def read() -> None:
        assert process.stdout is not None
        for raw in process.stdout:
            line = raw.rstrip("\n")
            result.output.append(line)
            print(f"  {line}", flush=True)
            match = FIGURE.match(line)
            if match:
                result.figures.append(match)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        code = process.wait(timeout=max(budget, 1.0))
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        result.problem = f"out of time ({budget:.0f} s)"
    else:
        result.exit_status = code
    reader.join(timeout=5)
    result.seconds = time.perf_counter() - started
    return result


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory() -> str:
    try:
        pages, page_size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        return f"{pages * page_size / 2**30:.1f} GiB"
    except (ValueError, OSError, AttributeError):
        return "unknown"


def _os_name() -> str:
    try:
        release = Path("/etc/os-release").read_text(encoding="utf-8")
        match = re.search(r'^PRETTY_NAME="?([^"\n]+)', release, re.MULTILINE)
        if match:
            return f"{match.group(1)} ({platform.system()} {platform.release()})"
    except OSError:
        pass
    return platform.platform()


def machine() -> list[tuple[str, str]]:
    versions = []
    for name in LIBRARIES:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{name} (not installed)")
    load = ""
    if hasattr(os, "getloadavg"):
        load = " · load average at start " + " ".join(f"{x:.2f}" for x in os.getloadavg())
    return [
        ("CPU", f"{_cpu_model()} · {os.cpu_count()} logical cores{load}"),
        ("RAM", _memory()),
        ("OS", _os_name()),
        ("Python", f"{platform.python_version()} ({platform.python_implementation()})"),
        ("SQLite", sqlite3.sqlite_version),
        ("Libraries", " · ".join(versions)),
    ]


def markdown(results: list[Result], about: list[tuple[str, str]]) -> str:
    lines = [
        "| Script | Figure | Value | Floor (same run) | Ratio | Goal | |",
        "|---|---|---|---|---|---|---|",
    ]
    for result in results:
        if not result.figures:
            lines.append(f"| `{result.script}` | — | {result.verdict} | | | | |")
        for f in result.figures:
            lines.append(
                f"| `{result.script}` | {f['name'].strip()} | {f['value']} {f['unit']} | "
                f"{f['floor_name']}: {f['floor']} {f['unit']} | {f['ratio']} | ≤ {f['goal']} | "
                f"{f['verdict']} |"
            )
    lines.append("")
    lines.append(f"Measured {dt.date.today().isoformat()} on:")
    lines.append("")
    lines.extend(f"- {key}: {value}" for key, value in about)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("only", nargs="*", help="run only these (e.g. startup records)")
    parser.add_argument("--budget", type=float, default=240, help="most seconds for a script")
    parser.add_argument("--total", type=float, default=290, help="seconds for the whole run")
    parser.add_argument("--markdown", action="store_true", help="also print a Markdown summary")
    parser.add_argument("--dir", type=Path, default=HERE, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    scripts = discover(args.dir.resolve(), args.only)
    if not scripts:
        print("no benchmark script (benchmarks/bench_*.py) found", file=sys.stderr)
        return 1
    about = machine()
    deadline = time.monotonic() + args.total
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="pharmacist-bench-") as home:
        for index, script in enumerate(scripts):
            still_to_run = len(scripts) - index - 1
            available = deadline - time.monotonic() - RESERVE * still_to_run
            if available < 5:
                results.append(Result(script.name, problem="not run: the whole run is out of time"))
                continue
            print(f"== {script.name}", flush=True)
            results.append(run_script(script, min(args.budget, available), Path(home)))

    print()
    print("== Summary: each figure beside its floor, measured side by side in the same run")
    for result in results:
        print(f"{result.script} ({result.seconds:.0f} s): {result.verdict}")
        for figure in result.figures:
            print(f"  {figure.group(0)}")
        if not result.figures:
            for line in result.output[-8:]:
                print(f"  | {line}")
    print()
    for key, value in about:
        print(f"{key:<10} {value}")
    total = sum(r.seconds for r in results)
    failed = [r.script for r in results if not r.passed]
    figures = sum(len(r.figures) for r in results)
    print(f"\n{figures} figures from {len(results)} scripts in {total:.0f} s; ", end="")
    print(f"failed: {', '.join(failed)}" if failed else "every goal holds")
    if args.markdown:
        print()
        print(markdown(results, about))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
