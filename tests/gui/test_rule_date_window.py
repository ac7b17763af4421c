"""The 2026 iPLEDGE effective date in the window: shown as unconfirmed in the session until an
administrator confirms it in Settings, a change audited and signed like every settings change."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from tests.conftest import EXAMPLES
from tests.gui.counter import sign_in

pytestmark = pytest.mark.gui

KEY = "isotretinoin/us-ipledge-2026"
UNCONFIRMED = (
    "rule version us-ipledge-2026 in force from 2026-11-15 (date unconfirmed — confirm in Settings)"
)


def test_the_unconfirmed_date_is_shown_until_confirmed_in_settings(
    window: Any, qtbot: Any, users: dict[str, str], tmp_path: Path
) -> None:
    from pharmacist_tool.records.db import open_database
    from pharmacist_tool.records.reading import list_events
    from pharmacist_tool.records.service import verify
    from pharmacist_tool.settings import load_settings

    sign_in(qtbot, window, "admin")
    (source,) = EXAMPLES.glob("01*.json")
    path = tmp_path / "case.json"
    path.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    assert window.open_case_file(path)
    qtbot.waitUntil(lambda: window.assessment is not None)
    qtbot.waitUntil(lambda: window.banner_rules.text() == UNCONFIRMED)

    window.open_settings()
    dialog = window.settings_dialog
    qtbot.waitUntil(dialog.isVisible)
    rows = {
        f"{dialog.dates.item(r, 0).text()}/{dialog.dates.item(r, 1).text()}": r
        for r in range(dialog.dates.rowCount())
    }
    box = dialog.dates.item(rows[KEY], 4)
    assert (box.text(), box.checkState()) == ("UNCONFIRMED", Qt.CheckState.Unchecked)
    assert dialog.dates.item(rows["isotretinoin/us-ipledge-2021"], 4).text() == "published date"
    box.setCheckState(Qt.CheckState.Checked)
    with qtbot.waitSignal(dialog.accepted_settings):
        dialog.save()
    assert str(load_settings().confirmed_rule_dates[KEY]) == "2026-11-15"
    qtbot.waitUntil(
        lambda: (
            window.banner_rules.text() == "rule version us-ipledge-2026 in force from 2026-11-15"
        )
    )
    with open_database() as db:
        (event,) = [e for e in list_events(db) if e.action == "settings-changed"]
        assert event.username == "admin"
        assert event.detail["changed"] == {
            f"confirmed_rule_dates.{KEY}": {"from": "", "to": "2026-11-15"}
        }
        assert verify(db).intact

    window.open_settings()
    again = window.settings_dialog
    qtbot.waitUntil(again.isVisible)
    kept = again.dates.item(rows[KEY], 4)
    assert (kept.text(), kept.checkState()) == ("confirmed by the pharmacy", Qt.CheckState.Checked)
    again.dates.item(rows[KEY], 3).setText("2026-12-01")  # another date: confirmed anew
    with qtbot.waitSignal(again.accepted_settings):
        again.save()
    assert str(load_settings().confirmed_rule_dates[KEY]) == "2026-12-01"
