"""The export CSV's columns an inspector filters on: the pick-up window, the next test due, who
prepared the session, and each pregnancy test's date and days before the fill."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from pharmacist_tool.exports.service import export_records
from pharmacist_tool.records.db import open_database
from pharmacist_tool.records.reading import RecordFilter
from pharmacist_tool.records.users import add_user, authenticate, create_first_admin
from pharmacist_tool.records.writing import sign_record
from tests.exports.conftest import handout_for
from tests.records.helpers import PASSWORD
from tests.reports.test_monthly_report import _session


def test_the_inspector_columns_come_from_the_signed_case_and_assessment(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'r.sqlite3'}")
    try:
        create_first_admin(db, "pic", PASSWORD, full_name="Pat In-Charge", role="pharmacist")
        admin = authenticate(db, "pic", PASSWORD, purpose="admin")
        add_user(db, admin, "tom", "technician", PASSWORD, full_name="Tom Tech")
        signer = authenticate(db, "pic", PASSWORD, purpose="sign")
        case, assessment = _session("01")
        sign_record(db, signer, case, assessment, handout_for(case), prepared_by="tom")
        alone, alone_assessment = _session("05")
        sign_record(db, signer, alone, alone_assessment, handout_for(alone))
        export_records(db, "csv", tmp_path / "out.csv", RecordFilter(), username=signer)
    finally:
        db.close()
    with (tmp_path / "out.csv").open(encoding="utf-8-sig", newline="") as handle:
        first, second = list(csv.DictReader(handle))
    assert first["pick_up_by"] == str(assessment.pick_up_by)
    assert first["next_pregnancy_test_due"] == str(assessment.next_pregnancy_test_due)
    assert first["prepared_by"] == "tom" and second["prepared_by"] == ""
    tests = case.pregnancy_tests
    assert first["pregnancy_test_dates"] == "; ".join(t.date.isoformat() for t in tests)
    days = [(case.counselled_on - t.date).days for t in tests]
    assert first["pregnancy_test_days_before_fill"] == "; ".join(map(str, days))
    newest = max(tests, key=lambda t: t.date)
    assert first["newest_pregnancy_test_date"] == newest.date.isoformat()
    assert first["newest_pregnancy_test_result"] == newest.result
    assert (
        int(first["newest_pregnancy_test_days_before_fill"])
        == (case.counselled_on - newest.date).days
    )
    assert isinstance(dt.date.fromisoformat(first["pick_up_by"]), dt.date)
    assert second["newest_pregnancy_test_date"] == "" and not alone.pregnancy_tests
