"""Start-up of the counselling window against a bare PySide6 window, side by side.

Subject: ``python -m pharmacist_tool gui --smoke`` (opens the main window with the first example
case, waits for its first paint, exits). Floor: a script that imports PySide6.QtWidgets, builds a
QMainWindow with a few widgets, shows it, processes events and exits. Both run offscreen, in
turn, in fresh processes; both use the same bytecode cache (a temporary folder, filled by the
warm-up runs), as an installed copy would. Goal: the window within 2x the floor.

What is timed is the whole process, so it includes leaving: both leave with ``os._exit`` once
the window is painted (tearing widgets down one by one is not start-up; for the smoke run's
hundreds of widgets it took ~0.2 s here), so neither pays for its teardown. The knowledge base
and the first assessment load right after the first paint, so they are not in the figure; the
window shows the case's fields at first paint and "Checking…" in the findings for a moment.

Run: ``.venv/bin/python benchmarks/bench_startup.py [--runs N]``
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import PYTHON, Comparison, fresh_app_env, paired_process_medians, report

FLOOR = """
import os
import sys
from PySide6.QtWidgets import (QApplication, QMainWindow, QWidget, QVBoxLayout,
                               QLabel, QLineEdit, QPushButton, QTableWidget)
app = QApplication(sys.argv)
win = QMainWindow()
win.setWindowTitle("floor")
central = QWidget()
lay = QVBoxLayout(central)
lay.addWidget(QLabel("Patient"))
lay.addWidget(QLineEdit())
lay.addWidget(QPushButton("Save"))
lay.addWidget(QTableWidget(5, 3))
win.setCentralWidget(central)
win.resize(800, 600)
win.show()
app.processEvents()
os._exit(0)
"""

GOAL = 2.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        env = {"QT_QPA_PLATFORM": "offscreen", **fresh_app_env(tmp)}
        subject = [PYTHON, "-m", "pharmacist_tool", "gui", "--smoke"]
        floor = [PYTHON, "-c", FLOOR]
        value, floor_value = paired_process_medians(subject, floor, runs=args.runs, env=env)
    return report(
        [
            Comparison.in_ms(
                "window start-up to first paint (gui --smoke)",
                value,
                floor_value,
                "bare PySide6 window",
                GOAL,
            )
        ]
    )


if __name__ == "__main__":
    raise SystemExit(main())
