"""A session of each medicine pack, typed in the window, to a signed record that names its pack:
read back from the SQLite file itself, not through the tool."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from pharmacist_tool import paths
from pharmacist_tool.case import dump_case, load_case
from pharmacist_tool.engine import assess
from pharmacist_tool.knowledge import load_for_counter
from tests.conftest import EXAMPLE_FILES
from tests.gui.driver import (
    CTRL,
    Keyboard,
    choose_outcome,
    confirm_checklist,
    fill_case,
    record_duties,
    resolve_findings,
)
from tests.records.helpers import make_pdf

pytestmark = pytest.mark.gui

PACKS = Path(__file__).parents[1] / "fixtures" / "packs"
CASES = [
    next(p for p in EXAMPLE_FILES if p.stem.startswith("05-")),
    PACKS / "acitretin-uk-ppp-routine.json",
    PACKS / "valproate-uk-ppp-man.json",
]


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_the_signed_record_names_the_pack_it_was_assessed_with(
    path: Path, window: Any, qtbot: Any, users: dict[str, str], tmp_path: Path
) -> None:
    case = load_case(path)
    expected = assess(case, load_for_counter(case.prescription.medicine)).knowledge_base
    kb = Keyboard(qtbot, window)
    kb.press(Qt.Key.Key_N, CTRL)
    fill_case(kb, case)
    assert window.problems == [], window.problems
    assert window.case.patient.sex == case.patient.sex  # typed in step 1 where the pack asks it
    choose_outcome(kb, "handed-over")
    resolve_findings(kb)
    confirm_checklist(kb)
    record_duties(kb, on=case.counselled_on)
    assert window.missing() == [], window.missing()

    finished = tmp_path / "session.json"
    finished.write_bytes(dump_case(window.case))
    sheet = tmp_path / "leaflet.pdf"
    sheet.write_bytes(make_pdf("The sheet given"))
    result = subprocess.run(
        [sys.executable, "-m", "pharmacist_tool", "sign", str(finished), "--user",
         users["pharmacist"], "--password-stdin", "--handout", str(sheet)],
        input=users["password"] + "\n", capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr

    with sqlite3.connect(paths.data_dir() / "records.sqlite3") as conn:
        rows = conn.execute(
            "SELECT pack, knowledge_base_version, chain_format, "
            "json_extract(assessment_json, '$.knowledge_base.medicine') FROM records"
        ).fetchall()
    assert rows == [(expected.medicine, expected.version, 2, expected.medicine)]
