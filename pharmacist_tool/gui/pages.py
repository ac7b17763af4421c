"""The seven steps of a counselling session, each a page the pharmacist can jump to.

Every page reads its part of the case (``load``) and writes it back (``collect``), reporting the
fields that are not entered yet, the text typed that is not valid yet (kept in the draft, never
thrown away) and a message per problem naming the field.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar, get_args

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from pharmacist_tool.app.steps import is_storage_item
from pharmacist_tool.app.words import (
    after_last_dose_words,
    authorization_expires_on,
    authorization_expiry_words,
    supply_limit_words,
)
from pharmacist_tool.case import (
    Alcohol,
    AuthorizationVia,
    DutyAnswer,
    Outcome,
    OutcomeStatus,
    PregnancyTest,
    ProgrammeCheck,
    Sex,
    SupplyDuty,
    TestResult,
)
from pharmacist_tool.counselling.case_draft import CaseDraft
from pharmacist_tool.engine.duties import DutyEntry
from pharmacist_tool.gui import services
from pharmacist_tool.gui.inputs import (
    CountInput,
    DateInput,
    NumberInput,
    attach_completer,
    set_completions,
)
from pharmacist_tool.gui.widgets import add_row, bold, heading, note

if TYPE_CHECKING:
    from pharmacist_tool.engine.assessment import Assessment, ChecklistEntry
    from pharmacist_tool.knowledge.model import KnowledgeBase, RuleSetVersion

LANGUAGES = {"en": "English", "es": "Español"}
TEST_RESULTS: tuple[TestResult, ...] = get_args(TestResult)
NO_RESULT = "— choose —"
"""The result box's first line: a test has no result until the pharmacist chooses one."""
ALCOHOL_AMOUNTS: tuple[Alcohol, ...] = get_args(Alcohol)

_Choice = TypeVar("_Choice", bound=str)

AUTHORIZATION_VIA: tuple[tuple[AuthorizationVia | None, str], ...] = (
    (None, "Not recorded"),
    ("website", "On the programme's website"),
    ("phone", "By phone"),
)


def one_of(text: str, choices: tuple[_Choice, ...]) -> _Choice:
    """The choice a combo box shows, as the case's type (its items are the choices)."""
    for choice in choices:
        if choice == text:
            return choice
    raise ValueError(f"“{text}” is none of {', '.join(choices)}")


SEX_CHOICES: tuple[tuple[str, Sex | None], ...] = (
    ("Not said", None),
    ("Female", "female"),
    ("Male", "male"),
)


@dataclass
class Collected:
    typed: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    """Fields not entered or not valid: the case cannot be assessed yet."""
    pending: list[str] = field(default_factory=list)
    """Things typed but not finished (not added to a list): they only hold up signing."""
    unasked: list[str] = field(default_factory=list)
    """Questions not asked yet (other medicines, alcohol): they hold up handing over."""


def _date_field(result: Collected, name: str, label: str, widget: DateInput) -> dt.date | None:
    problem = widget.problem(label)
    if problem:
        result.problems.append(problem)
        if widget.text().strip():
            result.typed[name] = widget.text()
        return None
    return widget.value()


def _number_field(result: Collected, name: str, label: str, widget: NumberInput) -> float | None:
    problem = widget.problem(label)
    if problem:
        result.problems.append(problem)
        if widget.text().strip():
            result.typed[name] = widget.text()
        return None
    return widget.value()


def _count_field(result: Collected, name: str, label: str, widget: CountInput) -> int | None:
    value = widget.count()
    if value is None and not widget.optional:
        result.problems.append(f"{label}: not entered")
    return value


class StepPage(QWidget):
    changed = Signal()
    title = ""
    short = ""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kb: KnowledgeBase | None = None
        self._loading = False
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        body = QWidget()
        self.body = QVBoxLayout(body)
        self.heading = heading(self.title)
        self.body.addWidget(self.heading)
        self.scroll_area.setWidget(body)
        outer.addWidget(self.scroll_area)

    def finish(self) -> None:
        self.body.addStretch(1)

    def _emit(self, *_: object) -> None:
        if not self._loading:
            self.changed.emit()

    def watch(self, *widgets: QWidget) -> None:
        for w in widgets:
            if isinstance(w, QLineEdit):
                w.textChanged.connect(self._emit)
            elif isinstance(w, QComboBox):
                w.currentIndexChanged.connect(self._emit)
            elif isinstance(w, QSpinBox):
                w.valueChanged.connect(self._emit)
            elif isinstance(w, QCheckBox | QRadioButton):
                w.toggled.connect(self._emit)

    def set_kb(self, kb: KnowledgeBase | None) -> None:
        self.kb = kb

    def load(self, case: CaseDraft, typed: dict[str, str]) -> None:
        self._loading = True
        try:
            self._load(case, typed)
        finally:
            self._loading = False

    def _load(self, case: CaseDraft, typed: dict[str, str]) -> None:
        pass

    def collect(self, case: CaseDraft, result: Collected) -> None:
        pass

    def update_assessment(self, case: CaseDraft, assessment: Assessment | None) -> None:
        pass

    def first_input(self) -> QWidget | None:
        return None


def _typed_or(widget: QLineEdit, name: str, typed: dict[str, str], text: str) -> None:
    widget.setText(typed.get(name, text))


class PatientPage(StepPage):
    title = "1  Patient and prescription"
    short = "Patient"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        box = QGroupBox("Patient")
        form = QFormLayout(box)
        self.name = QLineEdit()
        self.name.setMaxLength(200)
        self.dob = DateInput()
        self.weight = NumberInput("kg", 0, 400)
        self.pregnancy = QComboBox()
        self.pregnancy.addItems(["Not entered", "Can get pregnant", "Cannot get pregnant"])
        add_row(form, "&Name:", self.name, "The patient's full name as on the prescription")
        add_row(form, "Date of &birth:", self.dob, "Year-month-day, e.g. 2004-03-02")
        self.programme_id = QLineEdit()
        self.programme_id.setMaxLength(200)
        add_row(
            form, "Patient's pro&gramme id:", self.programme_id,
            "The programme's patient number, the national health number or the pharmacy's own "
            "number: it finds the patient's earlier visits (leave it empty when there is none)",
        )  # fmt: skip
        add_row(form, "&Weight (kg):", self.weight, "Body weight in kilograms, for the dose check")
        add_row(
            form,
            "Can get &pregnant:",
            self.pregnancy,
            "The prescriber's risk category; it decides the pregnancy-prevention step",
        )
        self.sex = QComboBox()
        for text, value in SEX_CHOICES:
            self.sex.addItem(text, value)
        add_row(
            form,
            "Se&x:",
            self.sex,
            "Optional: this medicine has advice for one sex; not said, it follows the category",
        )
        self.patient_form = form
        form.setRowVisible(self.sex, False)
        self.body.addWidget(box)

        box = QGroupBox("Programme")
        form = QFormLayout(box)
        self.rule_set = QComboBox()
        self.rule_set.addItems(services.rule_set_ids(None))
        self.counselled_on = DateInput()
        add_row(form, "&Rules:", self.rule_set, "The risk-management programme that applies")
        add_row(
            form, "C&ounselled on:", self.counselled_on, "Today, unless recording a past session"
        )
        self.body.addWidget(box)

        box = QGroupBox("Prescription")
        form = QFormLayout(box)
        self.medicine = QLineEdit()
        self.medicine_completer = attach_completer(self.medicine, [])
        self.strength = NumberInput("mg", 0, 1000)
        self.units = CountInput(100)
        self.doses = CountInput(100)
        self.prescribed_on = DateInput()
        self.prescriber = QLineEdit()
        add_row(
            form, "&Medicine:", self.medicine, "Brand or generic name; completion offers known ones"
        )
        add_row(form, "S&trength (mg):", self.strength, "Strength of one capsule in mg")
        add_row(form, "&Units per dose:", self.units, "Capsules per dose")
        add_row(form, "&Doses per day:", self.doses, "How many times a day")
        add_row(form, "Pr&escribed on:", self.prescribed_on, "Date on the prescription")
        add_row(form, "Prescr&iber:", self.prescriber, "Who prescribed it")
        self.indication = QLineEdit()
        self.indication.setMaxLength(200)
        add_row(
            form,
            "Indi&cation:",
            self.indication,
            "The indication (e.g. epilepsy, migraine): this medicine's rules depend on it",
        )
        self.prescription_form = form
        form.setRowVisible(self.indication, False)
        self.dose_note = note()
        self.dose_note.setAccessibleName("Dose")
        form.addRow(self.dose_note)
        self.body.addWidget(box)
        self.finish()
        self.watch(
            self.name, self.dob, self.programme_id, self.weight, self.pregnancy, self.sex,
            self.rule_set, self.counselled_on, self.medicine, self.strength, self.units,
            self.doses, self.prescribed_on, self.prescriber, self.indication,
        )  # fmt: skip

    def set_kb(self, kb: KnowledgeBase | None) -> None:
        super().set_kb(kb)
        set_completions(self.medicine_completer, services.product_names(kb))
        self.patient_form.setRowVisible(self.sex, services.has_advice_by_sex(kb))
        self.prescription_form.setRowVisible(self.indication, services.asks_indication(kb))
        current = self.rule_set.currentText()
        self._loading, was = True, self._loading
        self.rule_set.clear()
        self.rule_set.addItems(services.rule_set_ids(kb))
        self.rule_set.setCurrentText(current)
        self._loading = was

    def first_input(self) -> QWidget:
        return self.name

    def _load(self, case: CaseDraft, typed: dict[str, str]) -> None:
        p, rx = case.patient, case.prescription
        self.name.setText(p.name)
        dob = "" if p.date_of_birth is None else p.date_of_birth.isoformat()
        _typed_or(self.dob, "patient.date_of_birth", typed, dob)
        self.programme_id.setText(p.programme_id or "")
        _typed_or(self.weight, "patient.weight_kg", typed,
                  "" if p.weight_kg is None else f"{p.weight_kg:g}")  # fmt: skip
        if p.can_get_pregnant is None:
            self.pregnancy.setCurrentIndex(0)
        else:
            self.pregnancy.setCurrentIndex(1 if p.can_get_pregnant else 2)
        self.sex.setCurrentIndex(max(self.sex.findData(p.sex), 0))
        if self.rule_set.findText(case.rule_set) < 0:
            self.rule_set.addItem(case.rule_set)
        self.rule_set.setCurrentText(case.rule_set)
        on = "" if case.counselled_on is None else case.counselled_on.isoformat()
        _typed_or(self.counselled_on, "counselled_on", typed, on)
        self.medicine.setText(rx.medicine)
        _typed_or(self.strength, "prescription.strength_mg", typed,
                  "" if rx.strength_mg is None else f"{rx.strength_mg:g}")  # fmt: skip
        self.units.set_count(rx.units_per_dose)
        self.doses.set_count(rx.doses_per_day)
        on = "" if rx.prescribed_on is None else rx.prescribed_on.isoformat()
        _typed_or(self.prescribed_on, "prescription.prescribed_on", typed, on)
        self.prescriber.setText(rx.prescriber)
        self.indication.setText(rx.indication or "")

    def collect(self, case: CaseDraft, result: Collected) -> None:
        p, rx = case.patient, case.prescription
        p.name = self.name.text()
        if not p.name.strip():
            result.problems.append("Name: not entered")
        p.date_of_birth = _date_field(result, "patient.date_of_birth", "Date of birth", self.dob)
        p.programme_id = self.programme_id.text().strip() or None
        p.weight_kg = _number_field(result, "patient.weight_kg", "Weight", self.weight)
        if self.pregnancy.currentIndex() == 0:
            result.problems.append("Can get pregnant: not entered")
            p.can_get_pregnant = None
        else:
            p.can_get_pregnant = self.pregnancy.currentIndex() == 1
        if services.has_advice_by_sex(self.kb):  # otherwise the case's own (a file's) is kept
            p.sex = self.sex.currentData()
        case.rule_set = self.rule_set.currentText()
        case.counselled_on = _date_field(
            result, "counselled_on", "Counselled on", self.counselled_on
        )
        rx.medicine = self.medicine.text()
        if not rx.medicine.strip():
            result.problems.append("Medicine: not entered")
        rx.strength_mg = _number_field(
            result, "prescription.strength_mg", "Strength", self.strength
        )
        rx.units_per_dose = _count_field(
            result, "prescription.units_per_dose", "Units per dose", self.units
        )
        rx.doses_per_day = _count_field(
            result, "prescription.doses_per_day", "Doses per day", self.doses
        )
        rx.prescribed_on = _date_field(
            result, "prescription.prescribed_on", "Prescribed on", self.prescribed_on
        )
        rx.prescriber = self.prescriber.text()
        if services.asks_indication(self.kb):  # otherwise the case's own (a file's) is kept
            rx.indication = self.indication.text().strip() or None

    def update_assessment(self, case: CaseDraft, assessment: Assessment | None) -> None:
        if assessment is None:
            self.dose_note.setText("")
            return
        self.dose_note.setText(
            f"Daily dose {assessment.daily_dose_mg:g} mg = "
            f"{assessment.dose_mg_per_kg_per_day:.2f} mg/kg/day"
            + (f" · {assessment.product}" if getattr(assessment, "product", "") else "")
        )


def countdown_text(deadline: dt.date | None, now: dt.datetime) -> str:
    """The pick-up deadline in words: the deadline is the end of that day, local time."""
    if deadline is None:
        return "No pick-up deadline applies."
    end = dt.datetime.combine(deadline + dt.timedelta(days=1), dt.time())
    when = deadline.strftime("%a %d %b %Y")
    left = end - now
    if left.total_seconds() <= 0:
        days = (now.date() - deadline).days
        return f"✖ Pick-up window CLOSED on {when} ({days} day{'s' * (days != 1)} ago)"
    hours = int(left.total_seconds() // 3600)
    days, hours = divmod(hours, 24)
    minutes = int(left.total_seconds() // 60) % 60
    if days:
        rest = f"{days} day{'s' * (days != 1)} {hours} h left"
    else:
        rest = f"{hours} h {minutes} min left"
    return f"Pick up by {when} — {rest}"


class ProgrammePage(StepPage):
    title = "2  Programme checks"
    short = "Programme"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.countdown = QLabel()
        bold(self.countdown)
        self.countdown.setAccessibleName("Pick-up deadline")
        self.countdown.setWordWrap(True)
        self.body.addWidget(self.countdown)
        self.auth_expiry = note()
        self.auth_expiry.setAccessibleName("Authorization expiry")
        self.body.addWidget(self.auth_expiry)
        self.next_test = note()
        self.next_test.setAccessibleName("Next pregnancy test")
        self.body.addWidget(self.next_test)
        box = QGroupBox("Authorization and supply")
        form = QFormLayout(box)
        self.authorization = QLineEdit()
        self.authorization.setMaxLength(200)
        self.auth_label = add_row(
            form, "&Authorization:", self.authorization,
            "The programme's dispensing authorization, where the rule set needs one",
        )  # fmt: skip
        self.days = CountInput(366)
        self.quantity = CountInput(10000, optional=True)
        self.refills = QSpinBox()
        self.refills.setRange(0, 99)
        add_row(form, "Days' su&pply:", self.days, "How many days the supply lasts")
        add_row(form, "&Quantity:", self.quantity, "Number of capsules")
        add_row(form, "Refi&lls:", self.refills, "Refills on the prescription")
        self.body.addWidget(box)
        self.body.addWidget(self._obtained_box())
        self.duties = DutiesBox(self._emit)
        self.body.addWidget(self.duties)
        self.rules = note()
        self.rules.setAccessibleName("Programme rules")
        self.body.addWidget(self.rules)
        self.finish()
        self.watch(
            self.authorization, self.days, self.quantity, self.refills, self.via, self.outage,
            self.call_reference, self.called_at,
        )  # fmt: skip
        self.deadline: dt.date | None = None
        self.reversed_on: dt.date | None = None

    def _obtained_box(self) -> QGroupBox:
        """How the authorization was obtained: the outage log."""
        box = QGroupBox("How the authorization was obtained")
        form = QFormLayout(box)
        self.via = QComboBox()
        self.via.addItems([label for _, label in AUTHORIZATION_VIA])
        self.outage = QCheckBox("The programme's &website was down (an outage)")
        self.outage.setAccessibleDescription(
            "During an outage the authorization is obtained by phone: give the call reference "
            "and the time of the call"
        )
        self.call_reference = QLineEdit()
        self.call_reference.setMaxLength(200)
        self.called_at = QLineEdit()
        self.called_at.setPlaceholderText("YYYY-MM-DD HH:MM")
        self.called_at.setMaxLength(16)
        add_row(form, "O&btained:", self.via, "On the programme's website, or by phone")
        form.addRow(self.outage)
        add_row(form, "Call &reference:", self.call_reference, "The reference given on the call")
        add_row(form, "Call ti&me:", self.called_at, "When you called, e.g. 2026-12-01 10:30")
        return box

    def first_input(self) -> QWidget:
        return self.authorization

    def _load(self, case: CaseDraft, typed: dict[str, str]) -> None:
        rx = case.prescription
        self.authorization.setText(rx.authorization or "")
        self.days.set_count(rx.days_supply)
        self.quantity.set_count(rx.quantity)
        self.refills.setValue(rx.refills)
        check = case.programme_check or ProgrammeCheck()
        vias = [via for via, _ in AUTHORIZATION_VIA]
        self.via.setCurrentIndex(vias.index(check.authorization_via))
        self.outage.setChecked(check.outage)
        self.call_reference.setText(check.call_reference)
        called = check.called_at.strftime("%Y-%m-%d %H:%M") if check.called_at else ""
        _typed_or(self.called_at, "programme_check.called_at", typed, called)
        self.reversed_on = check.authorization_reversed_on
        self.duties.load(case, typed)

    def collect(self, case: CaseDraft, result: Collected) -> None:
        self._collect_check(case, result)
        self.duties.collect(case, result)
        rx = case.prescription
        rx.authorization = self.authorization.text().strip() or None
        rx.days_supply = _count_field(result, "prescription.days_supply", "Days' supply", self.days)
        rx.quantity = self.quantity.count()
        rx.refills = self.refills.value()

    def update_assessment(self, case: CaseDraft, assessment: Assessment | None) -> None:
        if assessment is not None:  # kept while the checks cannot run (a date being typed)
            self._loading = True
            try:
                self.duties.show_duties(assessment.duties or [], case)
            finally:
                self._loading = False
        self.deadline = assessment.pick_up_by if assessment is not None else None
        self.tick()
        due = assessment.next_pregnancy_test_due if assessment is not None else None
        self.next_test.setText(
            f"Next pregnancy test due by {due.strftime('%a %d %b %Y')}." if due else ""
        )
        version = _rule_version(self.kb, case)
        if version is not None:
            label = version.authorization_label or "Authorization"
            self.auth_label.setText(f"&{label}:")
            self.authorization.setAccessibleName(label)
            need = "required" if version.requires_authorization else "not used by this programme"
            self.rules.setText(
                f"{version.title} (in force from {version.effective_from:%d %b %Y}): "
                f"authorization {need}; {supply_limit_words(version.max_days_supply)}"
                + ("" if version.refills_allowed else "; no refills")
                + (f". Contact: {version.contact}" if version.contact else ".")
            )

    def tick(self) -> None:
        self.countdown.setText(countdown_text(self.deadline, dt.datetime.now()))
        expires = authorization_expires_on(self.authorization.text(), self.deadline)
        self.auth_expiry.setText(authorization_expiry_words(expires, dt.date.today()))

    def _collect_check(self, case: CaseDraft, result: Collected) -> None:
        via = AUTHORIZATION_VIA[self.via.currentIndex()][0]
        outage, reference = self.outage.isChecked(), self.call_reference.text().strip()
        called_text = self.called_at.text().strip()
        called_at = None
        if called_text:
            try:
                called_at = dt.datetime.strptime(called_text, "%Y-%m-%d %H:%M")
            except ValueError:
                result.typed["programme_check.called_at"] = called_text
                result.problems.append(
                    f"Call time: “{called_text}” is not a time (write it as YYYY-MM-DD HH:MM)"
                )
        if outage and via != "phone":
            result.problems.append("Obtained: during an outage the authorization is by phone")
        if outage and via == "phone" and not reference:
            result.problems.append("Call reference: not entered")
        if outage and via == "phone" and not called_text:
            result.problems.append("Call time: not entered")
        empty = via is None and not (outage or reference or called_at or self.reversed_on)
        case.programme_check = None if empty else ProgrammeCheck(
            authorization_via=via, outage=outage, call_reference=reference,
            called_at=called_at, authorization_reversed_on=self.reversed_on,
        )  # fmt: skip


DUTY_CHOICES: dict[str, tuple[tuple[str, bool, DutyAnswer | None], ...]] = {
    "given": (("Given", True, None), ("Not given", False, None)),
    "seen-with-date": (("Seen", True, None), ("Not seen", False, None)),
    "referral": (("Made", True, None), ("Not made", False, None)),
    "asked": (
        ("Asked: no new problem", True, "no-change"),
        ("Asked: a new problem reported", True, "change-reported"),
        ("Not asked", False, None),
    ),
}
"""Per kind of duty, the answers a pharmacist chooses from (after "— choose —": no default)."""


class DutyRow(QWidget):
    """One programme duty: what was done (a choice, none made at first), why not, and for a
    form the date it bears."""

    def __init__(self, duty: DutyEntry, changed: Callable[..., None]) -> None:
        super().__init__()
        self.duty_id: str = duty.id
        self.words: str = duty.words
        self.kind: str = duty.kind
        self.choices = DUTY_CHOICES.get(duty.kind, DUTY_CHOICES["given"])
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 4)
        self.choice = QComboBox()
        self.choice.addItems([NO_RESULT, *(label for label, _, _ in self.choices)])
        self.choice.setAccessibleName(duty.words)
        self.choice.setAccessibleDescription("What was done on this supply: choose one")
        self.label = QLabel(duty.words)
        self.label.setBuddy(self.choice)
        self.label.setWordWrap(True)
        form.addRow(self.label, self.choice)
        self.reason = QLineEdit()
        self.reason.setMaxLength(2000)
        self.reason.setAccessibleName(f"Why not: {duty.words}")
        self.reason.setPlaceholderText("Why not (required when not done)")
        form.addRow("Why not:", self.reason)
        self.form_date = DateInput()
        self.form_date.setAccessibleName(f"Date on the form: {duty.words}")
        if duty.kind == "seen-with-date":
            form.addRow("Date on the form:", self.form_date)
        else:
            self.form_date.hide()
        self.choice.currentIndexChanged.connect(changed)
        self.choice.currentIndexChanged.connect(self._enable)
        self.reason.textChanged.connect(changed)
        self.form_date.textChanged.connect(changed)
        self._enable()

    def _chosen(self) -> tuple[str, bool, DutyAnswer | None] | None:
        index = self.choice.currentIndex()
        return self.choices[index - 1] if index > 0 else None

    def _enable(self, *_: object) -> None:
        chosen = self._chosen()
        self.reason.setEnabled(chosen is not None and not chosen[1])
        self.form_date.setEnabled(chosen is not None and chosen[1])

    def show_recorded(self, said: SupplyDuty | None, typed: dict[str, str]) -> None:
        index = 0
        if said is not None:
            for i, (_, done, answer) in enumerate(self.choices, start=1):
                if done == said.done and (answer is None or answer == said.answer):
                    index = i
                    break
        self.choice.setCurrentIndex(index)
        self.reason.setText(said.reason if said is not None else "")
        date = said.form_date.isoformat() if said is not None and said.form_date else ""
        _typed_or(self.form_date, f"supply_duties.{self.duty_id}.form_date", typed, date)
        self._enable()

    def collect(self, case: CaseDraft, result: Collected) -> None:
        chosen = self._chosen()
        if chosen is None:
            case.supply_duties.pop(self.duty_id, None)
            return
        _, done, answer = chosen
        reason = self.reason.text().strip()
        if not done and not reason:
            case.supply_duties.pop(self.duty_id, None)
            result.pending.append(f"{self.words}: say why not")
            return
        form_date = None
        if done and self.kind == "seen-with-date" and self.form_date.text().strip():
            name = f"supply_duties.{self.duty_id}.form_date"
            form_date = _date_field(result, name, "Date on the form", self.form_date)
        case.supply_duties[self.duty_id] = SupplyDuty(
            done=done, reason="" if done else reason, form_date=form_date, answer=answer
        )


class DutiesBox(QGroupBox):
    """The programme's duties on this supply, each recorded as a fact (rebuilt from the
    assessment's list: the duties that apply to this patient and visit)."""

    def __init__(self, changed: Callable[..., None]) -> None:
        super().__init__("Programme duties on this supply")
        self._changed = changed
        layout = QVBoxLayout(self)
        self.jump = QLabel("&Duties: choose what was done for each, with the reason when not.")
        self.jump.setWordWrap(True)
        layout.addWidget(self.jump)
        self.rows_box = QVBoxLayout()
        layout.addLayout(self.rows_box)
        self.rows: dict[str, DutyRow] = {}
        self.ids: list[str] = []
        self.hide()

    def show_duties(self, duties: list[DutyEntry], case: CaseDraft) -> None:
        ids = [d.id for d in duties]
        if ids == self.ids:
            return
        while self.rows_box.count():
            taken = self.rows_box.takeAt(0)
            widget = taken.widget() if taken is not None else None
            if widget is not None:
                widget.deleteLater()
        self.rows = {}
        for duty in duties:
            row = DutyRow(duty, self._changed)
            row.show_recorded(case.supply_duties.get(duty.id), {})
            self.rows_box.addWidget(row)
            self.rows[duty.id] = row
        self.ids = ids
        if ids:
            self.jump.setBuddy(self.rows[ids[0]].choice)
        self.setVisible(bool(ids))

    def load(self, case: CaseDraft, typed: dict[str, str]) -> None:
        for duty_id, row in self.rows.items():
            row.show_recorded(case.supply_duties.get(duty_id), typed)

    def collect(self, case: CaseDraft, result: Collected) -> None:
        for row in self.rows.values():
            row.collect(case, result)


def _rule_version(kb: KnowledgeBase | None, case: CaseDraft) -> RuleSetVersion | None:
    for rs in kb.rule_sets if kb else []:
        if rs.id != case.rule_set:
            continue
        on = case.counselled_on or dt.date.today()  # not entered yet: the rules in force today
        in_force = [v for v in rs.versions if v.effective_from <= on]
        chosen = max(in_force, key=lambda v: v.effective_from, default=None)
        return chosen or (rs.versions[0] if rs.versions else None)
    return None


class ListEditor(QWidget):
    """A line to type into (with completion), Add, and the list with what each line matched."""

    changed = Signal()

    def __init__(self, label: str, add_text: str, description: str) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.caption = QLabel(label)
        self.edit = QLineEdit()
        self.edit.setMaxLength(200)
        self.caption.setBuddy(self.edit)
        self.edit.setAccessibleName(label.replace("&", "").rstrip(":"))
        self.edit.setAccessibleDescription(description)
        self.edit.setPlaceholderText(description)
        self.completer = attach_completer(self.edit, [])
        self.add = QPushButton(add_text)
        self.add.setAutoDefault(False)
        row.addWidget(self.caption)
        row.addWidget(self.edit, 1)
        row.addWidget(self.add)
        layout.addLayout(row)
        self.list = QListWidget()
        self.list.setAccessibleName(label.replace("&", "").rstrip(":") + " list")
        self.list.setAccessibleDescription("Delete removes the selected line")
        self.list.setMinimumHeight(90)
        layout.addWidget(self.list)
        self.remove = QPushButton("Remove selected (Del)")
        self.remove.setAutoDefault(False)
        row2 = QHBoxLayout()
        row2.addStretch(1)
        row2.addWidget(self.remove)
        layout.addLayout(row2)
        self.edit.returnPressed.connect(self._add)
        self.add.clicked.connect(self._add)
        self.remove.clicked.connect(self._remove)
        self.list.installEventFilter(self)
        self.values: list[str] = []
        self.describe: Callable[[str], str] = lambda text: ""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if (
            watched is self.list
            and isinstance(event, QKeyEvent)
            and event.type() == QEvent.Type.KeyPress
            and event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace)
        ):
            self._remove()
            return True
        return False

    def _add(self) -> None:
        text = self.edit.text().strip()
        if not text:
            return
        self.values.append(text)
        self.edit.clear()
        self.refresh()
        self.changed.emit()

    def _remove(self) -> None:
        row = self.list.currentRow()
        if 0 <= row < len(self.values):
            del self.values[row]
            self.refresh()
            self.list.setCurrentRow(min(row, len(self.values) - 1))
            self.changed.emit()

    def set_values(self, values: list[str]) -> None:
        self.values = list(values)
        self.refresh()

    def refresh(self) -> None:
        """Show each line with what it matched; untouched when nothing changed (so a keystroke
        elsewhere neither redraws the list nor loses the selected line)."""
        shown = [(value, self.describe(value)) for value in self.values]
        texts = [f"{value}   →   {matched}" if matched else value for value, matched in shown]
        if texts == [self.list.item(i).text() for i in range(self.list.count())]:
            return
        self.list.clear()
        for (value, matched), text in zip(shown, texts, strict=True):
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.AccessibleTextRole, f"{value}: {matched}")
            self.list.addItem(item)


class PregnancyPage(StepPage):
    title = "3  Pregnancy prevention"
    short = "Pregnancy"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._described: dict[tuple[int, str, str], str] = {}
        self.not_needed = note(
            "Not needed: the prescriber's category says this patient cannot get pregnant."
        )
        bold(self.not_needed)
        self.body.addWidget(self.not_needed)
        self.content = QWidget()
        layout = QVBoxLayout(self.content)
        layout.setContentsMargins(0, 0, 0, 0)

        tests = QGroupBox("Pregnancy tests")
        tl = QVBoxLayout(tests)
        row = QHBoxLayout()
        self.test_date = DateInput()
        self.test_result = QComboBox()
        self.test_result.addItems([NO_RESULT, *TEST_RESULTS])
        date_label = QLabel("&Test date:")
        date_label.setBuddy(self.test_date)
        self.test_date.setAccessibleName("Test date")
        result_label = QLabel("Res&ult:")
        result_label.setBuddy(self.test_result)
        self.test_result.setAccessibleName("Test result")
        self.add_test = QPushButton("Add t&est")
        self.add_test.setAutoDefault(False)
        for w in (date_label, self.test_date, result_label, self.test_result, self.add_test):
            row.addWidget(w)
        row.addStretch(1)
        tl.addLayout(row)
        self.test_problem = note()
        tl.addWidget(self.test_problem)
        self.tests = QListWidget()
        self.tests.setAccessibleName("Pregnancy tests list")
        self.tests.setAccessibleDescription("Delete removes the selected test")
        self.tests.setMaximumHeight(110)
        self.tests.installEventFilter(self)
        tl.addWidget(self.tests)
        layout.addWidget(tests)

        methods = QGroupBox("Birth control")
        ml = QVBoxLayout(methods)
        self.methods = ListEditor(
            "&Method:", "&Add method", "A method as the patient says it, e.g. copper IUD"
        )
        self.methods.describe = self._describe_method
        ml.addWidget(self.methods)
        self.abstinence = QCheckBox("Commits to a&bstinence (where the programme accepts it)")
        self.abstinence.setAccessibleName("Commits to abstinence")
        ml.addWidget(self.abstinence)
        self.method_rule = note()
        ml.addWidget(self.method_rule)
        layout.addWidget(methods)
        self.body.addWidget(self.content)
        self.finish()
        self.add_test.clicked.connect(self._add_test)
        self.test_date.returnPressed.connect(self._add_test)
        self.methods.changed.connect(self._emit)
        self.abstinence.toggled.connect(self._emit)
        self.watch(self.test_date, self.methods.edit)
        self.test_values: list[PregnancyTest] = []
        self.rule_set = "US-iPLEDGE"
        self.abstinence_term = "abstinence"

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if (
            watched is self.tests
            and isinstance(event, QKeyEvent)
            and event.type() == QEvent.Type.KeyPress
            and event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace)
        ):
            row = self.tests.currentRow()
            if 0 <= row < len(self.test_values):
                del self.test_values[row]
                self._show_tests()
                self._emit()
            return True
        return False

    def _add_test(self) -> None:
        date = self.test_date.value()
        if date is None:
            self.test_problem.setText(self.test_date.problem("Test date") or "")
            return
        if self.test_result.currentIndex() <= 0:
            self.test_problem.setText(
                "Choose the test's result (negative or positive): a test is never recorded "
                "without one."
            )
            self.test_result.setFocus()
            return
        self.test_problem.setText("")
        result = one_of(self.test_result.currentText(), TEST_RESULTS)
        self.test_values.append(PregnancyTest(date=date, result=result))
        self.test_values.sort(key=lambda t: t.date)
        self.test_date.clear()
        self.test_result.setCurrentIndex(0)
        self._show_tests()
        self.test_date.setFocus()
        self._emit()

    def _show_tests(self) -> None:
        self.tests.clear()
        for t in self.test_values:
            mark = "✖ POSITIVE" if t.result == "positive" else "negative"
            where = f" ({t.setting} test)" if t.setting else ""  # from a case file
            self.tests.addItem(f"{t.date:%a %d %b %Y} ({t.date.isoformat()}) — {mark}{where}")

    def _describe_method(self, text: str) -> str:
        if self.kb is None:
            return ""
        key = (id(self.kb), self.rule_set, text)  # matching is pure: once per line and rules
        found = self._described.get(key)
        if found is None:
            found = self._described[key] = services.match_method(self.kb, text, self.rule_set).text
        return found

    def set_kb(self, kb: KnowledgeBase | None) -> None:
        super().set_kb(kb)
        set_completions(self.methods.completer, services.method_terms(kb))
        for method in getattr(kb, "contraception", []):
            if "abstinence" in method.status.values():
                self.abstinence_term = method.terms[0] if method.terms else method.label
        self.methods.refresh()

    def first_input(self) -> QWidget:
        return self.test_date if self.content.isVisibleTo(self) else self.heading

    def _load(self, case: CaseDraft, typed: dict[str, str]) -> None:
        self.rule_set = case.rule_set
        self.test_values = list(case.pregnancy_tests)
        self._show_tests()
        methods = list(case.contraception)
        abst = [m for m in methods if self._is_abstinence(m)]
        self.abstinence.setChecked(bool(abst))
        self.methods.set_values([m for m in methods if m not in abst])
        self.test_date.setText(typed.get("draft.test_date", ""))
        self.methods.edit.setText(typed.get("draft.method", ""))
        self._show_applicable(case)

    def _is_abstinence(self, text: str) -> bool:
        return text.strip().lower() in {self.abstinence_term.lower(), "abstinence"}

    def _show_applicable(self, case: CaseDraft) -> None:
        applies = case.patient.can_get_pregnant is not False  # shown until it is answered
        self.not_needed.setVisible(not applies)
        self.content.setVisible(applies)

    def collect(self, case: CaseDraft, result: Collected) -> None:
        self.rule_set = case.rule_set
        case.pregnancy_tests = list(self.test_values)
        methods = list(self.methods.values)
        if self.abstinence.isChecked():
            methods.append(self.abstinence_term)
        case.contraception = methods
        if self.test_date.text().strip():
            result.typed["draft.test_date"] = self.test_date.text()
            result.pending.append(
                f"Pregnancy test dated “{self.test_date.text()}” is typed but not added"
            )
        if self.methods.edit.text().strip():
            result.typed["draft.method"] = self.methods.edit.text()
            result.pending.append(
                f"Birth control “{self.methods.edit.text()}” is typed but not added (press Enter)"
            )
        self._show_applicable(case)

    def update_assessment(self, case: CaseDraft, assessment: Assessment | None) -> None:
        version = _rule_version(self.kb, case)
        if version is not None:
            words = {
                "two-methods-one-primary": "two methods at the same time, at least one primary",
                "one-highly-effective-or-two": "one highly effective (user-independent) method, "
                "or two that work together",
                "none": "no contraception rule is checked at the counter (counsel)",
            }
            self.method_rule.setText(
                f"{version.title}: "
                f"{words.get(version.contraception_rule, version.contraception_rule)}"
                f"; abstinence {'is' if version.abstinence_accepted else 'is not'} accepted; "
                f"{after_last_dose_words(version.contraception_after_last_dose_days)}."
            )
            self.abstinence.setEnabled(version.abstinence_accepted or self.abstinence.isChecked())
        self.methods.refresh()


NONE_TAKEN_LABEL = "Asked: takes &no other medicines, supplements or herbal products"
NONE_TAKEN_KEY = "asked.no_other_medicines"
"""Where drafts saved before the case had ``other_medicines_asked`` kept the tick (read only)."""
ALCOHOL_NOT_ASKED = "Not asked"


class MedicinesPage(StepPage):
    title = "4  Other medicines"
    short = "Medicines"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.body.addWidget(
            note(
                "Everything else the patient takes, as they say it: prescriptions, "
                "over-the-counter, vitamins, herbal and skin products. Press Enter to add each."
            )
        )
        self.editor = ListEditor(
            "&Medicine:", "&Add", "e.g. doxycycline 100 mg, St John's wort, vitamin A"
        )
        self.editor.describe = self._describe
        self.body.addWidget(self.editor)
        self.none_taken = QCheckBox(NONE_TAKEN_LABEL)
        self.none_taken.setAccessibleName(NONE_TAKEN_LABEL.replace("&", ""))
        self.body.addWidget(self.none_taken)
        box = QGroupBox("Alcohol")
        form = QFormLayout(box)
        self.alcohol = QComboBox()
        self.alcohol.addItems([ALCOHOL_NOT_ASKED, *ALCOHOL_AMOUNTS])
        add_row(form, "A&lcohol:", self.alcohol, "How much alcohol the patient drinks")
        self.body.addWidget(box)
        self.finish()
        self.editor.changed.connect(self._emit)
        self.watch(self.alcohol, self.editor.edit, self.none_taken)

    def _describe(self, text: str) -> str:
        if self.kb is None:
            return ""
        return services.match_medicine(self.kb, text).text

    def set_kb(self, kb: KnowledgeBase | None) -> None:
        super().set_kb(kb)
        set_completions(self.editor.completer, services.medicine_terms(kb))
        self.editor.refresh()

    def first_input(self) -> QWidget:
        return self.editor.edit

    def _load(self, case: CaseDraft, typed: dict[str, str]) -> None:
        self.editor.set_values(case.medicines)
        self.editor.edit.setText(typed.get("draft.medicine", ""))
        asked = case.other_medicines_asked or typed.get(NONE_TAKEN_KEY) == "asked"
        self.none_taken.setChecked(asked and not case.medicines)
        self.as_loaded = (list(case.medicines), case.other_medicines_asked)
        self.alcohol.setCurrentText(case.alcohol or ALCOHOL_NOT_ASKED)

    def collect(self, case: CaseDraft, result: Collected) -> None:
        case.medicines = list(self.editor.values)
        if case.medicines and self.none_taken.isChecked():
            self.none_taken.setChecked(False)  # a line was added: the patient does take something
        self.none_taken.setEnabled(not case.medicines)
        if self.editor.edit.text().strip():
            result.typed["draft.medicine"] = self.editor.edit.text()
            result.pending.append(
                f"Other medicines: “{self.editor.edit.text()}” is typed but not added (press Enter)"
            )
        lines, asked = getattr(self, "as_loaded", ([], None))
        if asked is None and case.medicines and case.medicines == lines:
            # A case that listed lines without saying it asked (an older record being amended,
            # a case file) keeps "not recorded" until the lines are edited here.
            case.other_medicines_asked = None
        else:
            # Lines given are the answers to asking; the tick is "asked, and none".
            case.other_medicines_asked = bool(case.medicines) or self.none_taken.isChecked() or None
        if case.other_medicines_asked is None and not case.medicines:
            result.unasked.append(
                "Other medicines: ask what else the patient takes (add each, or tick “Asked: "
                "takes no other medicines, supplements or herbal products”) on step 4"
            )
        text = self.alcohol.currentText()
        case.alcohol = None if text == ALCOHOL_NOT_ASKED else one_of(text, ALCOHOL_AMOUNTS)
        if case.alcohol is None:
            result.unasked.append("Alcohol: ask how much the patient drinks (step 4)")


class ChecklistPage(StepPage):
    """Counselling points to confirm, each with its short script to read aloud."""

    storage = False

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.body.addWidget(
            note(
                "Read each point to the patient (the script is under it), then tick it. "
                "Tick a teach-back question when the patient has answered it in their own words. "
                "Space ticks the focused point; Tab moves to the next."
            )
        )
        self.items_box = QVBoxLayout()
        self.body.addLayout(self.items_box)
        self.empty = note("Nothing to confirm here yet: complete the patient and prescription.")
        self.body.addWidget(self.empty)
        self.finish()
        self.boxes: dict[str, QCheckBox] = {}
        self.scripts: dict[str, QLabel] = {}
        self.ids: list[str] = []
        self.state: dict[str, bool] = {}

    def first_input(self) -> QWidget | None:
        return self.boxes[self.ids[0]] if self.ids else None

    def _load(self, case: CaseDraft, typed: dict[str, str]) -> None:
        self.state = dict(case.checklist)
        for item_id, box in self.boxes.items():
            box.setChecked(self.state.get(item_id, False))

    def collect(self, case: CaseDraft, result: Collected) -> None:
        for item_id, box in self.boxes.items():
            if box.isChecked():
                case.checklist[item_id] = True
            else:
                case.checklist.pop(item_id, None)

    def update_assessment(self, case: CaseDraft, assessment: Assessment | None) -> None:
        entries = [] if assessment is None else assessment.checklist
        entries = [e for e in entries if is_storage_item(self.kb, e.id) == self.storage]
        ids = [e.id for e in entries]
        if ids != self.ids:
            self._rebuild(entries, case)
        for e in entries:
            box = self.boxes[e.id]
            text = f"{e.title}" + ("" if e.required else " (optional)")
            if box.text() != text:
                box.setText(text)
        self.empty.setVisible(not ids)

    def _rebuild(self, entries: list[ChecklistEntry], case: CaseDraft) -> None:
        while self.items_box.count():
            taken = self.items_box.takeAt(0)
            widget = taken.widget() if taken is not None else None
            if widget is not None:
                widget.deleteLater()
        self.boxes.clear()
        self.scripts.clear()
        self._loading = True
        for e in entries:
            box = QCheckBox(e.title)
            bold(box)
            box.setAccessibleName(e.title)
            box.setAccessibleDescription(e.script)
            box.setChecked(bool(case.checklist.get(e.id)))
            box.toggled.connect(self._emit)
            script = note(f"“{e.script}”" if e.script else "")
            script.setContentsMargins(24, 0, 0, 8)
            self.items_box.addWidget(box)
            self.items_box.addWidget(script)
            self.boxes[e.id] = box
            self.scripts[e.id] = script
        self._loading = False
        self.ids = [e.id for e in entries]


class CounsellingPage(ChecklistPage):
    title = "5  Counselling points"
    short = "Counselling"
    storage = False


class StoragePage(ChecklistPage):
    title = "6  Storage and disposal"
    short = "Storage"
    storage = True


OUTCOMES: list[tuple[OutcomeStatus, str]] = [
    ("handed-over", "&Handed over after counselling"),
    ("not-handed-over", "Not &handed over (give the reason)"),
    ("declined", "Patient &declined counselling (give the reason)"),
]


class ReviewPage(StepPage):
    title = "7  Review and sign"
    short = "Sign"
    preview_requested = Signal()
    sign_requested = Signal()
    amendment_reason_changed = Signal(str)
    """The reason for an amendment was edited (it is the session's, not the case's)."""
    discard_requested = Signal()
    """The amendment is cancelled: the record stays as it is."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary = note()
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setAccessibleName("Summary")
        self.body.addWidget(self.summary)

        box = QGroupBox("Outcome")
        ol = QVBoxLayout(box)
        self.outcome_group = QButtonGroup(self)
        self.outcome_buttons: dict[OutcomeStatus, QRadioButton] = {}
        labels = [
            "Handed &over after counselling",
            "&Not handed over",
            "Patient decl&ined counselling",
        ]
        for (status, _), label in zip(OUTCOMES, labels, strict=True):
            button = QRadioButton(label)
            button.setAccessibleName(label.replace("&", ""))
            self.outcome_group.addButton(button)
            self.outcome_buttons[status] = button
            ol.addWidget(button)
            button.toggled.connect(self._emit)
        form = QFormLayout()
        self.reason = QLineEdit()
        self.reason.setMaxLength(2000)
        add_row(
            form,
            "&Reason:",
            self.reason,
            "Why the medicine was not handed over, or why counselling was declined",
        )
        ol.addLayout(form)
        self.body.addWidget(box)

        box = QGroupBox("Handout")
        form = QFormLayout(box)
        self.language = QComboBox()
        for code, name in LANGUAGES.items():
            self.language.addItem(f"{name} ({code})", code)
        self.large_print = QCheckBox("&Large print")
        self.large_print.setAccessibleName("Large print")
        add_row(form, "Lan&guage:", self.language, "Language of the patient's handout")
        form.addRow(self.large_print)
        self.preview = QPushButton("&Preview handout… (Ctrl+P)")
        self.preview.setAutoDefault(False)
        self.preview.clicked.connect(self.preview_requested)
        form.addRow(self.preview)
        self.handout_note = note("No handout previewed yet.")
        form.addRow(self.handout_note)
        self.body.addWidget(box)

        box = QGroupBox("Before signing")
        ml = QVBoxLayout(box)
        self.missing = note()
        self.missing.setAccessibleName("Missing before signing")
        ml.addWidget(self.missing)
        self.body.addWidget(box)

        box = QGroupBox("Sign (a pharmacist signs)")
        self.sign_box = box
        form = QFormLayout(box)
        self.sign_form = form
        self.amend_reason = QLineEdit()
        self.amend_reason.setMaxLength(2000)
        self.amend_reason.setPlaceholderText("what was wrong in the record (required)")
        add_row(
            form,
            "Reason for the &amendment:",
            self.amend_reason,
            "Why the signed record is corrected; stored with the amendment",
        )
        self.amend_reason.textEdited.connect(self.amendment_reason_changed)
        self.user = QLineEdit()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        add_row(form, "&User:", self.user, "The pharmacist's user name")
        add_row(form, "Pass&word:", self.password, "Your password, asked again to sign")
        self.sign = QPushButton("Sign re&cord (Enter in the password)")
        self.sign.setAutoDefault(False)
        self.sign.clicked.connect(self.sign_requested)
        self.password.returnPressed.connect(self.sign_requested)
        form.addRow(self.sign)
        self.discard = QPushButton("&Discard the amendment (the record stays as it is)")
        self.discard.setAutoDefault(False)
        self.discard.clicked.connect(self.discard_requested)
        form.addRow(self.discard)
        self.sign_message = note()
        self.sign_message.setAccessibleName("Signing message")
        form.addRow(self.sign_message)
        self.body.addWidget(box)
        self.finish()
        self.watch(self.reason, self.language, self.large_print)
        self.show_amending(None)

    def show_amending(self, record_id: int | None, reason: str = "") -> None:
        """Signing a new record, or (``record_id``) an amendment of it with its reason."""
        amending = record_id is not None
        self.sign_form.setRowVisible(self.amend_reason, amending)
        self.discard.setVisible(amending)
        self.amend_reason.setText(reason)
        if amending:
            self.sign_box.setTitle(f"Sign the amendment of record {record_id} (a pharmacist signs)")
            self.sign.setText("Sign the amendment to the re&cord (Enter in the password)")
        else:
            self.sign_box.setTitle("Sign (a pharmacist signs)")
            self.sign.setText("Sign re&cord (Enter in the password)")

    def set_kb(self, kb: KnowledgeBase | None) -> None:
        super().set_kb(kb)
        fill_languages(self.language, services.handout_languages())

    def first_input(self) -> QWidget:
        checked = self.outcome_group.checkedButton()
        return checked or self.outcome_buttons["handed-over"]

    def _load(self, case: CaseDraft, typed: dict[str, str]) -> None:
        self.outcome_group.setExclusive(False)
        for button in self.outcome_buttons.values():
            button.setChecked(False)
        self.outcome_group.setExclusive(True)
        if case.outcome is not None:
            self.outcome_buttons[case.outcome.status].setChecked(True)
            self.reason.setText(case.outcome.reason)
        else:
            self.reason.setText(typed.get("draft.reason", ""))
        index = self.language.findData(case.patient.handout_language)
        if index < 0:
            code = case.patient.handout_language
            self.language.addItem(f"{code} (no approved text: prints in English)", code)
            index = self.language.count() - 1
        self.language.setCurrentIndex(index)
        self.large_print.setChecked(case.patient.large_print)

    def collect(self, case: CaseDraft, result: Collected) -> None:
        status = next((s for s, b in self.outcome_buttons.items() if b.isChecked()), None)
        if status is None:
            case.outcome = None
            if self.reason.text().strip():
                result.typed["draft.reason"] = self.reason.text()
        else:
            case.outcome = Outcome(status=status, reason=self.reason.text())
        case.patient.handout_language = self.language.currentData() or "en"
        case.patient.large_print = self.large_print.isChecked()

    def update_assessment(self, case: CaseDraft, assessment: Assessment | None) -> None:
        blocks = [] if assessment is None else [
            f for f in assessment.findings if f.severity == "block" and f.stands
        ]  # fmt: skip
        hint = blocks[0].message if blocks else "Pick-up window missed; new test needed"
        self.reason.setPlaceholderText(f"e.g. {hint[:120]}")

    def show_missing(self, missing: list[str]) -> None:
        if missing:
            self.missing.setText(
                "Signing is not possible yet:\n" + "\n".join(f"• {m}" for m in missing)
            )
        else:
            self.missing.setText("✓ Nothing is missing: the session can be signed.")

    def show_summary(self, text: str) -> None:
        self.summary.setText(text)


def fill_languages(combo: QComboBox, languages: list[tuple[str, str]]) -> None:
    """Offer these languages, keeping the current choice (even one without approved text)."""
    current = combo.currentData()
    blocked = combo.blockSignals(True)
    combo.clear()
    for code, name in languages:
        combo.addItem(name, code)
    if current and combo.findData(current) < 0:
        combo.addItem(f"{current} (no approved text: prints in English)", current)
    combo.setCurrentIndex(max(0, combo.findData(current)))
    combo.blockSignals(blocked)


def make_pages() -> list[StepPage]:
    return [
        PatientPage(),
        ProgrammePage(),
        PregnancyPage(),
        MedicinesPage(),
        CounsellingPage(),
        StoragePage(),
        ReviewPage(),
    ]
