"""The real ``pharmacist-tool gui`` start (``run_gui``), with one thing planted once the window
has painted: run by test_fatal_error.py as a separate process.

``fatal``: a fatal Python error, as a reference-count bug in Qt's bindings gives
("Fatal Python error: none_dealloc": C code writes it to standard error and aborts).
``abort``: SIGABRT (faulthandler's own test hook). ``report``: print the start screen's note,
then close the window as a person would.
"""

from __future__ import annotations

import ctypes
import faulthandler
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from pharmacist_tool.gui.app import run_gui
from pharmacist_tool.gui.window import MainWindow

PLANTED = b"planted: none_dealloc"


def planted(mode: str, window: MainWindow) -> None:
    if mode == "fatal":
        ctypes.pythonapi.Py_FatalError(ctypes.c_char_p(PLANTED))
    elif mode == "abort":
        faulthandler._sigabrt()
    else:
        print("NOTE", window.start_note.text(), flush=True)
        window.close()


def main() -> int:
    mode = sys.argv[1]
    app = QApplication([])

    def when_painted() -> None:
        window = next(w for w in app.topLevelWidgets() if isinstance(w, MainWindow))
        print("UP", flush=True)
        QTimer.singleShot(0, lambda: planted(mode, window))

    def hook() -> None:
        window = next(w for w in app.topLevelWidgets() if isinstance(w, MainWindow))
        window.first_painted.connect(when_painted)

    QTimer.singleShot(0, hook)  # runs once run_gui has made the window and started the loop
    return run_gui()


if __name__ == "__main__":
    sys.exit(main())
