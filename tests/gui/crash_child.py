"""A counter session that is killed mid-way: run by test_recovery.py as a separate process.

Types example 02 into a new session from the keyboard, types a resolution, ticks a counselling
point, leaves a medicine typed but not added, prints ``SAVED`` once the draft is on disk, then
waits to be killed (SIGKILL: no clean-up of any kind runs).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from pharmacist_tool.case import load_case
from pharmacist_tool.gui.app import create_window
from tests.gui.driver import CTRL, Keyboard, fill_case

RESOLUTION = "Rang Dr Osei: doxycycline stopped today — ÿ check"
STOPPED = "prescriber-stopped-other-medicine"
STOPPED_WORDS = "The prescriber stopped the other medicine"
PENDING = "St John's wort"


class Bot:
    """The few pytest-qt calls the keyboard driver uses, on QTest directly."""

    def __init__(self, app: QApplication) -> None:
        self.app = app

    def keyClick(self, widget, key, modifier=Qt.KeyboardModifier.NoModifier):  # noqa: N802
        QTest.keyClick(widget, key, modifier)

    def keyClicks(self, widget, text):  # noqa: N802
        QTest.keyClicks(widget, text)

    def wait(self, ms):
        QTest.qWait(ms)

    @contextlib.contextmanager
    def waitSignal(self, signal, timeout=5000):  # noqa: N802
        seen = []
        signal.connect(lambda *args: seen.append(args))
        yield
        self.waitUntil(lambda: bool(seen), timeout)

    def waitUntil(self, check, timeout=5000):  # noqa: N802
        end = time.monotonic() + timeout / 1000
        while not check():
            if time.monotonic() > end:
                raise TimeoutError("condition not met")
            QTest.qWait(10)


def main() -> None:
    case = load_case(sys.argv[1])
    app = QApplication.instance() or QApplication([])
    window = create_window()
    window.resize(1280, 820)
    bot = Bot(app)
    with bot.waitSignal(window.first_painted):
        window.show()
    window.activateWindow()
    kb = Keyboard(bot, window)
    kb.press(Qt.Key.Key_N, CTRL)
    fill_case(kb, case)
    kb.press(Qt.Key.Key_F, CTRL)  # the first finding's answer, then its note
    kb.choose(STOPPED_WORDS)
    kb.tab()
    kb.type(RESOLUTION)
    kb.step(5)
    kb.press(Qt.Key.Key_Space)
    kb.step(4)
    kb.type(PENDING)  # typed, not added: it must come back too
    kb.settle()
    QTest.qWait(50)
    print("SAVED", window.meta.id, flush=True)
    while True:
        QTest.qWait(1000)


if __name__ == "__main__":
    main()
