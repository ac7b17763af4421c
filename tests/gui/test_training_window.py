"""The staff-training register in the window: the Users screen names training lapsed or never
recorded, and an administrator records training there (a signed, chained event)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from tests.gui.driver import wait_for_password_check
from tests.records.helpers import PASSWORD

pytestmark = pytest.mark.gui

IPLEDGE = "isotretinoin/US-iPLEDGE"


def test_the_users_screen_shows_lapsed_training_and_records_new_training(
    qtbot: Any, tmp_path: Path, isolated_home: Path
) -> None:
    from pharmacist_tool.gui.users_view import COLUMNS, UsersDialog
    from pharmacist_tool.records import service, training, users
    from pharmacist_tool.records.db import open_database

    today = dt.date.today()
    with open_database(f"sqlite:///{tmp_path / 'records.sqlite3'}") as db:
        users.create_first_admin(db, "boss", PASSWORD, full_name="Pat Boss", role="pharmacist")
        admin = users.authenticate(db, "boss", PASSWORD, purpose="admin")
        users.add_user(db, admin, "rosei", "pharmacist", PASSWORD, full_name="Rita Osei")
        long_ago = today - dt.timedelta(days=400)
        training.record_training(db, admin, "rosei", IPLEDGE, long_ago)
        dialog = UsersDialog(None, db, admin)
        qtbot.addWidget(dialog)
        dialog.show()
        alerts = dialog.training_alerts.text()
        assert dialog.training_alerts.isVisible()
        lapsed_on = (long_ago + dt.timedelta(days=365)).isoformat()
        assert f"⚠ Training: rosei — {IPLEDGE}: lapsed on {lapsed_on}" in alerts
        assert f"⚠ Training: boss — {IPLEDGE}: no training recorded" in alerts
        row = [u.username for u in dialog.users].index("rosei")
        assert dialog.table.item(row, len(COLUMNS) - 1).text() == f"{IPLEDGE}: lapsed"
        dialog.table.selectRow(row)
        assert f"lapsed on {lapsed_on}" in dialog.training_of.text()

        dialog.programme.setCurrentIndex(dialog.programme.findData(IPLEDGE))
        dialog.trained_on.setText("not a day")
        dialog.record_training_button.click()
        assert dialog.message.text().startswith("✖ Not done: “not a day” is not a date")
        dialog.trained_on.setText(today.isoformat())
        dialog.own_password.setText(PASSWORD)
        dialog.record_training_button.click()
        wait_for_password_check(qtbot, dialog)
        assert dialog.message.text() == (
            f"✓ rosei's training on {IPLEDGE} on {today.isoformat()} is recorded."
        ), dialog.message.text()
        assert "rosei —" not in dialog.training_alerts.text()
        assert dialog.table.item(row, len(COLUMNS) - 1).text() == f"{IPLEDGE}: in-date"
        assert [e.recorded_by for e in training.entries(db, "rosei")] == ["boss", "boss"]
        assert service.verify(db).intact
        dialog.reject()
