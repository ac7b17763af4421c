"""The counselling window: start screen, the seven steps, the findings panel, the lock.

The window holds one session at a time. Every change is collected from the pages into the case,
assessed by the engine and saved as a draft (atomically) before the next event is handled, so a
crash, a power cut or a closed window costs nothing: the start screen offers the session back.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QThreadPool, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from pharmacist_tool.case import Case, Patient, Prescription, age_on, dump_case, parse_case
from pharmacist_tool.errors import UserError
from pharmacist_tool.gui import drafts, services
from pharmacist_tool.gui.findings import FindingsPanel
from pharmacist_tool.gui.pages import (
    NONE_TAKEN_KEY,
    Collected,
    ReviewPage,
    StepPage,
    countdown_text,
    is_storage_item,
    make_pages,
)
from pharmacist_tool.gui.widgets import add_row, bold, frame_style, heading, note

log = logging.getLogger(__name__)

STEP_OF_CATEGORY = {
    "dose": 0,
    "prescription": 1,
    "pregnancy-prevention": 2,
    "interaction": 3,
    "safety": 4,
    "counselling": 4,
}
STEP_OF_CODE_PREFIX = {
    "patient": 0,
    "dose": 0,
    "product": 0,
    "prescription": 1,
    "programme": 1,
    "authorization": 1,
    "supply": 1,
    "refills": 1,
    "pregnancy": 2,
    "contraception": 2,
    "interaction": 3,
    "medicines": 3,
}
STATE_MARK = {
    "done": "✓ done",
    "ready": "✓ ready to sign",
    "todo": "○ to do",
    "attention": "⚠ needs attention",
    "blocked": "✖ blocked",
    "n/a": "– not needed",
}

START, SESSION, LOCKED = 0, 1, 2


def blank_case(rule_set: str, language: str) -> tuple[Case, set[str]]:
    """A new session: nothing entered yet; placeholders stand where the pharmacist must type."""
    today = dt.date.today()
    case = Case(
        rule_set=rule_set,
        counselled_on=today,
        patient=Patient(
            name="",
            date_of_birth=dt.date(1900, 1, 1),
            weight_kg=1.0,
            can_get_pregnant=True,
            handout_language=language,
        ),
        prescription=Prescription(
            medicine="",
            strength_mg=1.0,
            units_per_dose=1,
            doses_per_day=1,
            days_supply=1,
            prescribed_on=today,
        ),
    )
    unset = {
        "patient.date_of_birth",
        "patient.weight_kg",
        "patient.can_get_pregnant",
        "prescription.strength_mg",
        "prescription.units_per_dose",
        "prescription.doses_per_day",
        "prescription.days_supply",
        "prescription.prescribed_on",
    }
    return case, unset


class IdleWatcher(QObject):
    """Restarts the idle timer on every key press or mouse action anywhere in the application."""

    INPUT = {  # noqa: RUF012
        QEvent.Type.KeyPress,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseMove,
        QEvent.Type.Wheel,
        QEvent.Type.TouchBegin,
    }

    def __init__(self, timer: QTimer) -> None:
        super().__init__()
        self.timer = timer

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() in self.INPUT and self.timer.isActive():
            self.timer.start()
        return False


class MainWindow(QMainWindow):
    saved = Signal(str)
    signed = Signal(str)
    assessed = Signal()
    first_painted = Signal()

    def __init__(self, settings: Any, database: str | None = None) -> None:
        super().__init__()
        self.settings = settings
        self.database = database
        self.kb: Any = None
        self.case: Case | None = None
        self.meta: drafts.DraftMeta | None = None
        self.source = ""
        self.unset: set[str] = set()
        self.typed: dict[str, str] = {}
        self.collected: list[Collected] = [Collected() for _ in range(7)]
        self.assessment: Any = None
        self.problems: list[str] = []
        self.handout: Any = None
        self.handout_options: dict[str, Any] = {}
        self.user: Any = None
        self.user_name = ""
        self.last_saved = ""
        self._save_pending = False
        self._assess_pending = False
        self._painted = False
        self.dirty = False
        """Something was changed since the session was opened (a draft is kept from then on)."""
        self.setWindowTitle("Pharmacist tool — counselling")
        self.resize(1200, 780)

        self.stack = QStackedWidget()
        self.setCentralWidget(self.stack)
        self.start = self._build_start()
        self.session = self._build_session()
        self.lock_page = self._build_lock()
        for page in (self.start, self.session, self.lock_page):
            self.stack.addWidget(page)
        self._build_actions()
        self._refresh_start()

        self.clock = QTimer(self)
        self.clock.setInterval(30_000)
        self.clock.timeout.connect(self._tick)
        self.clock.start()
        self.idle = QTimer(self)
        self.idle.setSingleShot(True)
        self.idle.timeout.connect(self.lock)
        self.apply_settings(settings)
        self.idle_watcher = IdleWatcher(self.idle)  # installed after the first paint

    # -- building -----------------------------------------------------------------------------

    def _build_start(self) -> QWidget:
        page = QWidget()
        outer = QVBoxLayout(page)
        outer.setContentsMargins(32, 24, 32, 24)
        outer.addWidget(heading("Counselling desk"))
        self.start_note = note("")
        outer.addWidget(self.start_note)
        # First run: the handout needs the pharmacy's name and phone; ask until they are given.
        self.pharmacy_button = QPushButton("Give the pharmacy's name and p&hone for the handout…")
        self.pharmacy_button.clicked.connect(self.ask_pharmacy_details)
        outer.addWidget(self.pharmacy_button)

        row = QHBoxLayout()
        actions = QGroupBox("Start")
        al = QVBoxLayout(actions)
        self.new_button = QPushButton("&New session (Ctrl+N)")
        self.open_button = QPushButton("&Open case file… (Ctrl+O)")
        self.records_button = QPushButton("&Records (Ctrl+R)")
        self.settings_button = QPushButton("Se&ttings (Ctrl+,)")
        for b in (self.new_button, self.open_button, self.records_button, self.settings_button):
            b.setAutoDefault(True)
            al.addWidget(b)
        al.addStretch(1)
        row.addWidget(actions, 1)

        resume = QGroupBox("Unfinished sessions (saved automatically)")
        rl = QVBoxLayout(resume)
        self.drafts_list = QListWidget()
        self.drafts_list.setAccessibleName("Unfinished sessions")
        self.drafts_list.setAccessibleDescription("Enter resumes the selected session")
        self.drafts_list.itemActivated.connect(lambda _item: self.resume_selected())
        rl.addWidget(self.drafts_list, 1)
        buttons = QHBoxLayout()
        self.resume_button = QPushButton("R&esume selected")
        self.discard_button = QPushButton("&Discard selected…")
        buttons.addWidget(self.resume_button)
        buttons.addWidget(self.discard_button)
        buttons.addStretch(1)
        rl.addLayout(buttons)
        row.addWidget(resume, 2)
        outer.addLayout(row, 1)

        counter = QGroupBox("At the counter")
        form = QFormLayout(counter)
        self.login_user = QLineEdit()
        self.login_password = QLineEdit()
        self.login_password.setEchoMode(QLineEdit.EchoMode.Password)
        add_row(form, "&User:", self.login_user, "Your user name")
        add_row(form, "&Password:", self.login_password, "Your password")
        self.login_button = QPushButton("Sign &in")
        self.login_status = note(
            "Nobody is signed in. A technician may prepare; a pharmacist signs."
        )
        self.login_status.setAccessibleName("Who is at the counter")
        form.addRow(self.login_button)
        form.addRow(self.login_status)
        outer.addWidget(counter)

        self.new_button.clicked.connect(self.new_session)
        self.open_button.clicked.connect(self.open_case_dialog)
        self.records_button.clicked.connect(self.open_records)
        self.settings_button.clicked.connect(self.open_settings)
        self.resume_button.clicked.connect(self.resume_selected)
        self.discard_button.clicked.connect(self.discard_selected)
        self.login_button.clicked.connect(self.sign_in)
        self.login_password.returnPressed.connect(self.sign_in)
        self.login_user.returnPressed.connect(self.login_password.setFocus)
        return page

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
        bl.addLayout(left, 1)
        self.banner_deadline = QLabel()
        bold(self.banner_deadline)
        self.banner_deadline.setAlignment(
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        )
        self.banner_deadline.setAccessibleName("Pick-up deadline")
        bl.addWidget(self.banner_deadline)
        outer.addWidget(banner)

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
        return page

    def _build_lock(self) -> QWidget:
        page = QWidget()
        outer = QVBoxLayout(page)
        outer.addStretch(1)
        outer.addWidget(heading("Locked"), 0, Qt.AlignmentFlag.AlignHCenter)
        self.lock_note = note("The window locked after a pause. Patient data is hidden.")
        self.lock_note.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        outer.addWidget(self.lock_note)
        box = QWidget()
        form = QFormLayout(box)
        self.unlock_user = QLineEdit()
        self.unlock_password = QLineEdit()
        self.unlock_password.setEchoMode(QLineEdit.EchoMode.Password)
        add_row(form, "&User:", self.unlock_user, "Who unlocks")
        add_row(form, "&Password:", self.unlock_password, "The password of that user")
        self.unlock_button = QPushButton("Un&lock")
        form.addRow(self.unlock_button)
        self.unlock_message = note()
        form.addRow(self.unlock_message)
        outer.addWidget(box, 0, Qt.AlignmentFlag.AlignHCenter)
        outer.addStretch(2)
        self.unlock_button.clicked.connect(self.unlock)
        self.unlock_password.returnPressed.connect(self.unlock)
        return page

    def _build_actions(self) -> None:
        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        session_menu = menu.addMenu("&Session")
        help_menu = menu.addMenu("&Help")

        def action(
            menu_: Any, text: str, shortcut: str | QKeySequence | None, slot: Any
        ) -> QAction:
            act = QAction(text, self)
            if shortcut:
                act.setShortcut(QKeySequence(shortcut))
                act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            act.triggered.connect(slot)
            menu_.addAction(act)
            self.addAction(act)
            return act

        self.act_new = action(file_menu, "&New session", "Ctrl+N", self.new_session)
        self.act_open = action(file_menu, "&Open case file…", "Ctrl+O", self.open_case_dialog)
        self.act_start = action(file_menu, "&Start screen", "Ctrl+Home", self.show_start)
        self.act_records = action(file_menu, "&Records", "Ctrl+R", self.open_records)
        self.act_settings = action(file_menu, "Se&ttings…", "Ctrl+,", self.open_settings)
        self.act_lock = action(file_menu, "&Lock now", "Ctrl+L", self.lock)
        self.act_sign_out = action(file_menu, "Sign o&ut", "Ctrl+Shift+Q", self.sign_out)
        file_menu.addSeparator()
        action(file_menu, "&Quit", "Ctrl+Q", self.close)

        self.act_prev = action(session_menu, "&Back", "Alt+Left", self.previous_step)
        self.act_next = action(session_menu, "&Next", "Alt+Right", self.next_step)
        self.act_steps = []
        for i in range(7):
            self.act_steps.append(
                action(
                    session_menu,
                    f"Step &{i + 1}",
                    f"Ctrl+{i + 1}",
                    lambda _=False, i=i: self.go_step(i),
                )
            )
        self.act_findings = action(session_menu, "Go to &findings", "Ctrl+F", self.focus_findings)
        self.act_preview = action(session_menu, "&Preview handout…", "Ctrl+P", self.preview_handout)
        self.act_sign = action(session_menu, "&Sign…", "Ctrl+S", self.go_sign)
        action(help_menu, "&Keyboard shortcuts", "F1", self.show_shortcuts)
        action(help_menu, "&About", None, self.show_about)
        self.session_actions = [
            self.act_prev, self.act_next, *self.act_steps, self.act_findings,
            self.act_preview, self.act_sign,
        ]  # fmt: skip
        self._enable_session_actions(False)

    @property
    def review(self) -> ReviewPage:
        page = self.pages[6]
        assert isinstance(page, ReviewPage)
        return page

    def _enable_session_actions(self, on: bool) -> None:
        for act in self.session_actions:
            act.setEnabled(on)

    # -- settings, knowledge base ---------------------------------------------------------------

    def apply_settings(self, settings: Any) -> None:
        from pharmacist_tool.settings import handout_details_missing

        self.settings = settings
        self.pharmacy_button.setVisible(bool(handout_details_missing(settings)))
        self.idle.setInterval(max(1, int(settings.idle_lock_minutes)) * 60_000)
        self.idle.start()

    def settings_saved(self, settings: Any) -> None:
        """New settings: the idle lock, and the knowledge base again (the dates each rule-set
        version takes effect here may have changed, and with them the rules in force)."""
        self.apply_settings(settings)
        services.knowledge_base.cache_clear()
        self.kb = None
        if self.case is not None:
            self.ensure_kb()
            self.schedule_assess()

    def ensure_kb(self) -> Any:
        if self.kb is None:
            self.kb = services.knowledge_base()
            for p in self.pages:
                p.set_kb(self.kb)
        return self.kb

    # -- sessions ---------------------------------------------------------------------------------

    def new_session(self) -> None:
        if self.stack.currentIndex() == LOCKED:
            return
        self.save_now()
        case, unset = blank_case(self.settings.default_rule_set, self.settings.handout_language)
        self.open_case(case, unset=unset)
        self.go_step(0)

    def open_case_dialog(self) -> None:
        if self.stack.currentIndex() == LOCKED:
            return
        name, _ = QFileDialog.getOpenFileName(self, "Open a case file", "", "Case files (*.json)")
        if name:
            self.open_case_file(name)

    def open_case_file(self, path: str | Path) -> bool:
        from pharmacist_tool.case import load_case

        try:
            case = load_case(path)
        except UserError as error:
            self.show_error("The case file cannot be opened", str(error))
            return False
        self.save_now()
        self.open_case(case, source=str(path))
        return True

    def open_case(
        self,
        case: Case,
        *,
        unset: set[str] | None = None,
        typed: dict[str, str] | None = None,
        meta: drafts.DraftMeta | None = None,
        source: str = "",
    ) -> None:
        self.case = case
        self.meta = meta
        self.source = source or (meta.source if meta else "")
        self.unset = set(unset or ())
        self.typed = dict(typed or {})
        step = meta.step if meta else 0  # before anything moves the step list
        self.dirty = False
        self.handout = None
        self.handout_options = {}
        self.assessment = None
        for p in self.pages:
            p.load(case, self.unset, self.typed)
        if self.user_name and not self.review.user.text():
            self.review.user.setText(self.user_name)
        self.review.password.clear()
        self.review.sign_message.setText("")
        self.review.handout_note.setText("No handout previewed yet.")
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

    def resume_selected(self) -> None:
        item = self.drafts_list.currentItem()
        if item is None:
            return
        self.resume(item.data(Qt.ItemDataRole.UserRole))

    def resume(self, draft_id: str) -> bool:
        try:
            draft = drafts.load_draft(draft_id)
        except Exception as error:  # a damaged draft must not stop the counter
            log.exception("cannot load draft %s", draft_id)
            self.show_error("This unfinished session cannot be opened", str(error))
            return False
        self.save_now()
        self.open_case(
            draft.case,
            unset=set(draft.meta.unset),
            typed=draft.meta.typed,
            meta=draft.meta,
        )
        return True

    def discard_selected(self) -> None:
        item = self.drafts_list.currentItem()
        if item is None:
            return
        answer = QMessageBox.question(
            self,
            "Discard the unfinished session?",
            f"Discard {item.text()}? What was typed in it is deleted; nothing is signed.",
            QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        if answer == QMessageBox.StandardButton.Discard:
            drafts.remove_draft(item.data(Qt.ItemDataRole.UserRole))
            self._refresh_start()

    def show_start(self) -> None:
        if self.stack.currentIndex() == LOCKED:
            return
        self.save_now()
        self.close_session()

    def close_session(self) -> None:
        self.case = None
        self.meta = None
        self.assessment = None
        self.handout = None
        self._enable_session_actions(False)
        self._refresh_start()
        self.stack.setCurrentIndex(START)
        self.setWindowTitle("Pharmacist tool — counselling")
        self.new_button.setFocus()

    def _refresh_start(self) -> None:
        self.drafts_list.clear()
        found = drafts.list_drafts()
        for meta in found:
            d = drafts.describe(meta)
            step = self.pages[min(max(meta.step, 0), 6)].short
            item = QListWidgetItem(
                f"{d['patient']} · {d['medicine']} · step {meta.step + 1} {step} "
                f"· saved {d['updated']}"
            )
            item.setData(Qt.ItemDataRole.UserRole, meta.id)
            self.drafts_list.addItem(item)
        if found:
            self.drafts_list.setCurrentRow(0)
            self.start_note.setText(
                f"{len(found)} unfinished session{'s' * (len(found) != 1)} kept from before: "
                "select one and press Enter to carry on where you left off."
            )
        else:
            self.start_note.setText("Start a new session, open a case file, or look up records.")
        self.resume_button.setEnabled(bool(found))
        self.discard_button.setEnabled(bool(found))

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
            self.schedule_save()

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

    def step_of_finding(self, finding: Any) -> int:
        """The step where the pharmacist can act on a finding."""
        code = finding.code
        if "alcohol" in code:
            return 3
        prefix = code.split(".", 1)[0]
        if prefix in STEP_OF_CODE_PREFIX:
            return STEP_OF_CODE_PREFIX[prefix]
        return STEP_OF_CATEGORY.get(finding.category, 4)

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
        self.dirty = True
        self._collect()
        self.schedule_assess()
        self.schedule_save()

    def on_resolution(self, code: str, text: str) -> None:
        if self.case is None:
            return
        self.dirty = True
        if text.strip():
            self.case.resolutions[code] = text
        else:
            self.case.resolutions.pop(code, None)
        self.schedule_assess()
        self.schedule_save()

    def _collect(self) -> None:
        assert self.case is not None
        self.collected = []
        for p in self.pages:
            result = Collected()
            p.collect(self.case, result)
            self.collected.append(result)
        self.unset = set().union(*(c.unset for c in self.collected))
        self.typed = {k: v for c in self.collected for k, v in c.typed.items()}

    def schedule_assess(self) -> None:
        if self._assess_pending:
            return
        self._assess_pending = True
        if self._painted:
            QTimer.singleShot(0, self._assess)
        # else: the first paint runs it (the knowledge base loads after the window shows)

    def paintEvent(self, event: Any) -> None:  # noqa: N802
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            QTimer.singleShot(0, self._after_first_paint)
            self.first_painted.emit()

    def _after_first_paint(self) -> None:
        """Work that need not delay the window: the idle watch, the knowledge base, the checks."""
        QApplication.instance().installEventFilter(self.idle_watcher)
        if self._assess_pending:
            self._assess()

    def schedule_save(self) -> None:
        if not self._save_pending:
            self._save_pending = True
            QTimer.singleShot(0, self.save_now)

    def _assess(self) -> None:
        self._assess_pending = False
        if self.case is None:
            return
        problems = [p for c in self.collected for p in c.problems]
        assessment = None
        if not problems:
            try:
                checked = parse_case(dump_case(self.case), source="the session")
                assessment = services.assess(checked, self.ensure_kb())
            except UserError as error:
                problems = error.details or [error.message]
            except Exception as error:  # the engine must never take the window down
                log.exception("assessment failed")
                problems = [f"The checks could not run ({type(error).__name__}); see the log."]
        self.assessment = assessment
        self.problems = problems
        labels = {}
        if assessment is not None:
            for f in assessment.findings:
                i = self.step_of_finding(f)
                labels[f.code] = f"step {i + 1} {self.pages[i].short}"
            self.findings.show_assessment(assessment, labels)
        else:
            self.findings.show_problems(problems)
        for p in self.pages:
            p.update_assessment(self.case, assessment)
        self._update_states()
        self._update_banner()
        self.review.show_missing(self.missing())
        self.review.show_summary(self._summary())
        self.assessed.emit()

    def session_tab_chain(self) -> list[QWidget]:
        """Tab order on a step: the step list, the page's fields, the findings, the buttons."""

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
        buttons = [self.back_button, self.next_button, self.preview_button, self.sign_button]
        chain = [self.steps, *fields, *self.findings.focus_widgets(), *buttons]
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
        if self.case is None:
            return ["No session is open"]
        pending = [p for c in self.collected for p in c.pending]
        if self.assessment is None:
            return [*self.problems, *pending]
        missing = self.in_words(services.missing_for_signing(self.case, self.assessment))
        unasked = [q for c in self.collected for q in c.unasked]
        outcome = self.case.outcome
        if outcome is None:
            # Also what handing over would still need, so nothing comes as a surprise later.
            import msgspec

            from pharmacist_tool.case import Outcome

            probe = msgspec.structs.replace(self.case, outcome=Outcome(status="handed-over"))
            still = self.in_words(services.missing_for_signing(probe, self.assessment))
            missing += [f"To hand over: {m}" for m in [*unasked, *still]]
        elif outcome.status == "handed-over":
            missing = [*unasked, *missing]
        return [*missing, *pending]

    def in_words(self, missing: list[str]) -> list[str]:
        """The engine's list of what stands before signing, as the pharmacist reads it: each
        finding by its message and the step to act on it, each counselling point by its title
        (the engine's lines name codes, for the log and the command line)."""
        a = self.assessment
        if a is None:
            return missing
        words: dict[str, str] = {}
        for f in a.findings:
            step = self.step_of_finding(f)
            where = f"step {step + 1} {self.pages[step].short}"
            kind = {
                "block": "Stops handing over",
                "warn": "Write how it was resolved",
            }.get(f.severity, "Check")
            words[f"{f.severity.upper()} {f.code}: {f.message}"] = f"{kind} ({where}): {f.message}"
        for item in a.checklist:
            words[f"Counselling point not confirmed: {item.title} ({item.id})"] = (
                f"Counselling point not confirmed: {item.title}"
            )
        return [words.get(m, m) for m in missing]

    def save_now(self) -> None:
        """Save the session in progress as a draft (atomically). Safe to call at any time."""
        self._save_pending = False
        if self.case is None or not (self.dirty or self.meta is not None):
            return
        if self.meta is None:
            now = dt.datetime.now().replace(microsecond=0)
            self.meta = drafts.DraftMeta(
                id=drafts.new_id(), created=now, updated=now, source=self.source
            )
        self.meta.step = max(0, self.current_step())
        self.meta.unset = sorted(self.unset)
        self.meta.typed = dict(self.typed)
        self.meta.user = self.user_name
        try:
            when = drafts.save_draft(self.meta, self.case)
        except OSError as error:
            log.exception("autosave failed")
            self.saved_label.setText(f"⚠ NOT SAVED: {error.strerror or error}")
            return
        self.last_saved = when.strftime("%H:%M:%S")
        self.saved_label.setText(f"✓ Saved {self.last_saved}")
        self.saved.emit(self.meta.id)

    # -- display ----------------------------------------------------------------------------------

    def _step_state(self, index: int) -> str:
        case = self.case
        assert case is not None
        collected = self.collected[index] if index < len(self.collected) else Collected()
        if (
            index == 2
            and not case.patient.can_get_pregnant
            and "patient.can_get_pregnant" not in self.unset
        ):
            return "n/a"
        state = "done"
        if collected.unasked:
            state = "todo"
        if collected.problems or collected.pending:
            state = "attention"
        a = self.assessment
        if a is None:
            return "todo" if index >= 4 or state == "done" else state
        for f in a.findings:
            if self.step_of_finding(f) != index or not f.stands:
                continue
            if f.severity == "block":
                return "blocked"
            state = "attention"
        if index in (4, 5):
            items = [e for e in a.checklist if is_storage_item(e.id) == (index == 5)]
            if any(e.required and not e.done for e in items):
                state = "attention" if any(e.done for e in items) else "todo"
        if index == 6:
            state = "ready" if not self.missing() else "todo"
        return state

    def _update_states(self) -> None:
        for i, p in enumerate(self.pages):
            state = self._step_state(i)
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
        if "patient.date_of_birth" not in self.unset:
            with contextlib.suppress(ValueError):
                parts.append(f"{age_on(case)} y")
        if "patient.weight_kg" not in self.unset:
            parts.append(f"{p.weight_kg:g} kg")
        if "patient.can_get_pregnant" in self.unset:
            parts.append("pregnancy category not entered")
        else:
            parts.append("can get pregnant" if p.can_get_pregnant else "cannot get pregnant")
        parts.append(case.rule_set)
        self.banner_patient.setText(" · ".join(parts))
        rxp = [rx.medicine or "(medicine not entered)"]
        if "prescription.strength_mg" not in self.unset:
            rxp.append(f"{rx.strength_mg:g} mg")
        if not {"prescription.units_per_dose", "prescription.doses_per_day"} & self.unset:
            rxp.append(f"{rx.units_per_dose} × {rx.doses_per_day} a day")
        if "prescription.days_supply" not in self.unset:
            rxp.append(f"{rx.days_supply} days")
        if rx.authorization:
            rxp.append(f"Auth {rx.authorization}")
        self.banner_rx.setText(" · ".join(rxp))
        self._tick()
        self.setWindowTitle(f"{p.name or 'New session'} — Pharmacist tool")

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
            f"Counselled on {case.counselled_on:%d %b %Y}.",
        ]
        if case.patient.can_get_pregnant:
            tests = ", ".join(f"{t.date:%d %b} {t.result}" for t in case.pregnancy_tests) or "none"
            lines.append(
                f"Pregnancy tests: {tests}. "
                f"Birth control: {', '.join(case.contraception) or 'none'}."
            )
        asked_none = self.typed.get(NONE_TAKEN_KEY) == "asked"
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
        if self.assessment is None:
            self.show_error("The handout cannot be made yet", "\n".join(self.problems))
            return
        from pharmacist_tool.gui.handout_view import HandoutDialog

        case = copy.deepcopy(self.case)
        dialog = HandoutDialog(self, case, self.assessment, self.ensure_kb(), self.settings,
                               pharmacist=self.handout_pharmacist())  # fmt: skip
        dialog.rendered.connect(self._handout_rendered)
        dialog.open()
        self.handout_dialog = dialog

    def _handout_rendered(self, handout: Any, options: dict[str, Any]) -> None:
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
        if self.case is None or self.stack.currentIndex() != SESSION:
            return
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

        try:
            record_id = signing.sign_session(
                self, self.case, self.assessment, user, password, self.database
            )
        except UserError as error:
            review.password.clear()
            review.sign_message.setText(f"✖ Not signed: {error}")
            review.password.setFocus()
            return
        except Exception as error:
            log.exception("signing failed")
            review.password.clear()
            review.sign_message.setText(
                f"✖ Not signed: an unexpected error ({type(error).__name__}); the session is kept."
            )
            return
        review.password.clear()
        if self.meta is not None:
            drafts.remove_draft(self.meta.id)
        name = self.case.patient.name
        self.meta = None
        self.case = None
        self.close_session()
        self.start_note.setText(
            f"✓ Signed: record {record_id} for {name}. " + self.start_note.text()
        )
        self.signed.emit(str(record_id))

    def open_records(self) -> None:
        if self.stack.currentIndex() == LOCKED:
            return
        from pharmacist_tool.gui.dialogs import open_records_dialog

        open_records_dialog(self, self.database)

    def open_settings(self) -> None:
        if self.stack.currentIndex() == LOCKED:
            return
        from pharmacist_tool.gui.dialogs import SettingsDialog

        dialog = SettingsDialog(self, self.settings, self.ensure_kb())
        dialog.accepted_settings.connect(self.settings_saved)
        dialog.open()
        self.settings_dialog = dialog

    def ask_pharmacy_details(self) -> None:
        from pharmacist_tool.gui.dialogs import PharmacyDialog

        dialog = PharmacyDialog(self, self.settings)
        dialog.accepted_settings.connect(self.settings_saved)
        dialog.open()
        self.pharmacy_dialog = dialog

    def sign_in(self) -> None:
        from pharmacist_tool.gui import signing

        name, password = self.login_user.text().strip(), self.login_password.text()
        self.login_password.clear()
        try:
            user = signing.authenticate(name, password, self.database)
        except signing.NoUsersError:
            self.ask_first_user()
            return
        except UserError as error:
            self.login_status.setText(f"✖ Not signed in: {error}")
            return
        except Exception as error:  # the database is unreachable: say so, keep working
            log.exception("sign-in failed")
            self.login_status.setText(
                f"✖ Not signed in: the records database cannot be reached ({type(error).__name__})."
            )
            return
        self.user = user
        self.user_name = user.username
        role = user.role
        self.login_status.setText(f"✓ At the counter: {self.user_display()} ({role})")
        self.counter_label.setText(f"At the counter: {self.user_display()} ({role})")
        self.review.user.setText(self.user_name)
        self.unlock_user.setText(self.user_name)

    def sign_out(self) -> None:
        """The person at the counter leaves: record it, save the session and show the start
        screen, where the session waits among the unfinished ones."""
        if self.user is None or self.stack.currentIndex() == LOCKED:
            return
        from pharmacist_tool.gui import signing

        self.save_now()
        signing.logout(self.user, self.database, "logout")
        name = self.user_display()
        self.user = None
        self.user_name = ""
        self.review.user.clear()
        self.unlock_user.clear()
        self.counter_label.setText("Nobody signed in")
        self.close_session()  # the patient's data leaves the screen; the draft is listed
        self.login_status.setText(f"{name} signed out. Nobody is signed in.")

    def ask_first_user(self) -> None:
        from pharmacist_tool.gui.dialogs import FirstUserDialog

        dialog = FirstUserDialog(self, self.database)
        dialog.created.connect(self._first_user_created)
        dialog.open()
        self.first_user_dialog = dialog

    def _first_user_created(self, username: str) -> None:
        self.login_user.setText(username)
        self.login_status.setText(f"✓ User {username} created: sign in with the new password.")
        self.login_password.setFocus()

    # -- idle lock --------------------------------------------------------------------------------

    def lock(self) -> None:
        if self.stack.currentIndex() == LOCKED:
            return
        self.save_now()
        if self.user is not None:
            from pharmacist_tool.gui import signing

            signing.logout(self.user, self.database, "idle-lock")
        self._before_lock = self.stack.currentIndex()
        for dialog in self.findChildren(QWidget):
            if dialog.isWindow() and dialog is not self and dialog.isVisible():
                dialog.hide()
        self.stack.setCurrentIndex(LOCKED)
        self.menuBar().setEnabled(False)
        self.setWindowTitle("Locked — Pharmacist tool")
        self.unlock_user.setText(self.user_name)
        self.unlock_password.clear()
        self.unlock_message.setText("")
        (self.unlock_password if self.user_name else self.unlock_user).setFocus()

    def unlock(self) -> None:
        from pharmacist_tool.gui import signing

        name, password = self.unlock_user.text().strip(), self.unlock_password.text()
        self.unlock_password.clear()
        if self.user_name and name != self.user_name:
            self.unlock_message.setText(
                f"Only {self.user_name} can unlock this session (or close the window; "
                "the session is saved)."
            )
            return
        try:
            user = signing.authenticate(name, password, self.database)
        except signing.NoUsersError:
            user = None  # nobody to check against: the lock only hid the data from view
        except UserError as error:
            self.unlock_message.setText(f"✖ {error}")
            return
        except Exception as error:
            log.exception("unlock failed")
            self.unlock_message.setText(
                f"✖ The records database cannot be reached ({type(error).__name__}). The session "
                "is saved: you may close the window and open it again."
            )
            return
        if user is not None:
            self.user = user
            self.user_name = user.username
        self.menuBar().setEnabled(True)
        self.stack.setCurrentIndex(getattr(self, "_before_lock", START))
        self.idle.start()
        if self.case is not None:
            self._update_banner()
            self.go_step(self.current_step())
        else:
            self.setWindowTitle("Pharmacist tool — counselling")

    # -- messages ---------------------------------------------------------------------------------

    def show_error(self, title: str, text: str) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, self
        )
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.open()
        self.message_box = box

    def show_shortcuts(self) -> None:
        text = "\n".join(
            [
                "Alt+→ / Alt+←   next / previous step",
                "Ctrl+1 … Ctrl+7   jump to a step",
                "Ctrl+F   go to the findings (resolution boxes)",
                "Ctrl+P   preview and print the handout",
                "Ctrl+S   go to signing (asks for the password)",
                "Ctrl+N   new session · Ctrl+O open a case file · Ctrl+Home start screen",
                "Ctrl+R   records · Ctrl+,  settings · Ctrl+L  lock now",
                "Ctrl+Shift+Q   sign out · Ctrl+Q  quit (the session in progress is kept)",
                "Alt+underlined letter   go to that field",
            ]
        )
        box = QMessageBox(QMessageBox.Icon.Information, "Keyboard shortcuts", text,
                          QMessageBox.StandardButton.Ok, self)  # fmt: skip
        box.open()
        self.message_box = box

    def show_about(self) -> None:
        from pharmacist_tool.gui.dialogs import versions_text

        box = QMessageBox(QMessageBox.Icon.Information, "About", versions_text(),
                          QMessageBox.StandardButton.Ok, self)  # fmt: skip
        box.open()
        self.message_box = box

    def closeEvent(self, event: Any) -> None:  # noqa: N802
        self.save_now()
        QThreadPool.globalInstance().waitForDone(10_000)  # a handout still rendering
        QApplication.instance().removeEventFilter(self.idle_watcher)
        super().closeEvent(event)
