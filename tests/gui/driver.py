"""Drive the counselling window from the keyboard only, as a pharmacist at the counter would."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QComboBox, QLineEdit

from pharmacist_tool.case import Case

ALT = Qt.KeyboardModifier.AltModifier
CTRL = Qt.KeyboardModifier.ControlModifier
NONE = Qt.KeyboardModifier.NoModifier
STEP_KEYS = [Qt.Key.Key_1, Qt.Key.Key_2, Qt.Key.Key_3, Qt.Key.Key_4, Qt.Key.Key_5,
             Qt.Key.Key_6, Qt.Key.Key_7]  # fmt: skip


class Keyboard:
    def __init__(self, qtbot: Any, window: Any) -> None:
        self.qtbot = qtbot
        self.window = window

    @property
    def focus(self) -> Any:
        widget = QApplication.focusWidget()
        assert widget is not None, "nothing has the keyboard focus"
        return widget

    def press(self, key: Qt.Key, modifier: Qt.KeyboardModifier = NONE) -> None:
        self.reactivate()
        self.qtbot.keyClick(self.focus, key, modifier)

    def reactivate(self) -> None:
        """The offscreen platform leaves a closed popup or dialog as the active window (or none);
        a desktop gives activation back to the main window: do as a desktop does."""
        active = QApplication.activeWindow()
        if (
            (active is None or (active is not self.window and not active.isVisible()))
            and QApplication.activePopupWidget() is None
            and QApplication.activeModalWidget() is None
        ):
            self.window.activateWindow()
            self.qtbot.waitUntil(lambda: QApplication.activeWindow() is self.window, timeout=2000)

    def type(self, text: str) -> None:
        """Type into the focused field, replacing what is there (select all first)."""
        widget = self.focus
        if isinstance(widget, QLineEdit):
            self.qtbot.keyClick(widget, Qt.Key.Key_A, CTRL)
        for char in text:
            self.type_char(char)

    def type_char(self, char: str) -> None:
        """One typed character; non-ASCII letters arrive as key events carrying their text,
        as a keyboard layout with that letter sends them (QTest only knows ASCII keys)."""
        if char.isascii():
            self.qtbot.keyClicks(self.focus, char)
            return
        widget = self.focus
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            event = QKeyEvent(kind, Qt.Key.Key_unknown, NONE, char)
            QApplication.sendEvent(widget, event)

    def tab(self, times: int = 1) -> None:
        for _ in range(times):
            popup = getattr(self.focus, "completer", lambda: None)()
            if popup is not None and popup.popup().isVisible():
                self.qtbot.keyClick(popup.popup(), Qt.Key.Key_Escape)
            self.press(Qt.Key.Key_Tab)

    def enter(self) -> None:
        widget = self.focus
        completer = widget.completer() if isinstance(widget, QLineEdit) else None
        if completer is not None and completer.popup().isVisible():
            self.qtbot.keyClick(completer.popup(), Qt.Key.Key_Escape)
        self.press(Qt.Key.Key_Return)

    def choose(self, text: str) -> None:
        """Pick an item of the focused list box with the arrow keys."""
        combo = self.focus
        assert isinstance(combo, QComboBox), f"{combo!r} is not a list box"
        target = combo.findText(text)
        assert target >= 0, f"{text!r} not offered in {combo.accessibleName()}"
        while combo.currentIndex() < target:
            self.press(Qt.Key.Key_Down)
        while combo.currentIndex() > target:
            self.press(Qt.Key.Key_Up)

    def step(self, number: int) -> None:
        self.press(STEP_KEYS[number - 1], CTRL)

    def next_step(self) -> None:
        self.press(Qt.Key.Key_Right, ALT)

    def settle(self) -> None:
        self.qtbot.wait(1)
        if self.window.assessment_pending:
            with self.qtbot.waitSignal(self.window.assessed, timeout=5000):
                pass


def fill_case(kb: Keyboard, case: Case) -> None:
    """Type a whole case into a new session, step by step, from the keyboard."""
    p, rx = case.patient, case.prescription
    assert kb.focus is kb.window.pages[0].name
    kb.type(p.name)
    kb.tab()
    kb.type(p.date_of_birth.isoformat())
    kb.tab()
    kb.type(p.programme_id or "")
    kb.tab()
    kb.type(f"{p.weight_kg:g}")
    kb.tab()
    kb.choose("Can get pregnant" if p.can_get_pregnant else "Cannot get pregnant")
    kb.tab()
    kb.choose(case.rule_set)
    kb.tab()
    kb.type(case.counselled_on.isoformat())
    kb.tab()
    kb.type(rx.medicine)
    kb.tab()
    kb.type(f"{rx.strength_mg:g}")
    kb.tab()
    kb.type(str(rx.units_per_dose))
    kb.tab()
    kb.type(str(rx.doses_per_day))
    kb.tab()
    kb.type(rx.prescribed_on.isoformat())
    kb.tab()
    kb.type(rx.prescriber)
    if p.sex is not None:  # asked once the medicine's pack has advice for one sex
        kb.settle()
        page = kb.window.pages[0]
        assert page.sex.isVisibleTo(page), "the window does not ask the sex for this medicine"
        kb.press(Qt.Key.Key_X, ALT)
        assert kb.focus is page.sex
        kb.choose(p.sex.capitalize())
    if rx.indication is not None:  # asked once the medicine's pack has indications
        kb.settle()
        page = kb.window.pages[0]
        assert page.indication.isVisibleTo(page), "the window does not ask the indication"
        kb.press(Qt.Key.Key_C, ALT)
        assert kb.focus is page.indication
        kb.type(rx.indication)

    kb.next_step()  # 2 programme
    assert kb.focus is kb.window.pages[1].authorization
    kb.type(rx.authorization or "")
    kb.tab()
    kb.type(str(rx.days_supply))
    if rx.quantity is not None:
        kb.tab()
        kb.type(str(rx.quantity))
        kb.tab()
    else:
        kb.tab(2)
    kb.type(str(rx.refills))

    kb.next_step()  # 3 pregnancy prevention
    if p.can_get_pregnant:
        kb.settle()
        page = kb.window.pages[2]
        assert kb.focus is page.test_date
        for test in case.pregnancy_tests:
            kb.type(test.date.isoformat())
            kb.tab()
            kb.choose(test.result)
            kb.tab()
            kb.press(Qt.Key.Key_Space)  # Add test
            assert kb.focus is page.test_date
        kb.press(Qt.Key.Key_M, ALT)
        assert kb.focus is page.methods.edit
        for method in case.contraception:
            kb.type(method)
            kb.enter()

    kb.next_step()  # 4 other medicines
    page = kb.window.pages[3]
    assert kb.focus is page.editor.edit
    for medicine in case.medicines:
        kb.type(medicine)
        kb.enter()
    if not case.medicines:  # asked, and the patient takes nothing else
        kb.press(Qt.Key.Key_N, ALT)  # a button's mnemonic clicks it after a short animation
        kb.qtbot.waitUntil(page.none_taken.isChecked, timeout=2000)
    if case.alcohol:
        kb.press(Qt.Key.Key_L, ALT)
        kb.choose(case.alcohol)
    kb.settle()


def answer_alcohol(kb: Keyboard, answer: str = "none") -> None:
    """Step 4: the answer to "how much alcohol do you drink?" (a case file may lack it)."""
    kb.step(4)
    kb.press(Qt.Key.Key_L, ALT)
    kb.choose(answer)
    kb.settle()


def resolve_findings(
    kb: Keyboard,
    words: str = "Discussed with the prescriber; {code} noted",
    action: str = "confirmed-with-monitoring-plan",
) -> list[str]:
    """Choose what was done (``action``) and type a note for every finding the panel offers a
    resolution for (Ctrl+F, then Tab)."""
    from pharmacist_tool.case import resolution_answers

    answer = next(a.words for a in resolution_answers().actions if a.id == action)
    kb.press(Qt.Key.Key_F, CTRL)
    done: list[str] = []
    panel = kb.window.findings
    for _ in range(len(panel.focus_widgets())):
        widget = kb.focus
        name = widget.accessibleName()
        if isinstance(widget, QComboBox) and name.startswith("What was done about "):
            kb.choose(answer)
        elif isinstance(widget, QLineEdit) and name.startswith("Resolution for "):
            code = name.removeprefix("Resolution for ")
            kb.type(words.format(code=code))
            done.append(code)
        kb.tab()
    kb.settle()
    return done


def confirm_checklist(kb: Keyboard) -> None:
    """Tick every counselling point on steps 5 and 6 with Space, moving on with Tab."""
    for step in (5, 6):
        kb.step(step)
        page = kb.window.pages[step - 1]
        for item_id in page.ids:
            assert kb.focus is page.boxes[item_id]
            if not page.boxes[item_id].isChecked():
                kb.press(Qt.Key.Key_Space)
            kb.tab()
    kb.settle()


def choose_outcome(kb: Keyboard, status: str, reason: str = "") -> None:
    kb.step(7)
    review = kb.window.review
    order = ["handed-over", "not-handed-over", "declined"]
    assert kb.focus is review.outcome_buttons["handed-over"] or kb.focus.isChecked()
    current = next((s for s, b in review.outcome_buttons.items() if b is kb.focus), order[0])
    if not kb.focus.isChecked():
        kb.press(Qt.Key.Key_Space)
    for _ in range(order.index(status) - order.index(current)):
        kb.press(Qt.Key.Key_Down)
    assert review.outcome_buttons[status].isChecked()
    kb.press(Qt.Key.Key_R, ALT)
    assert kb.focus is review.reason
    kb.type(reason)
    kb.settle()


def sign(kb: Keyboard, user: str, password: str) -> None:
    """Ctrl+S goes to signing; type the user and the password; Enter signs."""
    kb.press(Qt.Key.Key_S, CTRL)
    review = kb.window.review
    kb.press(Qt.Key.Key_U, ALT)
    assert kb.focus is review.user
    kb.type(user)
    kb.press(Qt.Key.Key_W, ALT)
    assert kb.focus is review.password
    kb.type(password)
    kb.press(Qt.Key.Key_Return)
    wait_for_password_check(kb.qtbot, kb.window)


def wait_for_password_check(qtbot: Any, owner: Any, timeout: int = 30_000) -> None:
    """The password is checked in a worker thread: wait until the result is applied (in the
    window, or a dialog with its own ``password_check``)."""
    qtbot.waitUntil(lambda: not owner.password_check.running, timeout=timeout)


def record_duties(
    kb: Keyboard, said: dict[str, Any] | None = None, on: Any = None
) -> dict[str, Any]:
    """Step 2: choose what was done for each programme duty the window asks (Alt+D reaches the
    first; Tab moves on), with the reason when not done and the form's date when one was seen.
    ``said``: duty id → ``SupplyDuty``; a duty not named is recorded as done (a form dated
    ``on``, a question answered "no new problem"). Returns what was recorded."""
    from pharmacist_tool.case import SupplyDuty

    said = dict(said or {})
    kb.step(2)
    kb.settle()
    box = kb.window.pages[1].duties
    if not box.ids:
        return {}
    kb.press(Qt.Key.Key_D, ALT)
    recorded = {}
    for duty_id in list(box.ids):
        row = box.rows[duty_id]
        assert kb.focus is row.choice, f"{kb.focus!r} has the focus, not {duty_id}"
        duty = said.get(duty_id) or SupplyDuty(
            done=True,
            form_date=on if row.kind == "seen-with-date" else None,
            answer="no-change" if row.kind == "asked" else None,
        )
        label = next(
            text
            for text, done, answer in row.choices
            if done == duty.done and (answer is None or answer == duty.answer)
        )
        kb.choose(label)
        kb.tab()
        if not duty.done:
            assert kb.focus is row.reason
            kb.type(duty.reason)
            kb.tab()
        elif row.kind == "seen-with-date" and duty.form_date is not None:
            assert kb.focus is row.form_date
            kb.type(duty.form_date.isoformat())
            kb.tab()
        recorded[duty_id] = duty
    kb.settle()
    return recorded
