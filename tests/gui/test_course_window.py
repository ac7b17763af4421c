"""The course in the window: a returning patient found on the start screen, the next visit
started prefilled, each carried fact confirmed (or changed) before a signed second visit; the
due list shows a patient due tomorrow."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from PySide6.QtCore import Qt

from pharmacist_tool.case import Case, Course, Outcome, PregnancyTest, ProgrammeCheck, load_case
from pharmacist_tool.engine import assess
from pharmacist_tool.knowledge import load_knowledge_base
from tests.conftest import example_path
from tests.gui.counter import sign_in
from tests.gui.driver import Keyboard, choose_outcome, confirm_checklist, sign

TODAY = dt.date.today()


def _sign_first_visit(pharmacist: str, password: str, days_ago: int, pid: str, name: str) -> int:
    """A first fill, handed over ``days_ago`` days ago (30 days' supply), in the window's DB."""
    from pharmacist_tool.records.db import open_database
    from pharmacist_tool.records.reading import StoredHandout
    from pharmacist_tool.records.users import authenticate
    from pharmacist_tool.records.writing import sign_record
    from tests.records.helpers import make_pdf

    on = TODAY - dt.timedelta(days=days_ago)
    case: Case = load_case(example_path("01"))
    case = msgspec.structs.replace(
        case,
        counselled_on=on,
        patient=msgspec.structs.replace(case.patient, name=name, programme_id=pid),
        prescription=msgspec.structs.replace(case.prescription, prescribed_on=on),
        pregnancy_tests=[PregnancyTest(date=on, result="negative")],
        course=Course(fill_number=1),
        alcohol="occasional",
    )
    kb = load_knowledge_base()
    first = assess(case, kb)
    case = msgspec.structs.replace(
        case,
        checklist={i.id: True for i in first.checklist},
        resolutions={f.code: "Discussed" for f in first.findings if f.needs_resolution},
        outcome=Outcome(status="handed-over"),
    )
    with open_database() as db:
        user = authenticate(db, pharmacist, password, purpose="sign")
        handout = StoredHandout.from_file_bytes(make_pdf(), case, paper="Letter")
        return sign_record(db, user, case, assess(case, kb), handout).id


def test_returning_patient_to_a_signed_second_visit(
    window: Any, qtbot: Any, users: dict[str, str]
) -> None:
    from pharmacist_tool.records.db import open_database
    from pharmacist_tool.records.reading import get_record

    first_id = _sign_first_visit(users["pharmacist"], users["password"], 30, "IP-55", "Ana García")
    sign_in(qtbot, window, users["pharmacist"])  # nobody signed in: no look-up
    window.close_session()
    box = window.returning
    box.who.setText("IP-55")
    qtbot.mouseClick(box.find_button, Qt.MouseButton.LeftButton)
    assert "Ana García, born 2004-03-02, programme id IP-55" in box.result.text()
    assert "1200 mg" in box.panel.dose.text() and "below the usual target" in box.panel.dose.text()
    qtbot.mouseClick(box.next_button, Qt.MouseButton.LeftButton)

    case = window.case
    assert case is not None and case.course == Course(
        fill_number=2, cumulative_mg_before=1200, previous_fill_on=TODAY - dt.timedelta(days=30)
    )
    assert case.counselled_on == TODAY and case.pregnancy_tests == []
    assert window.pages[0].name.text() == "Ana García"
    assert window.pages[1].authorization.text() == ""
    assert window.pages[0].prescribed_on.text() == "" and case.prescription.prescribed_on is None
    carried = window.carried
    assert carried.isVisible() and len(carried.boxes) == 8
    Keyboard(qtbot, window).settle()
    assert "Prescribed on: not entered" in window.missing()
    window.pages[0].prescribed_on.setText(TODAY.isoformat())
    qtbot.waitUntil(lambda: window.assessment is not None, timeout=30_000)
    assert "Fill 2" in carried.panel.fill.text()
    assert "2400 mg" in carried.panel.dose.text()
    waiting = [m for m in window.missing() if m.startswith("Last visit:")]
    assert len(waiting) == 8 and "Last visit: weight: 62 kg" in waiting[0]

    # this visit: the test, the authorization; the weight has changed; the rest confirmed
    kb = Keyboard(qtbot, window)
    window.pages[0].weight.setText("64")
    window.pages[0].prescribed_on.setText(TODAY.isoformat())  # this visit's prescription
    assert window.pages[0].programme_id.text() == "IP-55"
    programme = window.pages[1]
    programme.authorization.setText("RMA-2")
    # the outage log: the website was down, the authorization was obtained by phone
    programme.via.setFocus()
    kb.press(Qt.Key.Key_End)  # the last choice: by phone
    programme.outage.setFocus()
    kb.press(Qt.Key.Key_Space)
    kb.settle()
    assert "Call reference: not entered" in window.collected[1].problems
    programme.call_reference.setText("IPL-20261201-0042")
    programme.called_at.setText(f"{TODAY.isoformat()} 10:30")
    pregnancy = window.pages[2]
    kb.step(3)
    assert kb.focus is pregnancy.test_date
    kb.type(TODAY.isoformat())
    kb.enter()  # a date without a chosen result: refused, never recorded as negative
    assert pregnancy.test_values == [] and "Choose the test's result" in (
        pregnancy.test_problem.text()
    )
    assert kb.focus is pregnancy.test_result
    kb.choose("negative")
    kb.tab()
    assert kb.focus is pregnancy.add_test, kb.focus
    kb.press(Qt.Key.Key_Space)  # Add test
    assert pregnancy.test_values == [PregnancyTest(date=TODAY, result="negative")]
    assert pregnancy.test_result.currentText() == "— choose —", "the next test has no result"
    kb.settle()
    for name, box_ in carried.boxes.items():
        if name != "weight":
            box_.setFocus()
            kb.press(Qt.Key.Key_Space)
            assert box_.isChecked(), name
    confirm_checklist(kb)
    choose_outcome(kb, "handed-over")
    kb.settle()
    assert [m for m in window.missing() if m.startswith("Last visit:")] == []
    assert "changed to 64 kg" in carried.boxes["weight"].text()
    assert window.missing() == []
    with qtbot.waitSignal(window.signed, timeout=60_000) as signed:
        sign(kb, users["pharmacist"], users["password"])
        qtbot.waitUntil(lambda: bool(window.review.sign_message.text()) or window.case is None)
        assert window.case is None, window.review.sign_message.text()
    second_id = int(signed.args[0])
    with open_database() as db:
        stored = get_record(db, second_id).case
    assert second_id == first_id + 1
    assert stored.course == case.course and stored.patient.weight_kg == 64
    assert stored.patient.programme_id == "IP-55"
    assert stored.prescription.authorization == "RMA-2"
    assert stored.programme_check == ProgrammeCheck(
        authorization_via="phone",
        outage=True,
        call_reference="IPL-20261201-0042",
        called_at=dt.datetime.combine(TODAY, dt.time(10, 30)),
    )


def test_a_resumed_next_visit_keeps_the_carried_facts_and_those_confirmed(
    window: Any, qtbot: Any, users: dict[str, str]
) -> None:
    from pharmacist_tool.counselling import drafts
    from pharmacist_tool.gui import signing
    from pharmacist_tool.gui.app import create_window

    _sign_first_visit(users["pharmacist"], users["password"], 30, "IP-57", "Wei Chen")
    sign_in(qtbot, window, users["pharmacist"])  # nobody signed in: no look-up
    window.close_session()
    window.returning.who.setText("IP-57")
    qtbot.mouseClick(window.returning.find_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(window.returning.next_button, Qt.MouseButton.LeftButton)
    carried = window.carried
    before = {name: box.text() for name, box in carried.boxes.items()}
    kb = Keyboard(qtbot, window)
    for name in ("weight", "contraception", "alcohol"):
        carried.boxes[name].setFocus()
        kb.press(Qt.Key.Key_Space)
    window.pages[0].prescriber.setText("Dr B. Okafor")  # changed: no longer waiting
    with qtbot.waitSignal(window.saved):
        window.pages[0].prescribed_on.setText(TODAY.isoformat())
    draft_id = window.meta.id
    window.lock()  # interrupted: locked, then the window closed; the draft stays
    kept_case = drafts.load_draft(draft_id).case
    assert kept_case.carried is not None and len(kept_case.carried.facts) == 8
    assert kept_case.carried.confirmed == ["weight", "contraception", "alcohol"]
    window.close()

    again = create_window()
    qtbot.addWidget(again)
    again.show()
    qtbot.waitExposed(again)
    try:
        assert again.resume(draft_id)
        assert again.case.course == Course(
            fill_number=2, cumulative_mg_before=1200, previous_fill_on=TODAY - dt.timedelta(days=30)
        )
        restored = again.carried
        assert restored.isVisible() and list(restored.boxes) == list(carried.boxes)
        ticked = {name for name, box in restored.boxes.items() if box.isChecked()}
        assert ticked == {"weight", "contraception", "alcohol"}
        qtbot.waitUntil(lambda: again.assessment is not None, timeout=30_000)
        waiting = [m for m in again.missing() if m.startswith("Last visit:")]
        assert len(waiting) == 4, waiting  # 8 carried, 3 confirmed, 1 changed
        assert restored.boxes["prescriber"].text().endswith("— changed to Dr B. Okafor")
        assert {n: b.text() for n, b in restored.boxes.items() if n != "prescriber"} == {
            n: t for n, t in before.items() if n != "prescriber"
        }
        assert again.pages[0].programme_id.text() == "IP-57"
    finally:
        again.close()
        signing.close_all()


def test_the_due_list_shows_a_patient_due_tomorrow(
    window: Any, qtbot: Any, users: dict[str, str]
) -> None:
    _sign_first_visit(users["pharmacist"], users["password"], 29, "IP-56", "Luis Ortega")
    sign_in(qtbot, window, users["pharmacist"])  # before that, the list names nobody
    texts = [window.due_list.items.item(i).text() for i in range(window.due_list.items.count())]
    assert any("(tomorrow) · next fill · Luis Ortega" in t and "IP-56" in t for t in texts), texts
    window.due_list.items.setCurrentRow(0)
    item = next(
        window.due_list.items.item(i)
        for i in range(window.due_list.items.count())
        if "next fill" in window.due_list.items.item(i).text()
    )
    window.due_list.items.itemActivated.emit(item)
    assert "Luis Ortega" in window.returning.result.text()


def test_the_programme_id_is_typed_in_step_one(window: Any, qtbot: Any) -> None:
    from tests.gui.driver import ALT, CTRL

    kb = Keyboard(qtbot, window)
    kb.press(Qt.Key.Key_N, CTRL)
    kb.press(Qt.Key.Key_G, ALT)  # its label's mnemonic
    assert kb.focus is window.pages[0].programme_id
    kb.type("  IP-77 ")
    kb.settle()
    assert window.case.patient.programme_id == "IP-77"
    window.pages[0].programme_id.clear()
    kb.settle()
    assert window.case.patient.programme_id is None  # empty: none given
