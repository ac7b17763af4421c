"""The session screen: the seven steps, the banner, the findings panel, autosave and signing.

Every change is collected from the pages into the case, assessed by the engine and saved as a
draft (atomically) before the next event is handled, so a crash, a power cut or a closed window
costs nothing: the start screen offers the session back. A part of ``MainWindow``.
"""

from __future__ import annotations

import copy
import datetime as dt
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Generic, TypeVar

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from pharmacist_tool.app.rule_dates import rule_version_words
from pharmacist_tool.app.session import Change, CounterSession, StepNotes
from pharmacist_tool.app.steps import Step, step_of
from pharmacist_tool.case import Case
from pharmacist_tool.counselling import drafts
from pharmacist_tool.counselling.case_draft import CaseDraft
from pharmacist_tool.engine.assessment import Assessment, Finding
from pharmacist_tool.errors import UserError
from pharmacist_tool.gui.authority import Right
from pharmacist_tool.gui.findings import FindingsPanel
from pharmacist_tool.gui.pages import (
    Collected,
    ReviewPage,
    StepPage,
    countdown_text,
    make_pages,
)
from pharmacist_tool.gui.widgets import bold, frame_style
from pharmacist_tool.gui.window_base import WindowBase
from pharmacist_tool.handout import RenderOptions

if TYPE_CHECKING:
    from pharmacist_tool.app.records import AmendmentDetail
    from pharmacist_tool.records.writing import HandoutLike as HandoutPreview

log = logging.getLogger(__name__)
T = TypeVar("T")


STATE_MARK = {
    "done": "✓ done",
    "ready": "✓ ready to sign",
    "todo": "○ to do",
    "attention": "⚠ needs attention",
    "blocked": "✖ blocked",
    "n/a": "– not needed",
}

START, SESSION, LOCKED = 0, 1, 2
# Ending in the application's display name, so that Qt does not add it a second time.
START_TITLE = "Counselling desk — Pharmacist tool"
SESSION_TITLE = "Counselling session — Pharmacist tool"


PAUSE_MS = 2000
"""After this long without a change, the draft is written again with ``fsync``."""


def _age(born: dt.date, on: dt.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


class _OfSession(Generic[T]):
    """The window's ``case``, ``meta``, ``assessment``…: the attributes of the Qt-free session
    on the screen (``window.current``), read and written through."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, window: SessionScreen, owner: type | None = None) -> T:
        value: T = getattr(window.current, self.name)
        return value

    def __set__(self, window: SessionScreen, value: T) -> None:
        setattr(window.current, self.name, value)


class SessionScreen(WindowBase):
    """The session screen's widgets and actions (mixed into ``MainWindow``)."""

    current: CounterSession
    case: _OfSession[CaseDraft | None] = _OfSession()
    meta: _OfSession[drafts.DraftMeta | None] = _OfSession()
    source: _OfSession[str] = _OfSession()
    checked: _OfSession[Case | None] = _OfSession()
    typed: _OfSession[dict[str, str]] = _OfSession()
    assessment: _OfSession[Assessment | None] = _OfSession()
    problems: _OfSession[list[str]] = _OfSession()
    handout: _OfSession[HandoutPreview | None] = _OfSession()
    handout_options: _OfSession[RenderOptions] = _OfSession()
    dirty: _OfSession[bool] = _OfSession()

    def _build_session(self) -> QWidget:
        page = QWidget()
        outer = QVBoxLayout(page)
        outer.setContentsMargins(6, 6, 6, 6)

        banner = QFrame()
        banner.setFrameShape(QFrame.Shape.StyledPanel)
        frame_style(banner)
        bl = QHBoxLayout(banner)
        left = QVBoxLayout()
        self.banner_patient = QLabel()
        bold(self.banner_patient)
        self.banner_patient.setAccessibleName("Patient")
        self.banner_rx = QLabel()
        self.banner_rx.setAccessibleName("Prescription")
        left.addWidget(self.banner_patient)
        left.addWidget(self.banner_rx)
        self.banner_rules = QLabel()
        self.banner_rules.setAccessibleName("Rule version in force")
        left.addWidget(self.banner_rules)
        bl.addLayout(left, 1)
        self.banner_deadline = QLabel()
        bold(self.banner_deadline)
        self.banner_deadline.setAlignment(
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        )
        self.banner_deadline.setAccessibleName("Pick-up deadline")
        bl.addWidget(self.banner_deadline)
        outer.addWidget(banner)
        self.amend_note = QLabel()
        self.amend_note.setWordWrap(True)
        self.amend_note.setAccessibleName("Amendment")
        frame_style(self.amend_note)
        self.amend_note.setVisible(False)
        outer.addWidget(self.amend_note)
        from pharmacist_tool.gui.course_panel import CarriedFacts  # the course across visits

        self.carried = CarriedFacts()
        self.carried.confirm.connect(self.on_confirm)
        self.carried.risk_change_explained.connect(self.on_risk_change_explained)
        outer.addWidget(self.carried)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        self.steps = QListWidget()
        self.steps.setAccessibleName("Steps")
        self.steps.setAccessibleDescription("Ctrl+1 to Ctrl+7 jump to a step")
        self.pages: list[StepPage] = make_pages()
        self.pages_stack = QStackedWidget()
        for i, p in enumerate(self.pages):
            self.steps.addItem(QListWidgetItem(f"{i + 1}  {p.short}"))
            self.pages_stack.addWidget(p)
            p.changed.connect(self.on_changed)
        self.steps.currentRowChanged.connect(self._show_step)
        self.findings = FindingsPanel()
        self.findings.resolution_changed.connect(self.on_resolution)
        self.findings.go_to.connect(self.go_to_finding)
        splitter.addWidget(self.steps)
        splitter.addWidget(self.pages_stack)
        splitter.addWidget(self.findings)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 3)
        splitter.setStretchFactor(2, 2)
        splitter.setSizes([190, 600, 380])
        splitter.setChildrenCollapsible(False)
        outer.addWidget(splitter, 1)

        bar = QHBoxLayout()
        self.saved_label = QLabel("Not saved yet")
        self.saved_label.setAccessibleName("Saved")
        bar.addWidget(self.saved_label)
        self.counter_label = QLabel("Nobody signed in")
        self.counter_label.setAccessibleName("At the counter")
        bar.addSpacing(24)
        bar.addWidget(self.counter_label)
        bar.addStretch(1)
        self.back_button = QPushButton("◀ Back  Alt+←")
        self.next_button = QPushButton("Next ▶  Alt+→")
        self.preview_button = QPushButton("Preview handout  Ctrl+P")
        self.sign_button = QPushButton("Sign…  Ctrl+S")
        for b in (self.back_button, self.next_button, self.preview_button, self.sign_button):
            b.setAutoDefault(False)
            bar.addWidget(b)
        self.back_button.setAccessibleName("Back")
        self.next_button.setAccessibleName("Next")
        self.preview_button.setAccessibleName("Preview handout")
        self.sign_button.setAccessibleName("Sign")
        outer.addLayout(bar)
        self.back_button.clicked.connect(self.previous_step)
        self.next_button.clicked.connect(self.next_step)
        self.preview_button.clicked.connect(self.preview_handout)
        self.sign_button.clicked.connect(self.go_sign)
        review = self.review
        review.preview_requested.connect(self.preview_handout)
        review.sign_requested.connect(self.sign)
        review.amendment_reason_changed.connect(self.on_amendment_reason)
        review.discard_requested.connect(self.cancel_amendment)
        return page

    @property
    def review(self) -> ReviewPage:
        page = self.pages[6]
        assert isinstance(page, ReviewPage)
        return page

    def _enable_session_actions(self, on: bool) -> None:
        for act in self.session_actions:
            act.setEnabled(on)

    # -- sessions ---------------------------------------------------------------------------------

    def new_session(self) -> None:
        if self.stack.currentIndex() == LOCKED:
            return
        self.save_now()
        blank = CounterSession.blank(self.settings.default_rule_set, self.settings.handout_language)
        assert blank.case is not None
        self.open_case(blank.case)
        self.go_step(0)

    def open_case_dialog(self) -> None:
        if self.stack.currentIndex() == LOCKED:
            return
        name, _ = QFileDialog.getOpenFileName(self, "Open a case file", "", "Case files (*.json)")
        if name:
            self.open_case_file(name)

    def open_case_file(self, path: str | Path) -> bool:
        from pharmacist_tool.counselling.case_draft import load_case_or_draft

        try:
            case = load_case_or_draft(str(path))
        except UserError as error:
            self.show_error("The case file cannot be opened", str(error))
            return False
        self.save_now()
        self.open_case(case, source=str(path))
        return True

    def open_case(
        self,
        case: Case | CaseDraft,
        *,
        typed: dict[str, str] | None = None,
        meta: drafts.DraftMeta | None = None,
        source: str = "",
    ) -> None:
        draft = CaseDraft.of(case) if isinstance(case, Case) else case
        session = CounterSession(
            case=draft,
            meta=meta,
            source=source or (meta.source if meta else ""),
            typed=dict(typed or {}),
        )
        self._open_session(session, step=meta.step if meta else 0)

    def amend_record(self, record_id: int) -> bool:
        """Open a signed record in the steps to correct it: every value as the record holds
        it, shown as such; signed with a reason as an amendment (the record never changes),
        or cancelled. True when it is open."""
        if self.stack.currentIndex() == LOCKED or self.refused("Amend a record", Right.RECORDS):
            return False
        from pharmacist_tool.app.records import RecordsDesk
        from pharmacist_tool.gui import signing

        try:
            desk = RecordsDesk(signing.database(self.database), self.user_name)
            session = desk.amendment_session(record_id)
        except UserError as error:
            self.show_error("The record cannot be amended", str(error))
            return False
        self.save_now()  # a session in progress stays among the drafts
        self._open_session(session, step=0)
        return True

    def _open_session(self, session: CounterSession, *, step: int) -> None:
        """Show ``session`` on the session screen, at ``step``."""
        draft, meta = session.case, session.meta
        assert draft is not None
        self.current = session
        self.current.subscribe(self._session_changed)
        self._show_carried()
        self.dirty = False
        self.handout = None
        self.handout_options = RenderOptions()
        self.assessment = None
        for p in self.pages:
            p.load(draft, self.typed)
        if self.user_name and not self.review.user.text():
            self.review.user.setText(self.user_name)
        self.review.password.clear()
        self.review.sign_message.setText("")
        self.review.handout_note.setText("No handout previewed yet.")
        amending = session.amending
        self.review.show_amending(
            amending.record_id if amending else None, session.amendment_reason
        )
        self.amend_note.setVisible(amending is not None)
        if amending is not None:
            self.saved_label.setText("An amendment is not kept as a draft: sign it or discard it")
        else:
            self.saved_label.setText(
                f"Resumed · saved {meta.updated:%H:%M:%S}" if meta else "Not changed yet"
            )
        self.stack.setCurrentIndex(SESSION)
        self._enable_session_actions(True)
        self._collect()
        self._update_banner()
        self.findings.show_problems([])
        self.findings.verdict.setText("○ Checking…")
        self.schedule_assess()  # after the first paint: the knowledge base loads then
        self.go_step(step)

    def show_start(self) -> None:
        if self.stack.currentIndex() == LOCKED:
            return
        self.save_now()
        self.close_session()

    def close_session(self) -> None:
        self.current = CounterSession()
        self._enable_session_actions(False)
        self._refresh_start()
        self.stack.setCurrentIndex(START)
        self.setWindowTitle(START_TITLE)
        self.new_button.setFocus()

    # -- steps ------------------------------------------------------------------------------------

    def current_step(self) -> int:
        return self.pages_stack.currentIndex()

    def _show_step(self, index: int) -> None:
        if index < 0:
            return
        self.pages_stack.setCurrentIndex(index)
        self.back_button.setEnabled(index > 0)
        self.next_button.setEnabled(index < 6)
        if self.meta is not None and self.meta.step != index:
            self.meta.step = index
            self.schedule_save(durable=True)

    def go_step(self, index: int) -> None:
        if self.case is None or self.stack.currentIndex() != SESSION:
            return
        index = max(0, min(6, index))
        self.steps.setCurrentRow(index)
        self._show_step(index)
        target = self.pages[index].first_input()
        (target or self.steps).setFocus(Qt.FocusReason.ShortcutFocusReason)

    def next_step(self) -> None:
        self.go_step(self.current_step() + 1)

    def previous_step(self) -> None:
        self.go_step(self.current_step() - 1)

    def go_sign(self) -> None:
        self.go_step(6)
        review = self.review
        missing = self.missing()
        if review.outcome_group.checkedButton() is None:
            review.first_input().setFocus()
        elif not missing:
            (review.password if review.user.text() else review.user).setFocus()
        else:
            review.first_input().setFocus()

    def focus_findings(self) -> None:
        widgets = self.findings.focus_widgets()
        if widgets:
            widgets[0].setFocus(Qt.FocusReason.ShortcutFocusReason)

    def step_of_finding(self, finding: Finding) -> int:
        """The step where the pharmacist can act on a finding: as the pack says."""
        return int(step_of(finding, self.kb))

    def go_to_finding(self, code: str) -> None:
        """Show the step a finding concerns, with the patient's own line selected there."""
        for f in getattr(self.assessment, "findings", []):
            if f.code != code:
                continue
            step = self.step_of_finding(f)
            self.go_step(step)
            page = self.pages[step]
            editor = getattr(page, "editor", None) or getattr(page, "methods", None)
            if editor is not None and f.subject in editor.values:
                editor.list.setCurrentRow(editor.values.index(f.subject))
                editor.list.setFocus(Qt.FocusReason.OtherFocusReason)
            return

    # -- changes, assessment, autosave ------------------------------------------------------------

    def on_changed(self) -> None:
        if self.case is None:
            return
        self._collect(announce=True)

    def on_resolution(self, code: str, action: str, note: str) -> None:
        if self.case is None:
            return
        self.current.set_resolution(code, action, note)

    def on_confirm(self, fact: str, still_true: bool) -> None:
        if self.case is not None:
            self.current.confirm(fact, still_true)

    def on_risk_change_explained(self, decided_by: str, reason: str) -> None:
        if self.case is not None:
            self.current.explain_risk_change(decided_by, reason)

    def on_amendment_reason(self, reason: str) -> None:
        if self.case is not None and self.current.amending is not None:
            self.current.set_amendment_reason(reason)

    def cancel_amendment(self) -> None:
        """Leave the amendment: nothing is stored, the record stays as it is."""
        amending = self.current.amending
        if amending is None or self.password_check.running:
            return
        self.close_session()
        self.start_note.setText(
            f"Amendment of record {amending.record_id} discarded: the record is unchanged. "
        )
        self.amendment_cancelled.emit(amending.record_id)

    def _session_changed(self, _what: Change) -> None:
        """Every edit of the session: checked again, saved, redrawn."""
        self.schedule_assess()
        self.schedule_save()

    def _show_carried(self) -> None:
        session = self.current
        said = session.case.risk_category_change if session.case is not None else None
        self.carried.show_facts(session.carried_facts(), session.risk_change(), said)

    def _collect(self, *, announce: bool = False) -> None:
        """The pages write what they show into a copy of the session's case, which the session
        takes as one edit (``announce``: an edit the subscribers hear of)."""
        assert self.case is not None
        edited = self.current.working_copy()
        self.collected = []
        for p in self.pages:
            result = Collected()
            p.collect(edited, result)
            self.collected.append(result)
        self.current.take(
            edited,
            {k: v for c in self.collected for k, v in c.typed.items()},
            [StepNotes(c.problems, c.pending, c.unasked) for c in self.collected],
            announce=announce,
        )

    @property
    def assessment_pending(self) -> bool:
        """An edit is waiting to be assessed: ``assessed`` follows."""
        return self._assess_pending

    def schedule_assess(self) -> None:
        if self._assess_pending:
            return
        self._assess_pending = True
        if self._painted:
            QTimer.singleShot(0, self._assess)
        # else: the first paint runs it (the knowledge base loads after the window shows)

    def schedule_save(self, durable: bool = False) -> None:
        """Save once the current event is handled: without ``fsync`` on a change (durably
        after a pause of ``PAUSE_MS``), with it when ``durable`` (a step change)."""
        if durable:
            QTimer.singleShot(0, lambda: self.save_now(durable=True))
            return
        if not self._save_pending:
            self._save_pending = True
            QTimer.singleShot(0, lambda: self.save_now(durable=False))
        pause = getattr(self, "_pause_timer", None)
        if pause is None:
            pause = self._pause_timer = QTimer(self)
            pause.setSingleShot(True)
            pause.setInterval(PAUSE_MS)
            pause.timeout.connect(self.save_durably_if_needed)
        pause.start()

    def _assess(self) -> None:
        self._assess_pending = False
        if self.case is None:
            return
        self.current.assess(self.ensure_kb())
        assessment, problems = self.assessment, self.problems
        labels = {}
        if assessment is not None:
            for f in assessment.findings:
                i = self.step_of_finding(f)
                labels[f.code] = f"step {i + 1} {self.pages[i].short}"
            self.findings.show_assessment(assessment, labels, dict(self.case.resolutions))
        else:
            self.findings.show_problems(problems)
        for p in self.pages:
            p.update_assessment(self.case, assessment)
        from pharmacist_tool.gui.course_panel import show_assessment

        show_assessment(self.carried.panel, self.checked, assessment, self.kb)
        self._show_carried()
        self._show_amendment()
        self._update_states()
        self._update_banner()
        self.review.show_missing(self.missing())
        self.review.show_summary(self._summary())
        self.assessed.emit()

    def session_tab_chain(self) -> list[QWidget]:
        """Tab order on a step: the step list, the page's fields, the buttons, the findings."""

        def tabbable(w: QWidget) -> bool:
            return (
                w.isVisible()
                and w.isEnabled()
                and bool(w.focusPolicy() & Qt.FocusPolicy.TabFocus)
                and w.focusProxy() is None
            )

        page = self.pages[self.current_step()]
        fields: list[QWidget] = []
        w = page.nextInFocusChain()
        while w is not page and w is not None and len(fields) < 500:
            if page.isAncestorOf(w) and tabbable(w):
                fields.append(w)
            w = w.nextInFocusChain()
        # After the page's last field comes Next (Space moves on, as the pharmacist expects),
        # then the other buttons, and only then the findings panel.
        buttons = [self.next_button, self.back_button, self.preview_button, self.sign_button]
        carried = self.carried.focus_widgets()  # each "still true?" box, on every step
        chain = [self.steps, *carried, *fields, *buttons, *self.findings.focus_widgets()]
        return [w for w in chain if tabbable(w)]

    def focusNextPrevChild(self, forward: bool) -> bool:  # noqa: N802
        if self.stack.currentIndex() != SESSION:
            return super().focusNextPrevChild(forward)
        chain = self.session_tab_chain()
        current = QApplication.focusWidget()
        while current is not None and current not in chain and current is not self:
            current = current.parentWidget()  # e.g. the line edit inside a spin box
        if current not in chain or not chain:
            return super().focusNextPrevChild(forward)
        index = chain.index(current) + (1 if forward else -1)
        chain[index % len(chain)].setFocus(
            Qt.FocusReason.TabFocusReason if forward else Qt.FocusReason.BacktabFocusReason
        )
        return True

    def missing(self) -> list[str]:
        """Everything that stands between this session and its signature, in words."""
        return self.current.missing()

    def save_now(self, durable: bool = True) -> None:
        """Save the session in progress as a draft (atomically). Safe to call at any time.
        Each change saves without ``fsync`` (``durable=False``); a step change, a pause and the
        session leaving the screen save with it."""
        self._save_pending = False
        try:
            when = self.current.autosave(
                step=self.current_step(), user=self.user_name, durable=durable
            )
        except OSError as error:
            log.exception("autosave failed")
            self.saved_label.setText(f"⚠ NOT SAVED: {error.strerror or error}")
            return
        if when is None:
            return
        self.synced = durable
        self.last_saved = when.strftime("%H:%M:%S")
        self.saved_label.setText(f"✓ Saved {self.last_saved}")
        assert self.meta is not None
        self.saved.emit(self.meta.id)

    def save_durably_if_needed(self) -> None:
        """After a pause in typing: the last change, with ``fsync``."""
        if not getattr(self, "synced", True):
            self.save_now(durable=True)

    # -- display ----------------------------------------------------------------------------------

    def _show_amendment(self) -> None:
        """Which record is corrected, and what of it is changed so far."""
        amending = self.current.amending
        if amending is None:
            return
        changes = self.current.changes_from_record()
        said = (
            "Changed so far: " + "; ".join(c.words for c in changes)
            if changes
            else "Nothing changed yet."
        )
        self.amend_note.setText(
            f"Amending record {amending.record_id} ({amending.signed}). Every value shown is "
            "from the record being amended; correct only what was wrong. " + said
        )

    def _update_states(self) -> None:
        for i, p in enumerate(self.pages):
            state = self.current.step_state(Step(i)).value
            item = self.steps.item(i)
            item.setText(f"{i + 1}  {p.short}\n     {STATE_MARK[state]}")
            item.setData(
                Qt.ItemDataRole.AccessibleTextRole,
                f"Step {i + 1} {p.short}: {STATE_MARK[state][2:]}",
            )

    def _update_banner(self) -> None:
        case = self.case
        if case is None:
            return
        p, rx = case.patient, case.prescription
        parts = [p.name or "(name not entered)"]
        if p.date_of_birth is not None and case.counselled_on is not None:
            parts.append(f"{_age(p.date_of_birth, case.counselled_on)} y")
        if p.weight_kg is not None:
            parts.append(f"{p.weight_kg:g} kg")
        if p.can_get_pregnant is None:
            parts.append("pregnancy category not entered")
        else:
            parts.append("can get pregnant" if p.can_get_pregnant else "cannot get pregnant")
        parts.append(case.rule_set)
        self.banner_patient.setText(" · ".join(parts))
        rxp = [rx.medicine or "(medicine not entered)"]
        if rx.strength_mg is not None:
            rxp.append(f"{rx.strength_mg:g} mg")
        if rx.units_per_dose is not None and rx.doses_per_day is not None:
            rxp.append(f"{rx.units_per_dose} × {rx.doses_per_day} a day")
        if rx.days_supply is not None:
            rxp.append(f"{rx.days_supply} days")
        if rx.authorization:
            rxp.append(f"Auth {rx.authorization}")
        self.banner_rx.setText(" · ".join(rxp))
        self.banner_rules.setText(
            rule_version_words(self.kb, self.assessment, self.settings.confirmed_rule_dates)
        )
        self._tick()
        self.setWindowTitle(SESSION_TITLE)  # never the patient's name: the title shows in the
        # task bar and in window lists, often in the patient's view

    def _tick(self) -> None:
        if self.case is None:
            return
        deadline = getattr(self.assessment, "pick_up_by", None)
        if self.assessment is None:
            self.banner_deadline.setText("Pick-up deadline: complete step 1")
        else:
            self.banner_deadline.setText(countdown_text(deadline, dt.datetime.now()))
        programme = self.pages[1]
        if hasattr(programme, "tick"):
            programme.tick()

    def _summary(self) -> str:
        case = self.case
        if case is None:
            return ""
        a = self.assessment
        lines = [
            f"{self.banner_patient.text()}",
            f"{self.banner_rx.text()}",
            "Counselled on "
            + (f"{case.counselled_on:%d %b %Y}." if case.counselled_on else "(not entered)."),
        ]
        if case.patient.can_get_pregnant is not False:
            tests = ", ".join(f"{t.date:%d %b} {t.result}" for t in case.pregnancy_tests) or "none"
            lines.append(
                f"Pregnancy tests: {tests}. "
                f"Birth control: {', '.join(case.contraception) or 'none'}."
            )
        asked_none = bool(case.other_medicines_asked)
        others = ", ".join(case.medicines) or ("none (asked)" if asked_none else "not asked yet")
        lines.append(f"Other medicines: {others}. Alcohol: {case.alcohol or 'not asked yet'}.")
        if a is not None:
            standing = [f for f in a.findings if f.stands]
            lines.append(
                f"Findings: {len(a.findings)} ({len(standing)} open). "
                "Counselling points confirmed: "
                f"{sum(e.done for e in a.checklist)} of {len(a.checklist)}."
            )
        return "\n".join(lines)

    # -- signing, handout, records (imported lazily) ---------------------------------------------

    def preview_handout(self) -> None:
        if self.case is None or self.stack.currentIndex() != SESSION:
            return
        if self._assess_pending:
            self._assess()  # the handout is of the case as it is now
        if self.assessment is None or self.checked is None:
            self.show_error("The handout cannot be made yet", "\n".join(self.problems))
            return
        from pharmacist_tool.gui.handout_view import HandoutDialog

        case = copy.deepcopy(self.checked)
        dialog = HandoutDialog(self, case, self.assessment, self.ensure_kb(), self.settings,
                               pharmacist=self.handout_pharmacist())  # fmt: skip
        dialog.rendered.connect(self._handout_rendered)
        dialog.open()
        self.handout_dialog = dialog

    def _handout_rendered(self, handout: HandoutPreview, options: RenderOptions) -> None:
        self.handout = handout
        self.handout_options = options
        self.review.handout_note.setText(
            f"Handout previewed: {handout.paper}, {handout.language}"
            + (", large print" if handout.large_print else "")
            + f" · SHA-256 {handout.sha256[:12]}…"
        )

    def user_display(self) -> str | None:
        return self.user.printed_name if self.user is not None else None

    def handout_pharmacist(self) -> str | None:
        """The name printed as the counselling pharmacist: only a pharmacist's (else a blank)."""
        if self.user is not None and getattr(self.user, "can_sign", False):
            return str(self.user.printed_name)
        return None

    def sign(self) -> None:
        """Check what is missing; then the password and the signature in the worker (the
        window keeps running, the session is disabled until the result is in)."""
        if self.case is None or self.stack.currentIndex() != SESSION:
            return
        if self.password_check.running:
            return  # Enter pressed again while signing: one signature
        review = self.review
        self._collect()
        self._assess()
        missing = self.missing()
        if missing:
            review.sign_message.setText("✖ Not signed: resolve what is listed above first.")
            self.go_step(6)
            review.first_input().setFocus()
            return
        user, password = review.user.text().strip(), review.password.text()
        if not user or not password:
            review.sign_message.setText("✖ Not signed: enter your user name and password.")
            (review.user if not user else review.password).setFocus()
            return
        from pharmacist_tool.gui import signing

        assert self.checked is not None  # nothing missing: the complete case was assessed
        if self.current.amending is not None:
            self._sign_amendment(user, password)
            return
        session, case = self.current, copy.deepcopy(self.checked)
        kb, settings, database = self.ensure_kb(), self.settings, self.database
        shown, options, prepared_by = (
            self.handout,
            RenderOptions(**self.handout_options),
            self.user_name,
        )

        def work() -> int:  # in the worker: the records call opens its own session there
            return signing.sign_session(
                case, user, password, database, kb=kb, settings=settings, shown=shown,
                handout_options=options, prepared_by=prepared_by,
            )  # fmt: skip

        self.password_check.start(
            work,
            lambda record_id: self._signed(session, record_id),
            self._not_signed,
            busy=(self.session, self.menuBar()),
            status=review.sign_message,
            text="○ Checking the password and signing…",
        )

    def _not_signed(self, error: Exception) -> None:
        if self.stack.currentIndex() == LOCKED:
            self.menuBar().setEnabled(False)  # locked while signing: stays locked
        review = self.review
        review.password.clear()
        if isinstance(error, UserError):
            review.sign_message.setText(f"✖ Not signed: {error}")
            review.password.setFocus()
            return
        log.error("signing failed", exc_info=error)
        review.sign_message.setText(
            f"✖ Not signed: an unexpected error ({type(error).__name__}); the session is kept."
        )

    def _signed(self, session: CounterSession, record_id: int) -> None:
        """The record is stored: its draft goes, and the session leaves the screen (unless the
        window moved on meanwhile: then only the draft goes)."""
        self.review.password.clear()
        if session.meta is not None:
            drafts.remove_draft(session.meta.id)
        name = session.case.patient.name if session.case is not None else ""
        session.meta = None
        note = f"✓ Signed: record {record_id} for {name}. "
        if self.current is session:
            session.case = None
            if self.stack.currentIndex() == LOCKED:
                self.menuBar().setEnabled(False)  # locked while signing: stays locked
                self.current = CounterSession()
                self._before_lock = START  # unlocking shows the start screen
            else:
                self.close_session()
        self.start_note.setText(note + self.start_note.text())
        self.signed.emit(str(record_id))

    def _sign_amendment(self, user: str, password: str) -> None:
        """The amendment through the records desk's one amend action, in the worker."""
        from pharmacist_tool.app.records import RecordsDesk
        from pharmacist_tool.gui import signing

        session, amending = self.current, self.current.amending
        assert self.checked is not None and amending is not None
        case, reason = copy.deepcopy(self.checked), session.amendment_reason
        kb, settings, database = self.ensure_kb(), self.settings, self.database
        shown, options = self.handout, RenderOptions(**self.handout_options)

        def work() -> AmendmentDetail:  # in the worker, as signing is
            desk = RecordsDesk(signing.database(database), user)
            return desk.amend(
                amending.record_id, case, reason=reason, password=password, kb=kb,
                settings=settings, previewed=shown, handout_options=options,
            )  # fmt: skip

        self.password_check.start(
            work,
            lambda amendment: self._amended(session, amendment),
            self._not_signed,
            busy=(self.session, self.menuBar()),
            status=self.review.sign_message,
            text="○ Checking the password and signing the amendment…",
        )

    def _amended(self, session: CounterSession, amendment: AmendmentDetail) -> None:
        """The amendment is stored beside its record: the session leaves the screen."""
        self.review.password.clear()
        note = f"✓ Amendment {amendment.id} added to record {amendment.record_id}. "
        if amendment.notice:
            note += amendment.notice + " "
        if self.current is session:
            session.case = None
            if self.stack.currentIndex() == LOCKED:
                self.menuBar().setEnabled(False)
                self.current = CounterSession()
                self._before_lock = START
            else:
                self.close_session()
        self.start_note.setText(note + self.start_note.text())
        self.amended.emit(amendment.record_id, amendment.id)
