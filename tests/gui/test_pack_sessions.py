"""A whole session for a case of each new medicine pack, typed from the keyboard, to a signed
record: the window loads the case's own pack (its products, rule sets, checklist, findings) as
soon as the medicine names it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from pharmacist_tool.case import load_case
from pharmacist_tool.engine import assess
from pharmacist_tool.knowledge import load_for_counter
from tests.gui.driver import (
    CTRL,
    Keyboard,
    choose_outcome,
    confirm_checklist,
    fill_case,
    record_duties,
    resolve_findings,
    sign,
)
from tests.gui.test_sessions import shown, stored_records

pytestmark = pytest.mark.gui

PACK_CASES = sorted((Path(__file__).parents[1] / "fixtures" / "packs").glob("*.json"))


@pytest.mark.parametrize("path", PACK_CASES, ids=[p.stem for p in PACK_CASES])
def test_a_session_of_each_pack_to_a_signed_record(
    path: Path, window: Any, qtbot: Any, users: dict[str, str], tmp_path: Path
) -> None:
    case = load_case(path)
    expected = assess(case, load_for_counter(case.prescription.medicine))
    pack = path.stem.split("-")[0]
    assert expected.knowledge_base.medicine == pack
    kb = Keyboard(qtbot, window)

    kb.press(Qt.Key.Key_N, CTRL)
    fill_case(kb, case)
    assert window.problems == [] and window.assessment is not None, window.problems
    assert window.kb.medicine == pack
    assert window.assessment.knowledge_base.medicine == pack
    assert shown(window) == {(f.code, f.severity, f.subject) for f in expected.findings}
    assert [c.id for c in window.assessment.checklist] == [c.id for c in expected.checklist]

    choose_outcome(kb, "handed-over")
    resolved = resolve_findings(kb)
    assert sorted(resolved) == sorted(f.code for f in expected.findings if f.needs_resolution)
    confirm_checklist(kb)
    recorded = record_duties(kb, on=case.counselled_on)
    assert sorted(recorded) == sorted(d.id for d in (expected.duties or []))  # type: ignore[union-attr]
    assert window.missing() == [], window.missing()
    # The window signs with the pack's own sheet, the one its preview shows.
    with qtbot.waitSignal(window.signed, timeout=30_000):
        sign(kb, users["pharmacist"], users["password"])
    (record,) = stored_records()
    assert record.outcome == "handed-over"
    assert record.knowledge_base_version == expected.knowledge_base.version
    assert record.rules_version == expected.knowledge_base.rules_version

    from pharmacist_tool.handout.wording import load_wording
    from pharmacist_tool.records.db import open_database
    from pharmacist_tool.records.reading import get_record
    from tests.handout.conftest import read_pdf

    with open_database() as db:
        stored = get_record(db, record.id, include_handout=True)
        assessment = json.loads(stored.assessment_json)
    assert assessment["knowledge_base"]["medicine"] == pack
    assert stored.case.supply_duties == recorded  # each duty as a fact, as chosen in step 2
    assert stored.handout_source == "rendered"
    wording = load_wording("en", pack)
    assert wording is not None
    assert wording.data.generic in read_pdf(stored.stored["handout_pdf"]).text.casefold()


def test_saving_the_settings_keeps_the_other_packs_dates(
    window: Any, qtbot: Any, users: dict[str, str]
) -> None:
    """The dialog lists every pack's versions; another pack's confirmed date stays."""
    import datetime as dt

    from pharmacist_tool.settings import Settings, load_settings, save_settings
    from tests.conftest import EXAMPLE_FILES
    from tests.gui.counter import sign_in

    sign_in(qtbot, window, "admin")

    other = {"acitretin/acitretin-uk-ppp-2018": dt.date(2018, 4, 2)}
    save_settings(Settings(rule_effective_dates=other))
    window.apply_settings(load_settings())
    kb = Keyboard(qtbot, window)
    window.open_case_file(EXAMPLE_FILES[0])
    kb.settle()
    kb.press(Qt.Key.Key_Comma, CTRL)
    dialog = window.settings_dialog
    qtbot.waitUntil(dialog.isVisible)
    ids = [
        f"{dialog.dates.item(r, 0).text()}/{dialog.dates.item(r, 1).text()}"
        for r in range(dialog.dates.rowCount())
    ]
    assert "acitretin/acitretin-uk-ppp-2018" in ids
    assert dialog.dates.item(ids.index("acitretin/acitretin-uk-ppp-2018"), 3).text() == "2018-04-02"
    row = ids.index("isotretinoin/us-ipledge-2026")
    dialog.dates.item(row, 3).setText("2027-01-31")
    dialog.save()
    assert load_settings().rule_effective_dates == other | {
        "isotretinoin/us-ipledge-2026": dt.date(2027, 1, 31)
    }
