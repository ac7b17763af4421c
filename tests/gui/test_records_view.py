"""The records view, driven as a pharmacist would: search, open, reprint, amend, export."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from pharmacist_tool.gui.records_view import RecordsView
from pharmacist_tool.records.reading import get_handout, get_record, list_events
from pharmacist_tool.records.service import verify
from tests.exports.conftest import PASSWORD, TRICKY_NAMES, Counter
from tests.exports.conftest import counter as counter  # fixture
from tests.exports.conftest import filled as filled  # fixture

pytestmark = pytest.mark.gui


@pytest.fixture
def view(filled: Counter, qtbot) -> RecordsView:  # type: ignore[no-untyped-def]
    widget = RecordsView(filled.db, user="ana")
    qtbot.addWidget(widget)
    widget.resize(1100, 600)
    widget.show()
    return widget


def _names(view: RecordsView) -> list[str]:
    return [view.model.rows[i].patient_name for i in range(view.model.rowCount())]


def test_search_by_name_date_and_outcome(view: RecordsView, qtbot) -> None:  # type: ignore[no-untyped-def]
    assert view.model.rowCount() == 6 + len(TRICKY_NAMES)
    assert "12 records found" in view.status.text()
    qtbot.keyClicks(view.patient, "zoe")
    qtbot.keyClick(view.patient, Qt.Key.Key_Return)
    assert _names(view) == [TRICKY_NAMES[5]]  # accents and case ignored
    view.patient.clear()
    view.since.setText("2026-04-02")
    view.until.setText("2026-04-03")
    view.search()
    assert sorted(_names(view)) == sorted(TRICKY_NAMES[1:3])
    view.since.setText("2 April")
    view.search()
    assert "YYYY-MM-DD" in view.status.text()
    view.since.clear()
    view.until.clear()
    view.outcome.setCurrentIndex(view.outcome.findData("declined"))
    view.search()
    assert view.model.rowCount() == 0
    assert "No record" in view.status.text()


def test_sorting_and_paging(view: RecordsView, filled: Counter) -> None:
    view.outcome.setCurrentIndex(0)
    view.model.sort(3, Qt.SortOrder.AscendingOrder)  # by patient
    keys = [r.sort_value for r in view.model.rows]
    assert keys == sorted(keys)
    # page boundaries: a page size of 5 still gives every row once, in order
    import pharmacist_tool.gui.records_view as module

    old = module.PAGE_SIZE
    module.PAGE_SIZE = 5
    try:
        view.model.refresh()
        while view.model.canFetchMore():
            view.model.fetchMore()
        ids = [r.id for r in view.model.rows]
        assert sorted(ids) == list(range(1, 13)) and len(set(ids)) == 12
    finally:
        module.PAGE_SIZE = old


def test_open_shows_the_record_and_its_amendment(view: RecordsView) -> None:
    view.model.sort(0, Qt.SortOrder.AscendingOrder)
    dialog = view.open_record(1)
    assert dialog is not None
    text = dialog.text.toPlainText()
    assert "Record 1" in text
    assert "Signed by Ana Pharmacist" in text
    assert "Surname was misspelt" in text
    assert dialog.text.isReadOnly()
    assert list_events(view.db, action="view")[0].record_id == 1


def test_reprint_sends_the_identical_bytes(view: RecordsView, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    first_print = get_handout(view.db, 3).pdf
    with qtbot.waitSignal(view.reprinted) as caught:
        view.reprint(3)
    assert caught.args == [3, first_print]
    from pharmacist_tool.gui import printing

    if printing.cups_running():  # no printer is chosen here and this machine may have none
        assert view.status.text().startswith(("✓ Handout of record 3 sent", "✖ Not printed"))
    else:
        view.print_dialog.reject()
    event = list_events(view.db, action="reprint")[0]
    assert event.record_id == 3 and event.username == "ana"
    saved = view.save_handout(3, str(tmp_path / "again.pdf"))
    assert saved is not None and saved.read_bytes() == first_print


def test_amend_asks_the_window_for_the_session_steps(view: RecordsView, qtbot) -> None:  # type: ignore[no-untyped-def]
    """Amend opens no editor of its own: the window opens the record in the session steps
    (tests/gui/test_amend_window.py); until it is signed there nothing is stored."""
    record = get_record(view.db, 4)
    amends = list_events(view.db, action="amend")
    with qtbot.waitSignal(view.amend_requested) as asked:
        assert view.amend(4) is True
    assert asked.args == [4]
    after = get_record(view.db, 4)
    assert after.amendments == record.amendments and after.case_json == record.case_json
    assert list_events(view.db, action="amend") == amends


def test_export_with_progress_and_cancel(view: RecordsView, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    view.since.setText("2026-04-01")
    view.search()
    dialog = view.export()
    assert dialog is not None
    out = tmp_path / "april.csv"
    dialog.format.setCurrentIndex(dialog.format.findData("csv"))
    dialog.path.setText(str(out))
    progress: list[tuple[int, int]] = []
    dialog.progressed.connect(lambda d, t: progress.append((d, t)))
    with qtbot.waitSignal(view.exported, timeout=20000):
        with qtbot.waitSignal(dialog.runner.settled, timeout=20000):
            dialog.start()
        dialog.accept()
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(TRICKY_NAMES)
    assert dialog.bar.value() == dialog.bar.maximum()
    assert progress and progress[0] == (0, len(TRICKY_NAMES))  # said as it went
    assert "Exported 6 records" in dialog.status.text()

    # a cancelled export leaves no file
    dialog = view.export()
    assert dialog is not None
    stopped = tmp_path / "stopped.json"
    dialog.format.setCurrentIndex(dialog.format.findData("json"))
    dialog.path.setText(str(stopped))
    with qtbot.waitSignal(dialog.runner.settled, timeout=20000):
        dialog.start()
        dialog.cancel()  # what the Cancel button does while it runs
    assert "cancelled" in dialog.status.text()
    assert not stopped.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".stopped")]


def test_backup_from_the_window(view: RecordsView, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Backup and restore run in the view's background runner: the test waits on its signals."""
    with qtbot.waitSignal(view.backed_up, timeout=30_000) as backed_up:
        assert view.backup(str(tmp_path / "b.sqlite3")) is True
    target = Path(backed_up.args[0])
    assert target.exists()
    assert "Backed up 12 records" in view.status.text()
    for path, password, said in (
        (tmp_path / "nothing.sqlite3", PASSWORD, "does not exist"),
        (target, "not the password", "not an active administrator of the backup"),
    ):
        with qtbot.waitSignal(view.runner.settled, timeout=30_000):
            assert view.restore(str(path), confirm=False, password=password) is True
        assert said in view.status.text()
    with qtbot.waitSignal(view.restored, timeout=30_000) as restored:
        assert view.restore(str(target), confirm=False, password=PASSWORD) is True
    assert restored.args == [12]
    assert view.model.rowCount() == 12


def test_screenshot(view: RecordsView, tmp_path: Path) -> None:
    view.model.sort(0, Qt.SortOrder.AscendingOrder)
    image = view.grab()
    assert not image.isNull()
    image.save(str(tmp_path / "records.png"))
    assert dt.date.today()  # the image is kept with the test's files for a look by hand


def test_a_surname_search_finds_the_record_and_selects_it(view: RecordsView, qtbot) -> None:  # type: ignore[no-untyped-def]
    from pharmacist_tool.patient_identity import fold_name

    assert not view.anywhere.isChecked(), "the start of any word of the name, by default"
    qtbot.keyClicks(view.patient, "garc")
    qtbot.keyClick(view.patient, Qt.Key.Key_Return)
    names = _names(view)
    assert names and all(
        any(w.startswith("garc") for w in fold_name(n).replace("-", " ").split()) for n in names
    ), names
    assert [i.row() for i in view.table.selectionModel().selectedRows()] == [0]
    view.patient.clear()
    qtbot.keyClicks(view.patient, "zoe")
    qtbot.keyClick(view.patient, Qt.Key.Key_Return)
    assert view.model.rowCount() == 1
    assert [i.row() for i in view.table.selectionModel().selectedRows()] == [0], "one: selected"
    header = view.table.horizontalHeader()
    for column in range(view.model.columnCount() - 1):  # the last one stretches
        assert header.sectionSize(column) >= view.table.sizeHintForColumn(column)


def test_the_record_view_shows_what_an_inspector_needs(view: RecordsView) -> None:
    import re

    dialog = view.open_record(1)
    assert dialog is not None
    text = dialog.text.toPlainText()
    facts = dialog.detail.facts
    for title in (
        "Pregnancy tests",
        "Birth control, as the patient said it",
        "Birth control, as the rules counted it",
        "Findings, with their resolutions",
        "Authorization",
    ):
        assert title in text, title
    assert "Other medicines, as screened" in text or "Other medicines, as said" in text
    for line in (*facts.pregnancy_tests, *facts.contraception_counted, *facts.findings):
        assert line in text, line
    assert not re.search(r"\[(block|warn|info)\]|\b[a-z]+\.[a-z-]+\b", text.split("Record hash")[0])


def test_the_chain_head_shown_is_the_head_verify_reports(view: RecordsView, qtbot) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtGui import QGuiApplication

    report = verify(view.db)
    assert report.intact
    shown = view.head_label.text()
    assert shown.startswith(f"Chain head: {report.head_seq}:{report.head_hash} (12 records, as of ")
    view.open_record(2)  # a view is audited: the chain moves on, and so does the head shown
    after = verify(view.db)
    assert after.head_seq == report.head_seq + 1
    assert f"{after.head_seq}:{after.head_hash}" in view.head_label.text()
    copied = view.copy_head()
    assert copied == f"{after.head_seq}:{after.head_hash}"
    assert QGuiApplication.clipboard().text() == copied
    assert view.status.text() == f"✓ Copied the chain head {copied}"


def test_the_head_is_not_printed_when_the_chain_is_broken(
    view: RecordsView, filled: Counter
) -> None:
    import sqlite3

    path = view.db.sqlite_path
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TRIGGER IF EXISTS records_no_update")
        conn.execute("UPDATE records SET outcome_reason = 'changed' WHERE id = 2")
    assert view.print_head() is None
    # the altered row breaks its hash and the signature over the same bytes: two problems
    assert view.status.text().startswith("✖ Not printed: the chain is not intact (2 problem(s)")
    assert "record 2: altered" in view.status.text()


def test_the_record_shows_its_medicine_pack_and_the_list_filters_by_it(
    view: RecordsView,
    filled: Counter,
    qtbot,  # type: ignore[no-untyped-def]
) -> None:
    dialog = view.open_record(1)
    assert dialog is not None
    assert "Medicine pack" in dialog.text.toPlainText()
    assert "isotretinoin, version 2026.11.1" in dialog.text.toPlainText()
    everyone = view.model.rowCount()
    for pack, shown in (("acitretin", 0), ("isotretinoin", everyone)):
        view.medicine.setCurrentIndex(view.medicine.findData(pack))
        view.search()
        qtbot.waitUntil(lambda shown=shown: view.model.rowCount() == shown)
