"""Never lose work: a session killed mid-way (SIGKILL) comes back intact in a new window."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from pharmacist_tool import paths
from pharmacist_tool.case import Resolution, load_case
from pharmacist_tool.counselling import drafts
from tests.conftest import EXAMPLE_FILES
from tests.gui.crash_child import PENDING, RESOLUTION, STOPPED, STOPPED_WORDS
from tests.gui.driver import Keyboard

pytestmark = [pytest.mark.gui, pytest.mark.slow]

CHILD = Path(__file__).with_name("crash_child.py")


def test_killed_session_comes_back_with_every_field(isolated_home: Path, qtbot: Any) -> None:
    path = next(p for p in EXAMPLE_FILES if p.name.startswith("02"))
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONDONTWRITEBYTECODE": "1"}
    child = subprocess.Popen(
        [sys.executable, str(CHILD), str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        text=True,
    )
    try:
        line = child.stdout.readline() if child.stdout else ""
        assert line.startswith("SAVED "), f"the child did not get to the end: {line!r}"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    draft_id = line.split()[1]

    # A new window, opened after the kill, offers the session back on its start screen.
    from pharmacist_tool.gui.app import create_window

    window = create_window()
    qtbot.addWidget(window)
    window.resize(1280, 820)
    with qtbot.waitSignal(window.first_painted):
        window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    assert [m.id for m in drafts.list_drafts()] == [draft_id]
    assert window.stack.currentIndex() == 0 and window.drafts_list.count() == 1
    kb = Keyboard(qtbot, window)
    window.drafts_list.setFocus()
    listed = window.drafts_list.currentItem().text()
    assert "Tomás" not in listed and listed.startswith("Session · step "), "no name at rest"
    kb.press(Qt.Key.Key_Return)
    kb.settle()
    assert window.meta is not None and window.meta.id == draft_id

    case = load_case(path)
    got = window.case.complete()
    assert got is not None
    assert got.patient == case.patient
    assert got.prescription == case.prescription
    assert got.rule_set == case.rule_set and got.counselled_on == case.counselled_on
    assert got.medicines == case.medicines
    assert got.resolutions == {
        "interaction.tetracyclines": Resolution(action=STOPPED, note=RESOLUTION)
    }
    first_item = window.pages[4].ids[0]
    assert got.checklist == {first_item: True}
    assert window.pages[4].boxes[first_item].isChecked()
    # What was typed but not added, and the step the pharmacist was on, come back too.
    assert window.pages[3].editor.edit.text() == PENDING
    assert window.current_step() == 3
    item = window.findings.items["interaction.tetracyclines"]
    assert item.resolution.text() == RESOLUTION and item.answer.currentText() == STOPPED_WORDS
    assert not any(
        f.stands for f in window.assessment.findings if f.code == "interaction.tetracyclines"
    )


def test_a_draft_is_one_file_that_is_also_a_case_file(window: Any, qtbot: Any) -> None:
    """Case and metadata in one atomic file; the command line reads it as a case."""
    from tests.conftest import run_cli

    window.open_case_file(next(p for p in EXAMPLE_FILES if p.name.startswith("05")))
    with qtbot.waitSignal(window.saved):
        window.pages[0].prescriber.setText("Dr A. Mensah")
    files = sorted(p.name for p in (paths.drafts_dir()).iterdir())
    assert files == [f"{window.meta.id}.json"], files
    done = run_cli("assess", str(drafts.draft_path(window.meta.id)))
    assert done.returncode == 0, done.stderr
    assert b"interaction.vitamin-a" in done.stdout
