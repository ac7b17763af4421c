"""The monthly report from the records view: the pharmacist-in-charge asks for a period and a
file, the window's background runner makes it with the report service, and the PDF read back
says what the records say."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from pypdf import PdfReader

from pharmacist_tool.gui.records_view import RecordsView
from pharmacist_tool.records.reading import fetch_page, list_events
from tests.exports.conftest import PASSWORD, Counter
from tests.exports.conftest import counter as counter  # fixture
from tests.exports.conftest import filled as filled  # fixture
from tests.gui.driver import wait_for_password_check

pytestmark = pytest.mark.gui


def _pdf_text(path: Path) -> str:
    return "".join(page.extract_text() for page in PdfReader(path).pages)


def test_the_pharmacist_in_charge_makes_the_monthly_report_from_the_records_view(
    filled: Counter,
    qtbot,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    view = RecordsView(filled.db, user="ana")
    qtbot.addWidget(view)
    view.show()
    assert view.report_button.isEnabled()
    view.report_button.click()
    dialog = view.report_dialog
    qtbot.waitUntil(dialog.isVisible)
    dialog.since.setText("2026-04-01")
    dialog.until.setText("2026-03-01")
    assert dialog.make() is False
    assert dialog.status.text() == "✖ The period is empty: 2026-04-01 is after 2026-03-01."

    dialog.since.setText("2026-03-01")
    dialog.until.setText("2026-03-31")
    pdf, csv = tmp_path / "march.pdf", tmp_path / "march.csv"
    dialog.pdf.setText(str(pdf))
    dialog.csv.setText(str(csv))
    dialog.password.setText(PASSWORD)
    with qtbot.waitSignal(dialog.made, timeout=60_000):
        dialog.make_button.click()
    wait_for_password_check(qtbot, view)
    march = [
        r for r in fetch_page(filled.db, limit=100)
        if dt.date(2026, 3, 1) <= r.counselled_on <= dt.date(2026, 3, 31)
    ]  # fmt: skip
    assert march, "the period holds records"
    assert dialog.status.text().startswith(f"✓ Report of {len(march)} records written to {pdf}")
    text = _pdf_text(pdf)
    assert f"{len(march)} signed records in the period" in text
    (event,) = [e for e in list_events(filled.db) if e.action == "report"]
    assert event.username == "ana" and event.detail["records"] == len(march)
    assert event.detail["chain_head"] in text
    assert csv.read_text(encoding="utf-8").startswith("section,figure")


def test_a_wrong_password_makes_no_report(
    filled: Counter,
    qtbot,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    view = RecordsView(filled.db, user="ana")
    qtbot.addWidget(view)
    dialog = view.monthly_report()
    pdf = tmp_path / "r.pdf"
    dialog.pdf.setText(str(pdf))
    dialog.password.setText("not the password")
    assert dialog.make()
    wait_for_password_check(qtbot, view)
    assert dialog.status.text().startswith("✖ Not made: Wrong user name or password")
    assert not pdf.exists()


def test_only_an_administrator_is_offered_the_report(
    filled: Counter,
    qtbot,  # type: ignore[no-untyped-def]
) -> None:
    from pharmacist_tool.records.users import add_user, authenticate

    admin = authenticate(filled.db, "ana", PASSWORD, purpose="admin")
    add_user(filled.db, admin, "bo", "pharmacist", PASSWORD, full_name="Bo Staff")
    view = RecordsView(filled.db, user="bo")
    qtbot.addWidget(view)
    assert not view.report_button.isEnabled()
    assert view.report_button.toolTip() == (
        "Only the pharmacist-in-charge or another administrator may make the monthly report; "
        "bo is a pharmacist."
    )
    assert view.monthly_report() is None
    assert view.status.text().startswith("✖ Only the pharmacist-in-charge")
