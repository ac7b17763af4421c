"""Amending a signed record in the real window, from the keyboard only: the records view's
Amend opens the record in the session steps, every value as signed and shown as the record's;
the correction is signed with its reason (the record itself never changes), or discarded and
nothing is stored."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from pharmacist_tool.engine.carried import Provenance
from tests.gui.counter import sign_in
from tests.gui.driver import ALT, CTRL, Keyboard, sign

REASON = "Weight re-measured: 4 kg more than entered"


def _signed_record(pharmacist: str, password: str) -> int:
    """A finished session signed as the window signs one (the alcohol question answered)."""
    import msgspec

    from pharmacist_tool.records.db import open_database
    from pharmacist_tool.records.usecases import sign as sign_record
    from tests.app.test_records_desk import _finished

    case = msgspec.structs.replace(_finished(), alcohol="occasional")
    with open_database() as db:
        return sign_record(db, case, username=pharmacist, password=password).id


def _amend_from_the_records_view(
    kb: Keyboard, window: Any, record_id: int, *, from_the_record: bool = False
) -> None:
    """Ctrl+R, the record selected (the first found), Alt+M in the list (or Alt+O to open it,
    then Alt+A on its page): the session steps open, the records view closed."""
    kb.press(Qt.Key.Key_R, CTRL)
    view = window.records_dialog.findChild(_records_view_type())
    kb.qtbot.waitUntil(lambda: view.model.rowCount() == 1)
    kb.qtbot.waitUntil(lambda: QApplication.focusWidget() is view.table)
    assert view.model.record_id(view.table.currentIndex().row()) == record_id
    if from_the_record:
        kb.press(Qt.Key.Key_O, ALT)  # &Open
        kb.qtbot.waitUntil(lambda: getattr(view, "record_dialog", None) is not None)
        page = view.record_dialog
        kb.qtbot.waitUntil(lambda: page.isVisible() and QApplication.activeWindow() is page)
        with kb.qtbot.waitSignal(window.assessed, timeout=30_000):
            kb.qtbot.keyClick(page, Qt.Key.Key_A, ALT)  # &Amend…
        assert not page.isVisible()
    else:
        with kb.qtbot.waitSignal(window.assessed, timeout=30_000):
            kb.press(Qt.Key.Key_M, ALT)  # A&mend…
    kb.qtbot.waitUntil(lambda: not window.records_dialog.isVisible())


def _records_view_type() -> type:
    from pharmacist_tool.gui.records_view import RecordsView

    return RecordsView


def _stored(record_id: int) -> Any:
    from pharmacist_tool.records.db import open_database
    from pharmacist_tool.records.reading import get_record, list_events
    from pharmacist_tool.records.service import verify

    with open_database() as db:
        return get_record(db, record_id), list_events(db, action="amend"), verify(db)


def test_an_amendment_through_the_steps_from_the_keyboard(
    window: Any, qtbot: Any, users: dict[str, str]
) -> None:
    record_id = _signed_record(users["pharmacist"], users["password"])
    before, _, _ = _stored(record_id)
    sign_in(qtbot, window, users["pharmacist"])
    kb = Keyboard(qtbot, window)
    _amend_from_the_records_view(kb, window, record_id)

    session = window.current
    assert session.amending is not None and session.amending.record_id == record_id
    assert session.changes_from_record() == []  # nothing that decides dispensing moved
    assert session.provenance_of("prescription.prescribed_on") is Provenance.FROM_RECORD
    assert window.amend_note.isVisible()
    assert f"Amending record {record_id}" in window.amend_note.text()
    assert "from the record being amended" in window.amend_note.text()
    assert "Nothing changed yet" in window.amend_note.text()
    assert "Give the reason for the amendment" in window.missing()

    weight = before.case.patient.weight_kg
    kb.step(1)
    kb.press(Qt.Key.Key_W, ALT)  # &Weight
    assert kb.focus is window.pages[0].weight
    kb.type(f"{weight + 4:g}")
    kb.settle()
    assert [c.path for c in session.changes_from_record()] == ["patient.weight_kg"]
    assert session.provenance_of("patient.weight_kg") is Provenance.TYPED
    assert "patient.weight_kg" in window.amend_note.text()

    kb.step(7)
    kb.press(Qt.Key.Key_A, ALT)  # Reason for the &amendment
    assert kb.focus is window.review.amend_reason
    kb.type(REASON)
    kb.settle()
    assert window.missing() == [], window.missing()
    with qtbot.waitSignal(window.amended, timeout=60_000) as amended:
        sign(kb, users["pharmacist"], users["password"])
    assert amended.args[0] == record_id

    after, events, report = _stored(record_id)
    assert after.case_json == before.case_json  # the signed record as it was
    (amendment,) = after.amendments
    assert amendment.id == amended.args[1] and amendment.reason == REASON
    assert after.current_case.patient.weight_kg == weight + 4
    assert after.current_case.prescription == before.case.prescription
    assert [e.record_id for e in events] == [record_id]
    assert report.intact
    assert window.current.case is None  # the session left the screen
    assert f"Amendment {amendment.id} added to record {record_id}" in window.start_note.text()


def test_a_discarded_amendment_changes_nothing(
    window: Any, qtbot: Any, users: dict[str, str]
) -> None:
    from pharmacist_tool.counselling import drafts

    record_id = _signed_record(users["pharmacist"], users["password"])
    before, _, _ = _stored(record_id)
    sign_in(qtbot, window, users["pharmacist"])
    kb = Keyboard(qtbot, window)
    _amend_from_the_records_view(kb, window, record_id, from_the_record=True)

    kb.press(Qt.Key.Key_W, ALT)
    kb.type("99")
    kb.settle()
    kb.step(7)
    kb.press(Qt.Key.Key_A, ALT)
    kb.type("Typed, then thought better of")
    kb.settle()
    with qtbot.waitSignal(window.amendment_cancelled) as cancelled:
        kb.press(Qt.Key.Key_D, ALT)  # &Discard the amendment
    assert cancelled.args == [record_id]

    after, events, report = _stored(record_id)
    assert after.case_json == before.case_json and after.amendments == ()
    assert events == [] and report.intact
    assert drafts.list_drafts() == []  # an amendment is never kept as a draft
    assert window.current.case is None
    assert "discarded: the record is unchanged" in window.start_note.text()
