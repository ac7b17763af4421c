"""What the parts of ``MainWindow`` share: its signals, its state, and the widgets and actions
one part (``start_screen``, ``session_screen``, ``lock_screen``, ``window``) uses of another.

Each part derives from ``WindowBase``, so each is a main window to the type checker on its own.
At run time ``WindowBase`` adds only the signals: the rest is declared for the checker, and
defined by the part named beside it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QMainWindow

if TYPE_CHECKING:
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QDialog, QLabel, QLineEdit, QPushButton, QStackedWidget, QWidget

    from pharmacist_tool.app.session import CounterSession
    from pharmacist_tool.case import Case
    from pharmacist_tool.counselling import drafts
    from pharmacist_tool.counselling.case_draft import CaseDraft
    from pharmacist_tool.gui.authority import Right
    from pharmacist_tool.gui.course_panel import CarriedFacts, ReturningPatient
    from pharmacist_tool.gui.due_list import DueList
    from pharmacist_tool.gui.pages import Collected, ReviewPage, StepPage
    from pharmacist_tool.gui.password_check import PasswordCheck
    from pharmacist_tool.knowledge.model import KnowledgeBase
    from pharmacist_tool.records.users import AuthenticatedUser
    from pharmacist_tool.settings import Settings


class WindowBase(QMainWindow):
    saved = Signal(str)
    """A draft was written (its id)."""
    signed = Signal(str)
    """A record was signed (its id)."""
    assessed = Signal()
    first_painted = Signal()
    amended = Signal(int, int)
    """An amendment was signed: (record id, amendment id)."""
    amendment_cancelled = Signal(int)
    """An amendment was discarded (its record id): nothing was stored."""

    # -- state, set by MainWindow.__init__ ----------------------------------------------------
    settings: Settings
    database: str | None
    kb: KnowledgeBase | None
    current: CounterSession
    collected: list[Collected]
    user: AuthenticatedUser | None
    user_name: str
    last_saved: str
    _save_pending: bool
    _assess_pending: bool
    _painted: bool
    stack: QStackedWidget
    idle: QTimer
    session_actions: list[QAction]
    records_dialog: QDialog | None
    """The records view, once opened."""
    password_check: PasswordCheck
    """One password check at a time, in a worker thread."""

    # -- widgets: the start screen's, the session screen's, the lock screen's ----------------
    start_note: QLabel
    new_button: QPushButton
    returning: ReturningPatient
    due_list: DueList
    session: QWidget
    pages: list[StepPage]
    carried: CarriedFacts
    counter_label: QLabel
    unlock_user: QLineEdit

    if TYPE_CHECKING:
        # -- the session screen's ---------------------------------------------------------------
        @property
        def review(self) -> ReviewPage: ...

        def open_case(
            self,
            case: Case | CaseDraft,
            *,
            typed: dict[str, str] | None = None,
            meta: drafts.DraftMeta | None = None,
            source: str = "",
        ) -> None: ...

        def new_session(self) -> None: ...
        def amend_record(self, record_id: int) -> bool: ...
        def open_case_dialog(self) -> None: ...
        def close_session(self) -> None: ...
        def current_step(self) -> int: ...
        def go_step(self, index: int) -> None: ...
        def save_now(self, durable: bool = True) -> None: ...
        def on_changed(self) -> None: ...
        def _assess(self) -> None: ...
        def _update_banner(self) -> None: ...
        def user_display(self) -> str | None: ...

        # -- the start screen's -------------------------------------------------------------------
        def _refresh_start(self) -> None: ...

        # -- the window's -------------------------------------------------------------------------
        def ensure_kb(self) -> KnowledgeBase: ...
        def show_error(self, title: str, text: str) -> None: ...
        def refused(self, title: str, right: Right) -> bool: ...
        def open_records(self) -> None: ...
        def open_settings(self) -> None: ...
        def ask_pharmacy_details(self) -> None: ...
