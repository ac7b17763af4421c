"""A returning patient's visit driven from the keyboard only, as a pharmacist at the counter:
the next visit started from the start screen, its prescription date not entered (it cannot be
signed), each carried fact confirmed with Tab and Space, a change of risk category asked (who
decided it, why) and recorded in the signed record."""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import Qt

from pharmacist_tool.case import Carried, Resolution, RiskCategoryChange
from tests.gui.counter import sign_in
from tests.gui.driver import ALT, CTRL, Keyboard, choose_outcome, confirm_checklist, sign
from tests.gui.test_course_window import _sign_first_visit

TODAY = dt.date.today()
SHIFT = Qt.KeyboardModifier.ShiftModifier


def _start_next_visit(kb: Keyboard, window: Any, pid: str) -> None:
    window.close_session()
    box = window.returning
    box.who.setFocus()
    kb.type(pid)
    kb.enter()  # Find
    assert box.next_button.isEnabled(), box.result.text()
    with kb.qtbot.waitSignal(window.assessed, timeout=30_000):
        kb.press(Qt.Key.Key_X, ALT)  # Start ne&xt visit
    assert window.case is not None and window.case.carried is not None


def test_a_returning_patients_visit_signed_from_the_keyboard(
    window: Any, qtbot: Any, users: dict[str, str]
) -> None:
    from pharmacist_tool.gui.records_view import record_html
    from pharmacist_tool.records.db import open_database
    from pharmacist_tool.records.reading import get_record

    first_id = _sign_first_visit(users["pharmacist"], users["password"], 30, "IP-60", "Ana Ruiz")
    sign_in(qtbot, window, users["pharmacist"])  # nobody's patients are looked up before sign-in
    kb = Keyboard(qtbot, window)
    _start_next_visit(kb, window, "IP-60")
    carried = window.carried

    # Not signable: this visit's prescription date was never entered.
    sign(kb, users["pharmacist"], users["password"])
    assert window.case is not None
    assert window.review.sign_message.text().startswith("✖ Not signed")
    assert "Prescribed on: not entered" in window.missing()

    # Every "still true?" box is in the Tab order: Shift+Tab back from step 1's first field.
    kb.step(1)
    first_field = kb.focus
    confirmed = []
    for _ in carried.boxes:
        kb.press(Qt.Key.Key_Tab, SHIFT)
        box = kb.focus
        assert box in carried.boxes.values(), box
        kb.press(Qt.Key.Key_Space)
        confirmed.append(next(k for k, b in carried.boxes.items() if b is box))
    assert sorted(confirmed) == sorted(carried.boxes)
    assert window.case.carried.confirmed == list(carried.boxes)
    assert not [m for m in window.missing() if m.startswith("Last visit:")]

    # The prescriber's category changed: "can get pregnant" yes → no. It is asked, not settled.
    page = window.pages[0]
    kb.step(1)
    assert kb.focus is first_field
    page.pregnancy.setFocus()  # the same box Alt+its mnemonic reaches
    kb.choose("Cannot get pregnant")
    kb.settle()
    assert not carried.boxes["can get pregnant"].isEnabled()
    assert "changed to no" in carried.boxes["can get pregnant"].text()
    assert carried.risk.isVisible()
    asked = [m for m in window.missing() if m.startswith("The risk category changed")]
    assert asked and "from “can get pregnant” to “cannot get pregnant”" in asked[0]
    kb.press(Qt.Key.Key_Y, ALT)  # Decided b&y
    assert kb.focus is carried.decided_by
    kb.type("Dr R. Osei")
    kb.tab()
    assert kb.focus is carried.risk_reason
    kb.type("Hysterectomy in November; letter on file")
    kb.settle()
    assert not [m for m in window.missing() if m.startswith("The risk category changed")]

    # This visit's prescription, then the counselling points and the outcome.
    page.prescribed_on.setFocus()
    kb.type(TODAY.isoformat())
    kb.step(2)
    window.pages[1].authorization.setFocus()
    kb.type("RMA-2")
    kb.settle()
    confirm_checklist(kb)
    choose_outcome(kb, "handed-over")
    assert window.missing() == [], window.missing()
    with qtbot.waitSignal(window.signed, timeout=60_000) as signed:
        sign(kb, users["pharmacist"], users["password"])
    with open_database() as db:
        stored = get_record(db, int(signed.args[0])).case
    assert stored.patient.can_get_pregnant is False
    assert stored.prescription.prescribed_on == TODAY
    assert stored.risk_category_change == RiskCategoryChange(
        before=True,
        now=False,
        decided_by="Dr R. Osei",
        reason="Hysterectomy in November; letter on file",
    )
    assert isinstance(stored.carried, Carried) and stored.carried.from_record == first_id
    assert set(stored.carried.confirmed) == set(carried.boxes) - {"can get pregnant"}
    with open_database() as db:
        shown = record_html(get_record(db, int(signed.args[0])))
    assert "Risk category changed since the last visit" in shown
    assert "decided by Dr R. Osei: Hysterectomy in November" in shown
    assert "Carried from the last visit" in shown


def test_ok_does_not_clear_a_block_and_an_answer_does(window: Any, qtbot: Any) -> None:
    from tests.conftest import EXAMPLE_FILES

    code = "interaction.tetracyclines"
    with qtbot.waitSignal(window.assessed, timeout=30_000):
        window.open_case_file(next(p for p in EXAMPLE_FILES if p.name.startswith("02")))
    kb = Keyboard(qtbot, window)
    item = window.findings.items[code]

    def stands() -> bool:
        return any(f.stands for f in window.assessment.findings if f.code == code)

    kb.press(Qt.Key.Key_F, CTRL)
    assert kb.focus is item.answer
    kb.tab()
    assert kb.focus is item.resolution
    with qtbot.waitSignal(window.assessed, timeout=30_000):
        kb.type("ok")
    assert stands() and code not in window.case.resolutions
    assert window.findings.verdict.text().startswith("✖ Do not hand over")
    kb.press(Qt.Key.Key_Tab, SHIFT)
    assert kb.focus is item.answer
    with qtbot.waitSignal(window.assessed, timeout=30_000):
        kb.choose("The prescriber stopped the other medicine")
    kb.settle()
    assert not stands()
    assert window.case.resolutions[code] == Resolution(
        action="prescriber-stopped-other-medicine", note="ok"
    )
