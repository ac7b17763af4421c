"""The records view: find a signed record, open it, reprint its handout, amend it, export, back up.

``RecordsView(database, parent=None, user=None)``: ``database`` is an open
``pharmacist_tool.records.db.Database``, or a database URL / None (then the window's shared
connection for that URL is used). Every action goes through the records desk
(``app.records.RecordsDesk``), which writes its audit entry. Amend asks the window for the
session steps (``amend_requested``): a correction is entered as a session is.

The list is a lazy model: it asks the database for one page (100 rows) at a time as the list
scrolls (``canFetchMore``/``fetchMore``, keyset pages), so 100,000 records open as fast as 100.
Exports run in a worker thread with a progress bar and a Cancel button; a cancelled export
leaves no file.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTableView,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from pharmacist_tool.app.records import (
    OUTCOME_WORDS as OUTCOME_TEXT,
)
from pharmacist_tool.app.records import (
    ChainNotIntactError,
    HeadNote,
    RecordDetail,
    RecordFilter,
    RecordsDesk,
    RecordSummary,
    parse_date,
)
from pharmacist_tool.errors import UserError
from pharmacist_tool.gui.authority import Right
from pharmacist_tool.gui.authority import check as check_right
from pharmacist_tool.gui.report_dialog import background_runner
from pharmacist_tool.gui.widgets import add_row, fit_to_screen

if TYPE_CHECKING:
    from pharmacist_tool.exports.backup import DatabaseCheck, RestoreResult
    from pharmacist_tool.exports.service import ExportResult
    from pharmacist_tool.gui.report_dialog import ReportDialog
    from pharmacist_tool.records.db import Database

log = logging.getLogger(__name__)

Index = QModelIndex | QPersistentModelIndex
"""What Qt passes a model for an index (either kind)."""

PAGE_SIZE = 100
BUSY = (
    "✖ Another task is still running (a signature, a backup, an export…): try again when it ends."
)

# (heading, sort key or None, attribute of RecordRow)
COLUMNS: list[tuple[str, str | None, str]] = [
    ("No.", "id", "id"),
    ("Signed", "signed_at", "signed_at"),
    ("Counselled", "counselled_on", "counselled_on"),
    ("Patient", "patient", "patient_name"),
    ("Born", "date_of_birth", "date_of_birth"),
    ("Medicine", None, "medicine"),
    ("Rules", None, "rule_set"),
    ("Outcome", "outcome", "outcome"),
    ("Pharmacist", "pharmacist", "pharmacist"),
    ("Amended", None, "amendments"),
]


OUTCOME_WORDS = {key: text.capitalize() for key, text in OUTCOME_TEXT.items()}


def _resolve_database(database: Database | str | None) -> Database:
    if database is None or isinstance(database, str):
        from pharmacist_tool.gui.signing import database as shared

        return shared(database)
    return database


def _show(value: object) -> str:
    if isinstance(value, dt.datetime):
        return value.astimezone().strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return "" if value is None else str(value)


class RecordsModel(QAbstractTableModel):
    """Signed records, fetched a page at a time; never all rows in memory at once."""

    def __init__(self, desk: RecordsDesk, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self.filter = RecordFilter()
        self.sort_key = "signed_at"
        self.descending = True
        self.rows: list[RecordSummary] = []
        self._more = True

    # -- loading
    def set_filter(self, flt: RecordFilter) -> None:
        flt.check()
        self.beginResetModel()
        self.filter = flt
        self.rows = []
        self._more = True
        self.endResetModel()
        self.fetchMore(QModelIndex())

    def refresh(self) -> None:
        self.set_filter(self.filter)

    def clear(self) -> None:
        """No rows, and none fetched (nobody may see them)."""
        self.beginResetModel()
        self.rows = []
        self._more = False
        self.endResetModel()

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008, N802
        return not parent.isValid() and self._more

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008, N802
        if parent.isValid() or not self._more:
            return
        after = (self.rows[-1].sort_value, self.rows[-1].id) if self.rows else None
        page = self.desk.page(
            self.filter,
            sort=self.sort_key,
            descending=self.descending,
            after=after,
            limit=PAGE_SIZE,
        )
        self._more = len(page) == PAGE_SIZE
        if page:
            first = len(self.rows)
            self.beginInsertRows(QModelIndex(), first, first + len(page) - 1)
            self.rows.extend(page)
            self.endInsertRows()

    def total(self) -> int:
        return self.desk.count(self.filter)

    # -- the table
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        attribute = COLUMNS[index.column()][2]
        value = getattr(row, attribute)
        if role == Qt.ItemDataRole.DisplayRole:
            if attribute == "outcome":
                return OUTCOME_WORDS.get(value, value)
            if attribute == "amendments":
                return f"{value}×" if value else ""
            return _show(value)
        if role == Qt.ItemDataRole.UserRole:
            return row.id
        if role == Qt.ItemDataRole.ToolTipRole and attribute == "amendments" and value:
            return f"Amended {value} time(s); open the record to read why"
        return None

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section][0]
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        key = COLUMNS[column][1]
        if key is None:
            return
        self.sort_key = key
        self.descending = order == Qt.SortOrder.DescendingOrder
        self.refresh()

    def record_id(self, row: int) -> int:
        return int(self.rows[row].id)


# -- exporting in the background runner -----------------------------------------------------


class ExportDialog(QDialog):
    """Choose a format and a file; watch the progress; cancel leaves no file. The export runs
    in the window's background runner (``PasswordCheck``): one job at a time, off the window's
    thread, its result applied on it."""

    progressed = Signal(int, int)
    """(done, total) as the export goes (emitted from the runner's thread)."""

    def __init__(self, desk: RecordsDesk, flt: RecordFilter, parent: QWidget | None) -> None:
        super().__init__(parent)
        from pharmacist_tool.exports.service import FORMATS

        self.setWindowTitle("Export records")
        self.desk, self.flt = desk, flt
        self.runner = background_runner(self)
        self._stop = False
        self.export_result: ExportResult | None = None
        self.progressed.connect(self._progress)
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.format = QComboBox()
        for key, label in FORMATS.items():
            self.format.addItem(label, key)
        add_row(form, "&Format:", self.format, "The export format")
        path_row = QHBoxLayout()
        self.path = QLineEdit()
        self.path.setPlaceholderText("the file to write")
        browse = QPushButton("&Choose…")
        browse.clicked.connect(self.choose)
        path_row.addWidget(self.path, 1)
        path_row.addWidget(browse)
        file_label = QLabel("F&ile:")
        file_label.setBuddy(self.path)
        self.path.setAccessibleName("File")
        form.addRow(file_label, path_row)
        form.addRow("Records:", QLabel(_describe_filter(flt)))
        layout.addLayout(form)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        layout.addWidget(self.bar)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.start_button = QPushButton("&Export")
        self.start_button.setDefault(True)
        self.start_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.cancel_button)
        layout.addLayout(buttons)
        self.resize(560, 220)

    def choose(self) -> None:
        from pharmacist_tool.exports.service import SUFFIXES

        fmt = self.format.currentData()
        suggested = f"records-{dt.date.today().isoformat()}{SUFFIXES[fmt]}"
        name, _ = QFileDialog.getSaveFileName(self, "Export to", suggested)
        if name:
            self.path.setText(name)

    def start(self) -> None:
        text = self.path.text().strip()
        if not text:
            self.status.setText("✖ Choose the file to write.")
            return
        desk, fmt, path, flt = self.desk, str(self.format.currentData()), Path(text), self.flt
        self._stop = False

        def work() -> ExportResult:
            return desk.export(
                fmt, path, flt, progress=self.progressed.emit, cancelled=lambda: self._stop
            )

        started = self.runner.start(
            work,
            self._finished,
            self._not_exported,
            busy=(self.start_button, self.format),
            status=self.status,
            text="Exporting…",
        )
        if not started:
            self.status.setText(BUSY)

    @property
    def running(self) -> bool:
        return self.runner.running

    def cancel(self) -> None:
        if self.running:
            self._stop = True
            self.status.setText("Stopping…")
            return
        self.reject()

    def _not_exported(self, error: Exception) -> None:
        from pharmacist_tool.exports.files import ExportCancelled

        if isinstance(error, ExportCancelled):
            self._cancelled()
        elif isinstance(error, UserError):
            self._failed(str(error))
        else:
            log.error("export failed", exc_info=error)
            self._failed(f"The export failed ({error}); no file was written.")

    def _progress(self, done: int, total: int) -> None:
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(min(done, max(total, 1)))
        self.status.setText(f"Exporting… {done:,} of {total:,} records")

    def _finished(self, result: ExportResult) -> None:
        self.export_result = result
        self.bar.setRange(0, 1)
        self.bar.setValue(1)
        self.status.setText(f"✓ Exported {result.count:,} records to {result.path}")
        self.cancel_button.setText("Close")
        self.start_button.setEnabled(False)

    def _failed(self, message: str) -> None:
        self.status.setText(f"✖ {message}")
        self.start_button.setEnabled(True)
        self.format.setEnabled(True)

    def _cancelled(self) -> None:
        self.status.setText("Export cancelled; no file was written.")
        self.start_button.setEnabled(True)
        self.format.setEnabled(True)
        self.bar.setValue(0)

    def done(self, code: int) -> None:  # closing waits for a running export to stop
        if self.running:
            self._stop = True
            self.runner.wait()
        super().done(code)


def _describe_filter(flt: RecordFilter) -> str:
    parts = []
    if flt.patient:
        parts.append(f"patient “{flt.patient}”")
    if flt.date_of_birth:
        parts.append(f"born {flt.date_of_birth}")
    if flt.since or flt.until:
        parts.append(f"counselled {flt.since or '…'} to {flt.until or '…'}")
    if flt.pharmacist:
        parts.append(f"pharmacist {flt.pharmacist}")
    if flt.outcome:
        parts.append(OUTCOME_WORDS.get(flt.outcome, flt.outcome).lower())
    return "All records" if not parts else "Records matching the search: " + ", ".join(parts)


# -- one record -----------------------------------------------------------------------------


def _pack_names() -> list[str]:
    from pharmacist_tool.knowledge import packs

    try:
        return packs.names()
    except UserError:
        return []


def _pack_words(detail: RecordDetail) -> str:
    """The pack and its version as signed, and as last amended when that differs."""
    signed = detail.summary.knowledge_base_version
    words = f"{detail.pack or 'not recorded'}, version {signed}"
    if detail.pack_version != signed:
        words += f" (version {detail.pack_version} as last amended)"
    return words


def record_html(detail: RecordDetail) -> str:
    """A read-only page for one record: what was signed, by whom, and every amendment."""
    e = html.escape
    s = detail.summary
    case = json.loads(detail.current_case_json)
    patient, rx = case["patient"], case["prescription"]
    parts = [
        f"<h2>Record {s.id}: {e(s.patient_name)}</h2>",
        f"<p><b>{e(detail.signature.line())}</b></p>",
        "<table cellspacing='2' cellpadding='3'>",
    ]
    rows = [
        ("Patient", f"{patient['name']} (born {patient['date_of_birth']})"),
        ("Counselled on", case["counselled_on"]),
        ("Medicine pack", _pack_words(detail)),
        ("Rules", f"{s.rule_set}; knowledge base {s.knowledge_base_version}"),
        (
            "Prescription",
            f"{rx['medicine']} {rx['strength_mg']} mg × {rx['units_per_dose']}, "
            f"{rx['doses_per_day']}/day for {rx['days_supply']} days; prescribed "
            f"{rx['prescribed_on']} by {rx.get('prescriber') or '—'}",
        ),
        ("Authorization", rx.get("authorization") or "—"),
        ("Weight", f"{patient['weight_kg']} kg"),
        (
            "Outcome",
            OUTCOME_WORDS.get(s.outcome, s.outcome)
            + (f": {s.outcome_reason}" if s.outcome_reason else ""),
        ),
        (
            "Handout",
            f"SHA-256 {detail.handout_sha256} ({detail.handout_language}, {detail.handout_paper})",
        ),
        ("Record hash", detail.row_hash),
    ]
    parts += [f"<tr><td><b>{e(k)}</b></td><td>{e(str(v))}</td></tr>" for k, v in rows]
    parts.append("</table>")
    assessment = detail.assessment
    facts = detail.facts  # what an inspector reads, in words (the records' one read model)

    def section(title: str, lines: Iterable[object] | None, empty: str) -> None:
        items = list(lines or ())
        parts.append(f"<h3>{e(title)}</h3>")
        if not items:
            parts.append(f"<p>{e(empty)}</p>")
            return
        parts.append("<ul>" + "".join(f"<li>{e(str(x))}</li>" for x in items) + "</ul>")

    if facts.risk_category_change:
        section("Risk category changed since the last visit", [facts.risk_category_change], "")
    if facts.carried:
        section("Carried from the last visit", [facts.carried], "")
    if facts.duties is not None:
        section("Programme duties on this supply", facts.duties, "None asked by these rules.")
    if patient.get("can_get_pregnant", True):
        section("Pregnancy tests", facts.pregnancy_tests, "None recorded.")
        section("Birth control, as the patient said it", facts.contraception_said, "None said.")
        section("Birth control, as the rules counted it", facts.contraception_counted, "None.")
    if facts.medicines_screened is not None:
        section("Other medicines, as screened", facts.medicines_screened, "None taken.")
    else:
        section("Other medicines, as said", facts.medicines_said, "None recorded.")
    parts.append(
        f"<p>Asked about other medicines, supplements and herbal products: "
        f"{e(facts.other_medicines_asked)}.</p>"
    )
    section("Findings, with their resolutions", facts.findings, "No findings.")
    checklist = assessment.get("checklist") or []
    if checklist:
        parts.append("<h3>Counselling points</h3><ul>")
        for item in checklist:
            mark = "✓" if item.get("done") else "✗"
            parts.append(f"<li>{mark} {e(str(item.get('title') or item.get('id')))}</li>")
        parts.append("</ul>")
    if detail.amendments:
        parts.append("<h3>Amendments (the signed record above is kept unchanged)</h3><ol>")
        for a in detail.amendments:
            parts.append(
                f"<li>{e(a.signature.line())}<br/>Reason: {e(a.reason)}<br/>"
                f"Handout SHA-256 {e(a.handout_sha256)}</li>"
            )
        parts.append("</ol>")
    if detail.amendments:
        parts.append("<p><i>Details above show the record as last amended.</i></p>")
    return "".join(parts)


class RecordDialog(QDialog):
    """A record, read-only, with its amendments; reprint, save the handout, amend."""

    def __init__(self, view: RecordsView, record_id: int) -> None:
        super().__init__(view)
        self.view = view
        self.record_id = record_id
        self.detail = view.desk.open(record_id)
        self.setWindowTitle(f"Record {record_id}")  # titles show in task bars: no names
        layout = QVBoxLayout(self)
        self.text = QTextBrowser()
        self.text.setHtml(record_html(self.detail))
        layout.addWidget(self.text, 1)
        row = QHBoxLayout()
        reprint = QPushButton("&Reprint handout…")
        reprint.clicked.connect(lambda: view.reprint(record_id))
        save = QPushButton("&Save handout as PDF…")
        save.clicked.connect(lambda: view.save_handout(record_id))
        amend = QPushButton("&Amend…")
        amend.clicked.connect(lambda: view.amend(record_id))
        close = QPushButton("Close")
        close.clicked.connect(self.reject)
        for button in (reprint, save, amend):
            row.addWidget(button)
        row.addStretch(1)
        row.addWidget(close)
        layout.addLayout(row)
        fit_to_screen(self, 760, 640)


# -- the view -------------------------------------------------------------------------------


class RecordsView(QWidget):
    """Find, open, reprint, amend and export signed records; back up and restore."""

    reprinted = Signal(int, bytes)
    """A handout was fetched for a reprint: (record id, the stored bytes sent to the printer)."""
    amend_requested = Signal(int)
    """Amend was chosen for this record: the window opens it in the session steps."""
    exported = Signal(object)
    backed_up = Signal(object)
    """A backup was written and checked (its path)."""
    restored = Signal(int)
    """The records were restored from a backup (how many records it holds)."""

    def __init__(
        self,
        database: Database | str | None = None,
        parent: QWidget | None = None,
        user: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.db = _resolve_database(database)
        self.user = user
        self.desk = RecordsDesk(self.db, user)
        self.runner = background_runner(self)
        """The window's one background runner: backups and restores run there."""
        self.model = RecordsModel(self.desk, self)
        self._build()
        self._apply_rights()
        self.search()

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        filters = QHBoxLayout()
        self.patient = QLineEdit()
        self.patient.setPlaceholderText("Patient name (start of it)")
        self.anywhere = QCheckBox("&anywhere in the name")
        self.dob = QLineEdit()
        self.dob.setPlaceholderText("Born YYYY-MM-DD")
        self.since = QLineEdit()
        self.since.setPlaceholderText("From YYYY-MM-DD")
        self.until = QLineEdit()
        self.until.setPlaceholderText("Until YYYY-MM-DD")
        self.pharmacist = QComboBox()
        self.pharmacist.addItem("Any pharmacist", "")
        self._fill_pharmacists()
        self.outcome = QComboBox()
        self.outcome.addItem("Any outcome", "")
        for key, word in OUTCOME_WORDS.items():
            self.outcome.addItem(word, key)
        self.medicine = QComboBox()
        self.medicine.setAccessibleName("Medicine pack")
        self.medicine.addItem("Any medicine", "")
        for pack in _pack_names():
            self.medicine.addItem(pack, pack)
        for widget in (self.patient, self.dob, self.since, self.until):
            widget.returnPressed.connect(self.search)
        search = QPushButton("&Search")
        search.clicked.connect(self.search)
        for field in (self.patient, self.anywhere, self.dob, self.since, self.until):
            filters.addWidget(field)
        layout.addLayout(filters)
        choices = QHBoxLayout()  # a second row: both fit an 800-pixel screen
        for choice in (self.pharmacist, self.outcome, self.medicine):
            choices.addWidget(choice)
        choices.addStretch(1)
        choices.addWidget(search)
        layout.addLayout(choices)

        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSortIndicator(1, Qt.SortOrder.DescendingOrder)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        self.table.doubleClicked.connect(
            lambda index: self.open_record(self.model.record_id(index.row()))
        )
        layout.addWidget(self.table, 1)

        self.status = QLabel("")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        layout.addLayout(self._head_row())
        actions = QHBoxLayout()
        self.open_button = QPushButton("&Open")
        self.open_button.clicked.connect(lambda: self._with_selected(self.open_record))
        self.reprint_button = QPushButton("&Reprint handout…")
        self.reprint_button.clicked.connect(lambda: self._with_selected(self.reprint))
        self.amend_button = QPushButton("A&mend…")
        self.amend_button.clicked.connect(lambda: self._with_selected(self.amend))
        self.export_button = QPushButton("&Export…")
        self.export_button.clicked.connect(self.export)
        self.backup_button = QPushButton("&Back up…")
        self.backup_button.clicked.connect(lambda: self.backup())  # not clicked's bool
        self.restore_button = QPushButton("Res&tore…")
        self.restore_button.clicked.connect(lambda: self.restore())
        self.report_button = QPushButton("Monthly re&port…")
        self.report_button.clicked.connect(self.monthly_report)
        for button in (self.open_button, self.reprint_button, self.amend_button):
            actions.addWidget(button)
        actions.addStretch(1)
        for button in (
            self.report_button, self.export_button, self.backup_button, self.restore_button,
        ):  # fmt: skip
            actions.addWidget(button)
        layout.addLayout(actions)

    def _apply_rights(self) -> None:
        """Offer what the signed-in user may do; say why the rest is greyed out."""
        sqlite = getattr(self.db, "sqlite_path", None) is not None
        buttons = {
            Right.RECORDS: (self.open_button, self.reprint_button, self.amend_button),
            Right.EXPORT: (self.export_button,),
            Right.BACKUP: (self.backup_button,),
            Right.RESTORE: (self.restore_button,),
            Right.REPORT: (self.report_button,),
        }
        for right, group in buttons.items():
            refused = self.refused(right)
            for button in group:
                button.setEnabled(refused is None)
                button.setToolTip(refused or "")
        for button in (self.backup_button, self.restore_button):
            if not sqlite:
                button.setEnabled(False)
                button.setToolTip("Back up PostgreSQL with pg_dump (ask your IT).")

    def refused(self, right: Right) -> str | None:
        """Why the signed-in user may not do this now (None: they may)."""
        try:
            return check_right(self.db, self.user, right)
        except Exception as error:  # the database cannot say: refuse, and say so
            log.exception("checking the user's rights")
            return f"Who may do this cannot be checked ({type(error).__name__}); see the log."

    def _refuse(self, right: Right) -> bool:
        """Show the refusal and return True when the user may not do this."""
        refused = self.refused(right)
        if refused is not None:
            self.status.setText(f"✖ {refused}")
        return refused is not None

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        super().showEvent(event)
        self.refresh_head()  # others may have signed since it was last shown

    def _head_row(self) -> QHBoxLayout:
        """The chain head to write in the paper log, with Copy and Print."""
        row = QHBoxLayout()
        self.head_label = QLabel("")
        self.head_label.setWordWrap(True)
        self.head_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.head_label.setToolTip(
            "Write this in the pharmacy's paper log at the end of each day and before and after "
            "a restore; `pharmacist-tool verify --expect-head POSITION:HASH` checks it later."
        )
        self.copy_head_button = QPushButton("&Copy head")
        self.copy_head_button.clicked.connect(self.copy_head)
        self.print_head_button = QPushButton("Print &head…")
        self.print_head_button.clicked.connect(self.print_head)
        row.addWidget(self.head_label, 1)
        row.addWidget(self.copy_head_button)
        row.addWidget(self.print_head_button)
        return row

    def refresh_head(self) -> HeadNote | None:
        """Read the chain head again (every view, print and export moves it on)."""
        try:
            note = self.desk.head()
        except Exception:
            log.exception("reading the chain head")
            self.head_label.setText("Chain head: could not be read (see the log)")
            return None
        self.head_label.setText(note.summary())
        self.head_note = note
        return note

    def copy_head(self) -> str | None:
        from PySide6.QtGui import QGuiApplication

        note = self.refresh_head()
        if note is None:
            return None
        QGuiApplication.clipboard().setText(note.text)
        self.status.setText(f"✓ Copied the chain head {note.text}")
        return str(note.text)

    def print_head(self) -> bytes | None:
        """Verify the chain, then print its head on one page for the paper log."""
        from pharmacist_tool.settings import Settings, load_settings

        try:
            settings = load_settings()
        except UserError:
            settings = Settings()
        try:
            sheet = self.desk.head_sheet(settings)
        except ChainNotIntactError as error:
            self.status.setText(f"✖ {error}")
            return None
        note = sheet.note
        self.head_label.setText(note.summary())
        self.head_note = note
        self._send_to_printer(
            sheet.pdf, sheet.paper, "Records chain head", f"Chain head {note.text}"
        )
        return sheet.pdf

    def _fill_pharmacists(self) -> None:
        try:
            users = self.desk.users()
        except Exception:
            log.exception("listing users")
            return
        for username, printed_name in users:
            self.pharmacist.addItem(printed_name, username)

    # -- searching
    def current_filter(self) -> RecordFilter:
        return RecordFilter(
            patient=self.patient.text().strip(),
            match="anywhere" if self.anywhere.isChecked() else "start",
            date_of_birth=parse_date(self.dob.text(), "Born"),
            since=parse_date(self.since.text(), "From"),
            until=parse_date(self.until.text(), "Until"),
            pharmacist=self.pharmacist.currentData() or "",
            outcome=self.outcome.currentData() or "",
            medicine=self.medicine.currentData() or "",
        )

    def search(self) -> None:
        if self._refuse(Right.RECORDS):
            self.model.clear()
            return
        try:
            self.model.set_filter(self.current_filter())
        except UserError as error:
            self.status.setText(f"✖ {error}")
            return
        self.refresh_head()
        total = self.model.total()
        noun = "record" if total == 1 else "records"
        self.status.setText(f"{total:,} {noun} found" if total else "No record matches the search.")
        self.table.resizeColumnsToContents()  # each column as wide as what it shows
        if self.model.rowCount() >= 1:
            self.table.selectRow(0)  # Enter opens it; the first of several is ready too
            self.table.setFocus(Qt.FocusReason.OtherFocusReason)

    def _with_selected(self, action: Callable[[int], object]) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            self.status.setText("Select a record first.")
            return
        action(self.model.record_id(rows[0].row()))

    # -- one record
    def open_record(self, record_id: int) -> RecordDialog | None:
        if self._refuse(Right.RECORDS):
            return None
        try:
            dialog = RecordDialog(self, record_id)
        except UserError as error:
            self.status.setText(f"✖ {error}")
            return None
        dialog.open()
        self.record_dialog = dialog
        self.refresh_head()
        return dialog

    def reprint(self, record_id: int) -> bytes | None:
        """Send the stored handout, byte for byte, to the printer (audited as a reprint)."""
        if self._refuse(Right.RECORDS):
            return None
        try:
            pdf = self.desk.reprint(record_id)
        except UserError as error:
            self.status.setText(f"✖ {error}")
            return None
        self.reprinted.emit(record_id, pdf)
        self._print(record_id, pdf)
        self.refresh_head()
        return pdf

    def _print(self, record_id: int, pdf: bytes) -> None:
        """At the paper the sheet was made for."""
        from pharmacist_tool.gui import printing
        from pharmacist_tool.gui.handout_view import page_sizes_points

        paper = printing.paper_of(page_sizes_points(pdf)) or "Letter"
        title = f"Handout, record {record_id} (reprint)"
        self._send_to_printer(pdf, paper, title, f"Handout of record {record_id}")

    def _send_to_printer(self, pdf: bytes, paper: str, title: str, what: str) -> None:
        """Through CUPS as the bytes are where it runs; else the system print dialog, at
        ``paper``."""
        from PySide6.QtPrintSupport import QPrintDialog

        from pharmacist_tool.gui import printing
        from pharmacist_tool.gui.handout_view import keep_sheet_paper, print_pdf, qt_printer

        queue = _printer_setting()
        if printing.through_cups(_print_through_setting()):
            try:
                sent = printing.print_with_cups(pdf, paper=paper, queue=queue, title=title)
            except UserError as error:
                self.status.setText(f"✖ Not printed: {error}")
                return
            self.status.setText(f"✓ {what} sent to {sent.queue} (job {sent.job}), {paper}")
            return
        printer = qt_printer(paper, queue, title)
        dialog = QPrintDialog(printer, self)

        def accepted() -> None:
            keep_sheet_paper(printer, paper)
            try:
                print_pdf(printer, pdf)
            except Exception as error:
                log.exception("printing failed: %s", title)
                self.status.setText(f"✖ Not printed: {error}")
                return
            self.status.setText(f"✓ {what} sent to the printer")

        dialog.accepted.connect(accepted)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.show()  # QPrintDialog.open() wants a receiver in PySide6; this is the same
        self.print_dialog = dialog

    def save_handout(self, record_id: int, path: str | None = None) -> Path | None:
        from pharmacist_tool.case import write_atomically

        if self._refuse(Right.RECORDS):
            return None
        if path is None:
            path, _ = QFileDialog.getSaveFileName(
                self, "Save the handout", f"handout-record-{record_id}.pdf", "PDF (*.pdf)"
            )
            if not path:
                return None
        try:
            pdf = self.desk.reprint(record_id)
            write_atomically(path, pdf)
        except (UserError, OSError) as error:
            self.status.setText(f"✖ Not saved: {error}")
            return None
        self.status.setText(f"✓ Handout of record {record_id} saved to {path}")
        return Path(path)

    def amend(self, record_id: int) -> bool:
        """Ask for the record in the session steps, every value as signed (the window opens
        it; nothing is stored until the amendment is signed there). True when asked."""
        if self._refuse(Right.RECORDS):
            return False
        record = getattr(self, "record_dialog", None)
        if record is not None:
            record.close()  # the record's page, when Amend was chosen there
        self.status.setText(f"Record {record_id} opens in the session steps to be amended.")
        self.amend_requested.emit(record_id)
        return True

    # -- export, backup, restore
    def export(self) -> ExportDialog | None:
        if self._refuse(Right.EXPORT):
            return None
        try:
            flt = self.current_filter()
        except UserError as error:
            self.status.setText(f"✖ {error}")
            return None
        dialog = ExportDialog(self.desk, flt, self)

        def finished(_code: int) -> None:
            if dialog.export_result:
                self.exported.emit(dialog.export_result)
            self.refresh_head()

        dialog.finished.connect(finished)
        dialog.open()
        self.export_dialog = dialog
        return dialog

    def monthly_report(self) -> ReportDialog | None:
        """The monthly report (``report_dialog``), made in the window's background runner."""
        if self._refuse(Right.REPORT):
            return None
        from pharmacist_tool.gui.report_dialog import ReportDialog, background_runner

        dialog = ReportDialog(self, self.db, self.user or "", background_runner(self))
        dialog.made.connect(lambda _result: self.refresh_head())
        dialog.open()
        self.report_dialog = dialog
        return dialog

    def _choose_file(
        self, title: str, suggested: str, save: bool, chosen: Callable[[str], object]
    ) -> QFileDialog:
        """A file dialog that does not stop the window: ``chosen(path)`` runs when one is
        picked (``self.file_dialog`` is the dialog)."""
        dialog = QFileDialog(self, title, suggested)
        dialog.setAcceptMode(
            QFileDialog.AcceptMode.AcceptSave if save else QFileDialog.AcceptMode.AcceptOpen
        )
        dialog.setFileMode(
            QFileDialog.FileMode.AnyFile if save else QFileDialog.FileMode.ExistingFile
        )
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.fileSelected.connect(chosen)
        dialog.open()
        self.file_dialog = dialog
        return dialog

    def backup(self, path: str | None = None) -> bool:
        """Copy the records to ``path`` (asked for when None) and check the copy, in the
        background runner; audited to the signed-in user. True when the copy started;
        ``backed_up`` carries the file once it is written and checked."""
        if self._refuse(Right.BACKUP):
            return False
        if not path:
            suggested = f"records-backup-{dt.datetime.now():%Y%m%d-%H%M}.sqlite3"
            self._choose_file("Back up the records to", suggested, True, self.backup)
            return False
        desk, target = self.desk, Path(path)
        return self._started(
            self.runner.start(
                lambda: desk.backup(target),
                self._backed_up,
                self._not_done,
                busy=self._busy(),
                status=self.status,
                text="○ Backing up the records…",
            )
        )

    def _backed_up(self, check: DatabaseCheck) -> None:
        self.status.setText(f"✓ Backed up {check.records:,} records to {check.path} (checked)")
        self.refresh_head()
        self.backed_up.emit(check.path)

    def _started(self, started: bool) -> bool:
        if not started:
            self.status.setText(BUSY)
        return started

    def _busy(self) -> tuple[QWidget, ...]:
        """What waits while the runner backs up or restores."""
        return (self.backup_button, self.restore_button, self.export_button)

    def _not_done(self, error: Exception) -> None:
        if isinstance(error, UserError):
            self.status.setText(f"✖ {error}")
            return
        log.error("records action failed", exc_info=error)
        self.status.setText(f"✖ It failed ({type(error).__name__}); see the log.")

    def restore(
        self, path: str | None = None, *, confirm: bool = True, password: str | None = None
    ) -> bool:
        """Replace the records with a backup: an administrator's action. The file is asked for
        when None, then the question, then the signed-in administrator's password (checked
        against the backup's own users) unless ``password`` is given. True when the restore
        started (in the background runner); ``restored`` is emitted once done."""
        if self._refuse(Right.RESTORE):
            return False
        if not path:
            self._choose_file("Restore the records from", "", False, self.restore)
            return False
        if confirm:
            self._ask_restore(path, password)
            return False
        if password is None:
            self._ask_password(path)
            return False
        return self._restore_now(path, password)

    def _ask_restore(self, path: str, password: str | None) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Restore the records",
            f"Replace every record in this database with the backup {path}?\n"
            "A copy of the current database is kept beside it.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setWindowModality(Qt.WindowModality.WindowModal)

        def answered() -> None:
            if box.clickedButton() is box.button(QMessageBox.StandardButton.Yes):
                self.restore(path, confirm=False, password=password)

        box.finished.connect(answered)
        box.open()
        self.restore_question = box

    def _ask_password(self, path: str) -> None:
        dialog = QInputDialog(self)
        dialog.setWindowTitle("Restore the records")
        dialog.setLabelText(f"A restore needs an administrator. Password of {self.user}:")
        dialog.setTextEchoMode(QLineEdit.EchoMode.Password)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)

        def entered(password: str) -> None:
            if password:
                self._restore_now(path, password)

        dialog.textValueSelected.connect(entered)
        dialog.open()
        self.restore_password = dialog

    def _restore_now(self, path: str, password: str) -> bool:
        desk, source = self.desk, Path(path)
        return self._started(
            self.runner.start(
                lambda: desk.restore(source, password),
                self._restored,
                self._not_done,
                busy=self._busy(),
                status=self.status,
                text="○ Checking the password and restoring…",
            )
        )

    def _restored(self, result: RestoreResult) -> None:
        self.search()
        self.status.setText(
            f"✓ Restored {result.restored.records:,} records; the previous database is kept at "
            f"{result.previous_copy}"
        )
        self.restored.emit(result.restored.records)


def make_records_view(parent: QWidget | None, database: Database | str | None) -> RecordsView:
    return RecordsView(database, parent)


def _print_through_setting() -> str:
    """How to print (the setting ``print_through``: auto, cups or qt)."""
    from pharmacist_tool.settings import load_settings

    try:
        return load_settings().print_through
    except UserError:
        return "auto"


def _printer_setting() -> str | None:
    """The printer chosen in Settings (None: the system's default)."""
    from pharmacist_tool.settings import load_settings

    try:
        return load_settings().default_printer or None
    except UserError:
        return None
