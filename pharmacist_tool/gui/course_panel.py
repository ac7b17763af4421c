"""The course across visits in the window: find a returning patient, start the next visit from
the last record (the same code as ``pharmacist-tool next``), confirm what was carried over, and
show the course (fill number, cumulative mg/kg against the target band, the dates).

The window holds three of these: ``ReturningPatient`` on the start screen, ``CarriedFacts`` at
the top of a session, and ``CoursePanel`` inside both.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from pharmacist_tool.app.session import FactOnScreen
from pharmacist_tool.case import Case, RiskCategoryChange
from pharmacist_tool.engine.carried import Provenance, RiskChange
from pharmacist_tool.errors import UserError
from pharmacist_tool.gui.widgets import add_row, bold, note

if TYPE_CHECKING:
    from pharmacist_tool.engine.assessment import Assessment
    from pharmacist_tool.gui.window_base import WindowBase
    from pharmacist_tool.knowledge.model import KnowledgeBase
    from pharmacist_tool.records.course import PatientCourse
    from pharmacist_tool.records.db import Database

log = logging.getLogger(__name__)


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}".rstrip("0").rstrip(".")


def _day(value: dt.date | None) -> str:
    return value.strftime("%a %d %b %Y") if value else "—"


class CoursePanel(QGroupBox):
    """Fill number, the cumulative dose against the target band, and the course's dates."""

    def __init__(self, title: str = "The course") -> None:
        super().__init__(title)
        layout = QVBoxLayout(self)
        self.fill = QLabel("—")
        self.fill.setAccessibleName("Fill number")
        self.dose = QLabel("—")
        self.dose.setWordWrap(True)
        self.dose.setAccessibleName("Cumulative dose")
        self.band = QProgressBar()
        self.band.setTextVisible(True)
        self.band.setAccessibleName("Cumulative mg/kg against the target band")
        self.dates = QLabel("—")
        self.dates.setWordWrap(True)
        self.dates.setAccessibleName("Course dates")
        for w in (self.fill, self.dose, self.band, self.dates):
            layout.addWidget(w)

    def show_values(
        self,
        *,
        fill_number: int | None,
        cumulative_mg: float | None,
        per_kg: float | None,
        target: tuple[float, float] | None,
        dates: list[tuple[str, dt.date | None]],
        fill_words: str = "",
    ) -> None:
        self.fill.setText(fill_words or (f"Fill {fill_number}" if fill_number else "—"))
        if per_kg is None:
            self.dose.setText("Cumulative dose: not known")
            self.band.setRange(0, 1)
            self.band.setValue(0)
            self.band.setFormat("no figure")
        else:
            where = ""
            if target is not None:
                low, high = target
                where = (
                    "below" if per_kg < low else "above" if per_kg > high else "within"
                ) + f" the usual target of {_num(low)}–{_num(high)} mg/kg (guidance, not a rule)"
                self.band.setRange(0, int(high * 1.2))
                self.band.setValue(min(int(per_kg), int(high * 1.2)))
                self.band.setFormat(f"{_num(per_kg)} of {_num(low)}–{_num(high)} mg/kg")
            else:
                self.band.setRange(0, max(int(per_kg), 1))
                self.band.setValue(int(per_kg))
                self.band.setFormat(f"{_num(per_kg)} mg/kg (no target known)")
            self.dose.setText(
                f"Cumulative dose: {_num(cumulative_mg)} mg = {_num(per_kg)} mg/kg, {where}"
            )
        self.dates.setText(" · ".join(f"{label}: {_day(day)}" for label, day in dates) or "—")


def _target(kb: KnowledgeBase | None) -> tuple[float, float] | None:
    target = getattr(getattr(kb, "course", None), "cumulative_target", None)
    return (target.min_mg_per_kg, target.max_mg_per_kg) if target else None


def show_course(panel: CoursePanel, course: PatientCourse, kb: KnowledgeBase | None) -> None:
    """A stored course (``records.course.PatientCourse``) in the panel."""
    from pharmacist_tool.records.course import handed_over

    s = course.summary
    given = sum(1 for f in course.fills if handed_over(f))
    panel.show_values(
        fill_number=None,
        fill_words=f"{given} fill{'s' * (given != 1)} handed over"
        + (" — the course has ended" if s.ended else ""),
        cumulative_mg=s.cumulative_mg,
        per_kg=s.cumulative_mg_per_kg,
        target=_target(kb),
        dates=[
            ("Next fill due", s.next_fill_due),
            ("Next pregnancy test due", s.next_pregnancy_test_due),
        ],
    )


def show_assessment(
    panel: CoursePanel,
    case: Case | None,
    assessment: Assessment | None,
    kb: KnowledgeBase | None,
) -> None:
    """This visit's course figures from the assessment (of ``case``, the complete case)."""
    import msgspec

    if case is None or case.course is None or assessment is None:
        panel.setVisible(False)
        return
    panel.setVisible(True)
    per_kg = assessment.cumulative_mg_per_kg
    total = assessment.cumulative_mg
    after = assessment.after_course
    dates: list[tuple[str, dt.date | None]] = [("Previous fill", case.course.previous_fill_on)]
    if after is not msgspec.UNSET and after is not None:
        dates += [
            ("Last dose", after.last_dose_on),
            ("Pregnancy test after the course", after.pregnancy_test_due),
            ("Contraception until", after.contraception_until),
            ("Blood donation from", after.blood_donation_from),
            ("Cosmetic procedures from", after.cosmetic_procedures_from),
        ]
    panel.show_values(
        fill_number=case.course.fill_number,
        fill_words=f"Fill {case.course.fill_number}"
        + (" — the last of the course" if case.course.last_fill else ""),
        cumulative_mg=None if total is msgspec.UNSET else total,
        per_kg=None if per_kg is msgspec.UNSET else per_kg,
        target=_target(kb),
        dates=dates,
    )


# -- the facts carried from the last visit ---------------------------------------------------


class CarriedFacts(QGroupBox):
    """ "Last visit: …, still true?" — each carried fact is confirmed, or changed in its step,
    before the session can be signed; a change of the risk category asks who decided it and
    why. It shows what the session (``app.session.CounterSession``) says and reports the
    pharmacist's answers; it decides nothing."""

    confirm = Signal(str, bool)
    """A carried fact was confirmed as still true (or taken back)."""
    risk_change_explained = Signal(str, str)
    """Who decided the change of risk category, and why (as typed so far)."""

    def __init__(self) -> None:
        super().__init__("Carried from the last visit: confirm each with the patient")
        self.layout_ = QVBoxLayout(self)
        self.boxes: dict[str, QCheckBox] = {}
        self.panel = CoursePanel("This visit in the course")
        self.rows = QWidget()
        self.rows_layout = QGridLayout(self.rows)
        self.rows_layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(self.rows, 3)
        row.addWidget(self.panel, 2)
        self.layout_.addLayout(row)
        self.risk = QWidget()
        risk_form = QFormLayout(self.risk)
        risk_form.setContentsMargins(0, 0, 0, 0)
        self.risk_note = note()
        bold(self.risk_note)
        risk_form.addRow(self.risk_note)
        self.decided_by = QLineEdit()
        self.decided_by.setMaxLength(200)
        self.risk_reason = QLineEdit()
        self.risk_reason.setMaxLength(2000)
        add_row(risk_form, "Decided b&y:", self.decided_by, "The prescriber who decided it")
        add_row(risk_form, "Reason gi&ven:", self.risk_reason, "Why the prescriber changed it")
        self.layout_.addWidget(self.risk)
        self.risk.setVisible(False)
        self.decided_by.textEdited.connect(self._explained)
        self.risk_reason.textEdited.connect(self._explained)
        self.setVisible(False)

    def show_facts(
        self, facts: list[FactOnScreen], change: RiskChange | None, said: RiskCategoryChange | None
    ) -> None:
        """The session's carried facts as they stand now (empty: not a next visit)."""
        if [f.key for f in facts] != list(self.boxes):
            self._rebuild([f.key for f in facts])
        for fact in facts:
            box = self.boxes[fact.key]
            changed = fact.provenance in (Provenance.TYPED, Provenance.NOT_ENTERED)
            if changed:
                now = fact.now if fact.now is not None else "not entered"
                box.setText(f"Last visit: {fact.key}: {fact.carried} — changed to {now}")
            else:
                box.setText(f"Last visit: {fact.key}: {fact.carried} — still true?")
            box.blockSignals(True)  # shown as the session says: not the pharmacist's answer
            box.setChecked(fact.provenance is Provenance.CARRIED_CONFIRMED)
            box.blockSignals(False)
            box.setEnabled(not changed)
        self.risk.setVisible(change is not None)
        if change is None:
            self.decided_by.clear()
            self.risk_reason.clear()
        else:
            self.risk_note.setText(
                f"The risk category changed {change.words} since the last visit: who decided "
                "it, and why?"
            )
            if said is not None and not self.decided_by.hasFocus():
                self.decided_by.setText(said.decided_by)
            if said is not None and not self.risk_reason.hasFocus():
                self.risk_reason.setText(said.reason)
        self.setVisible(bool(facts))

    def _rebuild(self, keys: list[str]) -> None:
        for box in self.boxes.values():
            self.rows_layout.removeWidget(box)
            box.hide()
            box.deleteLater()
        self.boxes.clear()
        self.decided_by.clear()
        self.risk_reason.clear()
        for i, key in enumerate(keys):
            box = QCheckBox()
            box.setAccessibleName(f"Still true: {key}")
            box.toggled.connect(lambda on, key=key: self.confirm.emit(key, on))
            self.rows_layout.addWidget(box, i // 2, i % 2)
            self.boxes[key] = box

    def focus_widgets(self) -> list[QWidget]:
        """In the Tab order: each "still true?" box, then who decided a change and why."""
        if not self.isVisible():
            return []
        widgets: list[QWidget] = list(self.boxes.values())
        if self.risk.isVisible():
            widgets += [self.decided_by, self.risk_reason]
        return widgets

    def _explained(self, _text: str) -> None:
        self.risk_change_explained.emit(self.decided_by.text(), self.risk_reason.text())


# -- the start screen: a returning patient ---------------------------------------------------


class ReturningPatient(QGroupBox):
    """Find a patient by programme id, or by name and date of birth; start the next visit."""

    start_next = Signal(int)

    def __init__(self, database: Callable[[], Database], kb: Callable[[], KnowledgeBase]) -> None:
        super().__init__("Returning patient")
        self._database = database
        self._kb = kb
        self.course: PatientCourse | None = None
        form = QFormLayout(self)
        self.who = QLineEdit()
        self.who.setMaxLength(200)
        self.born = QLineEdit()
        self.born.setPlaceholderText("YYYY-MM-DD (with a name)")
        add_row(form, "Programme &id or name:", self.who, "Programme patient number, NHS number…")
        add_row(form, "Date of &birth:", self.born, "Needed when searching by name")
        buttons = QHBoxLayout()
        self.find_button = QPushButton("&Find")
        self.next_button = QPushButton("Start ne&xt visit")
        self.next_button.setEnabled(False)
        buttons.addWidget(self.find_button)
        buttons.addWidget(self.next_button)
        form.addRow(buttons)
        self.result = note("Find a patient seen before to carry last month's facts over.")
        self.result.setAccessibleName("Returning patient found")
        form.addRow(self.result)
        self.panel = CoursePanel()
        self.panel.setVisible(False)
        form.addRow(self.panel)
        # slots return None: a slot's return value is not for Qt
        self.find_button.clicked.connect(self._find)
        self.who.returnPressed.connect(self._find)
        self.born.returnPressed.connect(self._find)
        self.next_button.clicked.connect(self._start)

    def _find(self) -> None:
        self.look_up()

    def show_record(self, record_id: int) -> None:
        self.find_record(record_id)

    def look_up(self) -> bool:
        """The course of the patient typed in (``find`` would hide ``QWidget.find``)."""
        from pharmacist_tool.records.course import find_course

        text, born_text = self.who.text().strip(), self.born.text().strip()
        self.course = None
        self.next_button.setEnabled(False)
        self.panel.setVisible(False)
        if not text:
            self.result.setText("Type the programme id, or the name and the date of birth.")
            return False
        try:
            if born_text:
                try:
                    born = dt.date.fromisoformat(born_text)
                except ValueError:
                    raise UserError(
                        f"Date of birth “{born_text}” is not a date (YYYY-MM-DD)"
                    ) from None
                course = find_course(self._database(), name=text, date_of_birth=born)
            else:
                course = find_course(self._database(), programme_id=text)
        except UserError as error:
            self.result.setText(f"✖ {error}")
            return False
        return self.present(course)

    def find_record(self, record_id: int) -> bool:
        from pharmacist_tool.records.course import course_of_record

        try:
            return self.present(course_of_record(self._database(), record_id))
        except UserError as error:
            self.result.setText(f"✖ {error}")
            return False

    def present(self, course: PatientCourse) -> bool:
        self.course = course
        pid = f", programme id {course.programme_id}" if course.programme_id else ""
        words = f"{course.name}, born {course.date_of_birth.isoformat()}{pid}."
        for other in course.similar:
            words += (
                f" Not merged: {other.name} (records "
                f"{', '.join(map(str, other.record_ids))}) has a similar name — only you can "
                "say it is the same patient."
            )
        self.result.setText(words)
        show_course(self.panel, course, self._kb())
        self.panel.setVisible(True)
        self.next_button.setEnabled(True)
        return True

    def _start(self) -> None:
        if self.course is not None:
            self.start_next.emit(self.course.fills[-1].record_id)


def start_next_visit(window: WindowBase, record_id: int) -> bool:
    """Open a session for the patient's next visit, prefilled as ``pharmacist-tool next`` does,
    with each carried fact waiting for the pharmacist's confirmation."""
    from pharmacist_tool.gui import signing
    from pharmacist_tool.records.course import next_visit

    try:
        case = next_visit(signing.database(window.database), record_id, dt.date.today())
    except UserError as error:
        window.show_error("The next visit cannot be started", str(error))
        return False
    window.save_now()
    window.open_case(case, source=f"next visit after record {record_id}")
    window.go_step(0)
    return True


def start_row(window: WindowBase) -> QWidget:
    """The start screen's row: the returning patient and the due list."""
    from pharmacist_tool.gui import signing
    from pharmacist_tool.gui.due_list import DueList

    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    window.returning = ReturningPatient(lambda: signing.database(window.database), window.ensure_kb)
    window.due_list = DueList(lambda: signing.database(window.database))

    def start(record_id: int) -> None:
        start_next_visit(window, record_id)

    window.returning.start_next.connect(start)
    window.due_list.chosen.connect(window.returning.show_record)
    layout.addWidget(window.returning, 1)
    layout.addWidget(window.due_list, 1)
    return row
