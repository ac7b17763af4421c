"""The counselling window: one session at a time, on three screens — start (``start_screen``),
session (``session_screen``) and lock (``lock_screen``) — with the menus, the settings, the
knowledge base and the messages here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QThreadPool, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QPaintEvent
from PySide6.QtWidgets import (
    QBoxLayout,
    QMenu,
    QMessageBox,
    QStackedWidget,
    QWidget,
)

from pharmacist_tool.app.session import CounterSession
from pharmacist_tool.gui import authority, services
from pharmacist_tool.gui.authority import Right
from pharmacist_tool.gui.lock_screen import IdleWatcher, LockScreen
from pharmacist_tool.gui.pages import (
    Collected,
)
from pharmacist_tool.gui.password_check import PasswordCheck
from pharmacist_tool.gui.session_screen import (
    LOCKED,
    SESSION,
    START,
    START_TITLE,
    SessionScreen,
)
from pharmacist_tool.gui.start_screen import StartScreen
from pharmacist_tool.gui.widgets import SideScroller, application, fit_to_screen

if TYPE_CHECKING:
    from pharmacist_tool.knowledge.model import KnowledgeBase
    from pharmacist_tool.records.users import AuthenticatedUser
    from pharmacist_tool.settings import Settings

log = logging.getLogger(__name__)

__all__ = ["LOCKED", "SESSION", "START", "MainWindow"]


def _scroll_sideways(panel: QWidget) -> None:
    """The panel of facts carried from last visit: its long lines scroll sideways, so the
    session screen fits a 1024-pixel-wide screen with the findings and Sign in view."""
    holder = panel.parentWidget()
    layout = holder.layout() if holder is not None else None
    if not isinstance(layout, QBoxLayout):
        return
    index = layout.indexOf(panel)
    scroller = SideScroller(panel)
    layout.insertWidget(index, scroller)


class MainWindow(StartScreen, SessionScreen, LockScreen):
    def __init__(self, settings: Settings, database: str | None = None) -> None:
        super().__init__()
        self.settings = settings
        self.database = database
        self.kb: KnowledgeBase | None = None
        self.current = CounterSession()
        """The session on the screen (Qt-free); ``case``, ``meta``, ``assessment``… are its."""
        self.collected: list[Collected] = [Collected() for _ in range(7)]
        self.user: AuthenticatedUser | None = None
        self.user_name = ""
        self.last_saved = ""
        self._save_pending = False
        self._assess_pending = False
        self._painted = False
        self.records_dialog = None
        self.password_check = PasswordCheck(self)
        self.setWindowTitle(START_TITLE)
        fit_to_screen(self, 1200, 780)

        self.stack = QStackedWidget()
        self.setCentralWidget(self.stack)
        self.start = self._build_start()
        self.session = self._build_session()
        self.lock_page = self._build_lock()
        for page in (self.start, self.session, self.lock_page):
            self.stack.addWidget(page)
        _scroll_sideways(self.carried)
        self._build_actions()
        self._refresh_start()
        self.conceal_patients()  # nobody is signed in yet

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

    def _build_actions(self) -> None:
        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        session_menu = menu.addMenu("&Session")
        help_menu = menu.addMenu("&Help")

        def action(
            menu_: QMenu,
            text: str,
            shortcut: str | QKeySequence | None,
            slot: Callable[..., object],
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
        # Neither Ctrl+Home nor Ctrl+U: a text box takes them (start of text; on X11, delete
        # the line), so they would work or not depending on where the cursor is.
        self.act_start = action(file_menu, "&Start screen", "Alt+Home", self.show_start)
        self.act_records = action(file_menu, "&Records", "Ctrl+R", self.open_records)
        self.act_settings = action(file_menu, "Se&ttings…", "Ctrl+,", self.open_settings)
        self.act_users = action(file_menu, "&Users…", None, self.open_users)
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

    # -- settings, knowledge base ---------------------------------------------------------------

    def apply_settings(self, settings: Settings) -> None:
        from pharmacist_tool.settings import handout_details_missing

        self.settings = settings
        self.pharmacy_button.setVisible(bool(handout_details_missing(settings)))
        self.idle.setInterval(max(1, int(settings.idle_lock_minutes)) * 60_000)
        self.idle.start()

    def settings_saved(self, settings: Settings) -> None:
        """New settings: the idle lock, and the knowledge base again (the dates each rule-set
        version takes effect here may have changed, and with them the rules in force)."""
        self.apply_settings(settings)
        services.knowledge_base.cache_clear()
        self.kb = None
        if self.case is not None:
            self.ensure_kb()
            self.schedule_assess()

    def ensure_kb(self) -> KnowledgeBase:
        """The pack of the session's medicine (another pack as soon as the product names one)."""
        medicine = self.case.prescription.medicine if self.case is not None else ""
        kb = services.knowledge_base(medicine)
        if kb is not self.kb:
            self.kb = kb
            for p in self.pages:
                p.set_kb(self.kb)
        return self.kb

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            QTimer.singleShot(0, self._after_first_paint)
            self.first_painted.emit()

    def _after_first_paint(self) -> None:
        """Work that need not delay the window: the idle watch, the knowledge base, the checks."""
        application().installEventFilter(self.idle_watcher)
        self.due_list.refresh()  # the course across visits: what is due this week
        if self._assess_pending:
            self._assess()
        QTimer.singleShot(0, self.check_users)

    def refused(self, title: str, right: Right) -> bool:
        """Say why the person at the counter may not do this (True), or nothing (False)."""
        from pharmacist_tool.gui import signing

        try:
            problem = authority.check(signing.database(self.database), self.user_name, right)
        except Exception as error:  # the database cannot say who may: refuse, and say so
            log.exception("checking the user's rights")
            problem = (
                f"The records database cannot be reached ({type(error).__name__}) to check "
                "who may do this."
            )
        if problem is not None:
            self.show_error(title, problem)
        return problem is not None

    def open_records(self) -> None:
        if self.stack.currentIndex() == LOCKED or self.refused("Records", Right.RECORDS):
            return
        from pharmacist_tool.gui.dialogs import open_records_dialog

        open_records_dialog(self, self.database)

    def open_settings(self) -> None:
        if self.stack.currentIndex() == LOCKED or self.refused("Settings", Right.SETTINGS):
            return
        from pharmacist_tool.gui import signing
        from pharmacist_tool.gui.dialogs import SettingsDialog

        dialog = SettingsDialog(
            self,
            self.settings,
            self.ensure_kb(),
            signing.database(self.database),
            self.user or self.user_name,
        )
        dialog.accepted_settings.connect(self.settings_saved)
        dialog.open()
        self.settings_dialog = dialog

    def ask_pharmacy_details(self) -> None:
        if self.refused("The pharmacy on the handout", Right.SETTINGS):
            return
        from pharmacist_tool.gui import signing
        from pharmacist_tool.gui.dialogs import PharmacyDialog

        dialog = PharmacyDialog(
            self, self.settings, signing.database(self.database), self.user or self.user_name
        )
        dialog.accepted_settings.connect(self.settings_saved)
        dialog.open()
        self.pharmacy_dialog = dialog

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
                "Ctrl+N   new session · Ctrl+O open a case file · Alt+Home start screen",
                "Ctrl+R   records · Ctrl+,  settings · Ctrl+L  lock now",
                "Alt+M   users (start screen, administrators) · Alt+F, U  the same from the menu",
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

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self.save_now()
        self.password_check.wait()  # a password check or a signature still being written
        QThreadPool.globalInstance().waitForDone(10_000)  # a handout still rendering
        application().removeEventFilter(self.idle_watcher)
        super().closeEvent(event)
