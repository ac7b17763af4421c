"""``pharmacist-tool assess CASE`` against a bare ``python -c pass``, side by side.

Subject: ``python -m pharmacist_tool assess`` on the first example case (start Python, parse the
command line, load and validate the whole knowledge base, open the vocabulary of medicine names,
read the case, assess it, print the JSON). Floor: ``python -c pass``. Both run in turn in fresh
processes (A B A B …) with the same bytecode cache (a temporary folder filled by the warm-up
runs), as an installed copy would have, and with a temporary home folder so nothing of the
user's is read or written. Goal: at most 6x the floor.

Third figure: a case of another pack (valproate) against the same floor: with four packs
installed, only the case's pack is read. Fourth: a topiramate case (indication, the medicine's
own weakening of contraception) against the same floor.

Second figure: the same case with 200 medicine lines (the first 200 of the everyday fixture,
each looked up in the whole vocabulary) against the same case with one line. Goal: at most 2x.

Run: ``.venv/bin/python benchmarks/bench_assess.py [--runs N]``
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import (
    PYTHON,
    REPO,
    Comparison,
    fresh_app_env,
    paired_process_medians,
    report,
)

GOAL = 6.0
LINES_GOAL = 2.0
CASE = REPO / "tests" / "fixtures" / "examples" / "01-routine-can-get-pregnant.json"
EVERYDAY = REPO / "tests" / "fixtures" / "everyday-medicines.json"
OTHER_PACK_CASE = REPO / "tests" / "fixtures" / "packs" / "valproate-uk-ppp-routine.json"
FOURTH_PACK_CASE = REPO / "tests" / "fixtures" / "packs" / "topiramate-eu-ppp-epilepsy.json"


def _case_with(lines: list[str], path: Path) -> Path:
    data = json.loads(CASE.read_text(encoding="utf-8")) | {"medicines": lines}
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-assess-") as tmp:
        env = fresh_app_env(tmp)
        subject = [PYTHON, "-m", "pharmacist_tool", "assess", str(CASE)]
        floor = [PYTHON, "-c", "pass"]
        value, floor_value = paired_process_medians(subject, floor, runs=args.runs, env=env)
        other = [PYTHON, "-m", "pharmacist_tool", "assess", str(OTHER_PACK_CASE)]
        other_value, other_floor = paired_process_medians(other, floor, runs=args.runs, env=env)
        fourth = [PYTHON, "-m", "pharmacist_tool", "assess", str(FOURTH_PACK_CASE)]
        fourth_value, fourth_floor = paired_process_medians(fourth, floor, runs=args.runs, env=env)
        lines = json.loads(EVERYDAY.read_text(encoding="utf-8"))["lines"][:200]
        many = _case_with(lines, Path(tmp) / "200-lines.json")
        one = _case_with(lines[:1], Path(tmp) / "1-line.json")
        many_value, one_value = paired_process_medians(
            [PYTHON, "-m", "pharmacist_tool", "assess", str(many)],
            [PYTHON, "-m", "pharmacist_tool", "assess", str(one)],
            runs=args.runs,
            env=env,
        )
    return report(
        [
            Comparison.in_ms(
                "assess (example 01, whole process)", value, floor_value, "python -c pass", GOAL
            ),
            Comparison.in_ms(
                "assess, 200 medicine lines (whole process)",
                many_value,
                one_value,
                "1 line",
                LINES_GOAL,
            ),
            Comparison.in_ms(
                "assess (a valproate case, whole process)",
                other_value,
                other_floor,
                "python -c pass",
                GOAL,
            ),
            Comparison.in_ms(
                "assess (a topiramate case, whole process)",
                fourth_value,
                fourth_floor,
                "python -c pass",
                GOAL,
            ),
        ]
    )


if __name__ == "__main__":
    raise SystemExit(main())
