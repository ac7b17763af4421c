"""The medicines step shows, beside each line, how it was screened (``medicines_screened``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt

from tests.conftest import EXAMPLE_FILES
from tests.gui.driver import Keyboard


def _example(prefix: str) -> Path:
    (path,) = [p for p in EXAMPLE_FILES if p.name.startswith(prefix)]
    return path


def test_each_line_says_what_it_was_recognised_as_or_that_it_was_not_screened(
    window: Any, qtbot: Any
) -> None:
    kb = Keyboard(qtbot, window)
    window.open_case_file(_example("02"))
    kb.settle()
    kb.step(4)
    editor = window.pages[3].editor
    assert kb.focus is editor.edit
    for line in ("Zoloft 50 mg", "Xyzzy", "carbamezapine"):
        kb.type(line)
        kb.enter()
    kb.settle()
    texts = {editor.values[i]: editor.list.item(i).text() for i in range(editor.list.count())}
    assert "recognised as sertraline: no interaction known" in texts["Zoloft 50 mg"]
    assert "NOT RECOGNISED: not screened" in texts["Xyzzy"]
    assert "spelt close to" in texts["carbamezapine"]
    assert "recognised as carbamazepine" in texts["carbamezapine"]
    # the label is read out too, and the findings panel names the line that was not screened
    row = editor.values.index("Xyzzy")
    spoken = editor.list.item(row).data(Qt.ItemDataRole.AccessibleTextRole)
    assert spoken.startswith("Xyzzy: NOT RECOGNISED")
    assert "medicine.unrecognised" in window.findings.items
