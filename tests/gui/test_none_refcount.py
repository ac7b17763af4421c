"""The Qt binding must not lose references to None: on Python 3.11, where None is not immortal,
PySide6-Essentials 6.12.0 dropped one per void call and a long session died with
"Fatal Python error: none_dealloc"."""

import sys

from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

CALLS = 2_000


def test_void_qt_calls_keep_the_reference_count_of_none(qtbot: QtBot) -> None:
    label = QLabel()
    qtbot.addWidget(label)
    before = sys.getrefcount(None)
    for index in range(CALLS):
        label.setText(str(index))
        label.setVisible(index % 2 == 0)
        label.setToolTip("")
    after = sys.getrefcount(None)
    # A few references come and go with the interpreter's own work; a leak would be thousands.
    assert abs(after - before) < CALLS // 10, (before, after)
