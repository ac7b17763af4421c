"""The start screen's list of what is due this week and what is overdue (``pharmacist-tool
due``): next fills, pregnancy tests, the test after a course, and authorizations to reverse.
With counters sharing PostgreSQL, it is the whole store's list."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGroupBox, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout

from pharmacist_tool.errors import UserError
from pharmacist_tool.gui.widgets import note

if TYPE_CHECKING:
    from pharmacist_tool.records.db import Database


log = logging.getLogger(__name__)

WHAT = {
    "next-fill": "next fill",
    "pregnancy-test": "pregnancy test",
    "after-course-pregnancy-test": "pregnancy test after the course",
    "reverse-authorization": "reverse the authorization (not picked up)",
}
WITHIN_DAYS = 7
SIGN_IN_FIRST = "Sign in to see who is due this week."


class DueList(QGroupBox):
    """Enter on an item finds the patient (the returning-patient box shows the course).

    Hidden until someone signs in (``reveal``) and again at sign-out (``conceal``): the list
    names patients, their dates of birth and programme ids."""

    chosen = Signal(int)

    def __init__(self, database: Callable[[], Database]) -> None:
        super().__init__("Due this week, and overdue")
        self._database = database
        layout = QVBoxLayout(self)
        self.items = QListWidget()
        self.items.setAccessibleName("Due this week and overdue")
        self.items.setAccessibleDescription("Enter shows the patient's course")
        self.items.itemActivated.connect(self._chosen)
        self.status = note("")
        self.refresh_button = QPushButton("Refresh")  # no Alt+letter: Alt+F is the File menu
        self.refresh_button.setAutoDefault(True)
        self.refresh_button.clicked.connect(self._refresh_clicked)
        layout.addWidget(self.items, 1)
        layout.addWidget(self.status)
        layout.addWidget(self.refresh_button)
        self.revealed = False
        self.conceal()

    def reveal(self) -> None:
        """Someone signed in: show the list."""
        self.revealed = True
        self.refresh_button.setEnabled(True)
        self.refresh()

    def conceal(self) -> None:
        """Nobody is signed in: no patient on the list."""
        self.revealed = False
        self.items.clear()
        self.refresh_button.setEnabled(False)
        self.status.setText(SIGN_IN_FIRST)

    def refresh(self, today: dt.date | None = None) -> None:
        from pharmacist_tool.records.course import due_items
        from pharmacist_tool.records.form_dates import form_words

        if not self.revealed:
            self.conceal()
            return
        today = today or dt.date.today()
        self.items.clear()
        try:
            found = due_items(self._database(), today, WITHIN_DAYS)
        except UserError as error:
            self.status.setText(f"The due list cannot be read: {error}")
            return
        except Exception as error:  # the start screen must never fail on it
            log.exception("due list")
            self.status.setText(f"The due list cannot be read ({type(error).__name__}).")
            return
        for item in found:
            when = item.due_on.strftime("%a %d %b")
            days = (item.due_on - today).days
            if item.overdue:
                tag = f"OVERDUE {-days} day{'s' * (days != -1)}"
            elif days == 0:
                tag = "today"
            elif days == 1:
                tag = "tomorrow"
            else:
                tag = f"in {days} days"
            pid = f" · {item.programme_id}" if item.programme_id else ""
            form = item.form_valid_until
            form_note = f" · {form_words(form, today)}" if form else ""
            row = QListWidgetItem(
                f"{when} ({tag}) · {WHAT.get(item.what, item.what)} · {item.patient}, "
                f"born {item.date_of_birth.isoformat()}{pid}{form_note}"
            )
            row.setData(Qt.ItemDataRole.UserRole, item.record_id)
            self.items.addItem(row)
        self.status.setText(
            f"{len(found)} item{'s' * (len(found) != 1)} due by "
            f"{(today + dt.timedelta(days=WITHIN_DAYS)):%a %d %b} or overdue."
            if found
            else "Nothing due this week."
        )

    def _refresh_clicked(self) -> None:
        self.refresh()

    def _chosen(self, item: QListWidgetItem) -> None:
        self.chosen.emit(int(item.data(Qt.ItemDataRole.UserRole)))
