"""The monthly report from the records view: the period, the PDF (and optionally the CSV), and
the password of the signed-in pharmacist-in-charge; made by the same service as
``pharmacist-tool report`` (``reports.service.make_report``), in the window's background runner
so the window keeps painting while the chain is verified and the pages are drawn."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from pharmacist_tool.errors import UserError
from pharmacist_tool.gui.password_check import PasswordCheck
from pharmacist_tool.gui.widgets import add_row, fit_to_screen, note

if TYPE_CHECKING:
    from pharmacist_tool.records.db import Database
    from pharmacist_tool.reports.service import ReportResult

log = logging.getLogger(__name__)

MAKING = "○ Checking the password, verifying the records and drawing the report…"


def last_month(today: dt.date) -> tuple[dt.date, dt.date]:
    """The calendar month before ``today``'s: the period a monthly report usually covers."""
    end = today.replace(day=1) - dt.timedelta(days=1)
    return end.replace(day=1), end


def _day(text: str, what: str) -> dt.date:
    from pharmacist_tool.records.reading import parse_date

    day = parse_date(text, what, blank_ok=False)
    if day is None:
        raise UserError(f"{what}: give a date (YYYY-MM-DD)")
    return day


def background_runner(widget: QWidget) -> PasswordCheck:
    """The window's one background runner (its ``password_check``); a records view shown on its
    own gets one of its own."""
    found: QObject | None = widget
    while found is not None:
        runner = getattr(found, "password_check", None)
        if isinstance(runner, PasswordCheck):
            return runner
        found = found.parent()
    own = PasswordCheck(widget)
    widget.password_check = own  # type: ignore[attr-defined]
    return own


class ReportDialog(QDialog):
    """Asks for the period and the files, then makes the report in ``runner``."""

    made = Signal(object)
    """The report was written (the ``ReportResult``)."""

    def __init__(
        self, parent: QWidget | None, db: Database, username: str, runner: PasswordCheck
    ) -> None:
        super().__init__(parent)
        self.db, self.username, self.runner = db, username, runner
        self.result_made: ReportResult | None = None
        self.setWindowTitle("Monthly report")
        fit_to_screen(self, 620, 360)
        layout = QVBoxLayout(self)
        layout.addWidget(
            note(
                "A PDF an inspector can read, signed with the chain head; the CSV gives every "
                "figure with its record ids. Making it is kept in the audit log."
            )
        )
        form = QFormLayout()
        since, until = last_month(dt.date.today())
        self.since = QLineEdit(since.isoformat())
        self.until = QLineEdit(until.isoformat())
        self.pdf = QLineEdit(str(Path.home() / f"monthly-report-{since:%Y-%m}.pdf"))
        self.csv = QLineEdit()
        self.csv.setPlaceholderText("Empty: no CSV")
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        add_row(form, "&From:", self.since, "First day of the period, YYYY-MM-DD")
        add_row(form, "&Until:", self.until, "Last day of the period, YYYY-MM-DD")
        add_row(form, "&PDF file:", self._with_choose(self.pdf, "PDF (*.pdf)"), "Where to write")
        add_row(form, "&CSV file:", self._with_choose(self.csv, "CSV (*.csv)"), "Optional")
        add_row(form, "Your pass&word:", self.password, f"The password of {username}")
        layout.addLayout(form)
        self.status = note()
        self.status.setAccessibleName("Report status")
        layout.addWidget(self.status)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.make_button = QPushButton("&Make the report")
        self.make_button.setDefault(True)
        buttons.addButton(self.make_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.make_button.clicked.connect(self.make)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _with_choose(self, field: QLineEdit, kind: str) -> QWidget:
        row = QWidget()
        box = QHBoxLayout(row)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(field, 1)
        choose = QPushButton("Choose…")
        choose.setAutoDefault(False)
        choose.clicked.connect(lambda: self._choose(field, kind))
        box.addWidget(choose)
        row.setFocusProxy(field)
        return row

    def _choose(self, field: QLineEdit, kind: str) -> None:
        dialog = QFileDialog(self, "Write the report to", field.text(), kind)
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.fileSelected.connect(field.setText)
        dialog.open()
        self.file_dialog = dialog

    def make(self) -> bool:
        """Check what was typed, then make the report in the background; False when it was
        not started (a message says why)."""
        try:
            since = _day(self.since.text(), "From")
            until = _day(self.until.text(), "Until")
            if since > until:
                raise UserError(f"The period is empty: {since} is after {until}.")
            if not self.pdf.text().strip():
                raise UserError("Give the PDF file to write.")
        except UserError as error:
            self.status.setText(f"✖ {error}")
            return False
        pdf = Path(self.pdf.text().strip())
        csv = Path(self.csv.text().strip()) if self.csv.text().strip() else None
        password = self.password.text()
        self.password.clear()
        db, username = self.db, self.username

        def work() -> ReportResult:
            from pharmacist_tool.records.users import authenticate
            from pharmacist_tool.reports.service import make_report
            from pharmacist_tool.settings import load_settings

            if not password:
                raise UserError(f"Enter the password of {username} (asked for every report).")
            user = authenticate(db, username, password, purpose="login")
            settings = load_settings()
            return make_report(
                db, since, until, pdf, csv_path=csv, user=user,
                pharmacy=settings.pharmacy_name, paper=settings.paper_size,
            )  # fmt: skip

        started = self.runner.start(
            work, self._made, self._failed, busy=self._busy(), status=self.status, text=MAKING
        )
        if not started:
            self.status.setText("✖ The window is still busy with a password: try again shortly.")
        return started

    def _busy(self) -> list[QWidget]:
        return [self.since, self.until, self.pdf, self.csv, self.password, self.make_button]

    def _made(self, result: ReportResult) -> None:
        self.result_made = result
        count = len(result.figures.record_ids)
        lines = [f"✓ Report of {count:,} records written to {result.pdf}"]
        if result.csv:
            lines.append(f"Its figures, with their record ids: {result.csv}")
        if not result.chain_intact:
            lines.append("✖ The records chain did NOT verify: the report says so (run verify).")
        self.status.setText("\n".join(lines))
        self.made.emit(result)

    def _failed(self, error: Exception) -> None:
        if isinstance(error, UserError):
            self.status.setText(f"✖ Not made: {error}")
            return
        log.error("making the monthly report", exc_info=error)
        self.status.setText(
            f"✖ Not made: an unexpected error ({type(error).__name__}); see the log."
        )
