"""Dialogs: the crash report, the settings, the records."""

from __future__ import annotations

import datetime as dt
import logging
import platform
import sys
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from pharmacist_tool.errors import UserError
from pharmacist_tool.gui.password_check import PasswordCheck
from pharmacist_tool.gui.widgets import add_row, fit_to_screen, heading, note

if TYPE_CHECKING:  # the records' plain value; importing it at start-up would bring the database
    from pharmacist_tool.gui.window_base import WindowBase
    from pharmacist_tool.knowledge.model import KnowledgeBase
    from pharmacist_tool.records.db import Database
    from pharmacist_tool.records.users import AuthenticatedUser
    from pharmacist_tool.settings import Settings

log = logging.getLogger(__name__)


def versions_text() -> str:
    import PySide6
    from PySide6.QtCore import qVersion

    from pharmacist_tool import APP_NAME, __version__

    return "\n".join(
        [
            f"{APP_NAME} {__version__}",
            f"Qt {qVersion()} · PySide6 {PySide6.__version__}",
            f"Python {platform.python_version()} ({sys.executable})",
            f"OS {platform.platform()}",
        ]
    )


class CrashDialog(QDialog):
    """What happened, the versions, and a Copy button; the session is kept."""

    def __init__(self, parent: QWidget | None, summary: str, trace: str, log_path: str) -> None:
        super().__init__(parent)
        self.setWindowTitle("Something went wrong")
        self.resize(720, 480)
        layout = QVBoxLayout(self)
        layout.addWidget(heading("Something went wrong in the window"))
        layout.addWidget(
            note(
                "Your session in progress was saved and will be offered back. "
                "You can carry on, or close the window and open it again.\n"
                f"What happened: {summary}\nThe details are also in the log: {log_path}"
            )
        )
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.details.setPlainText(f"{versions_text()}\n\n{trace}")
        label = QLabel("&Details:")
        label.setBuddy(self.details)
        self.details.setAccessibleName("Details")
        layout.addWidget(label)
        layout.addWidget(self.details, 1)
        buttons = QDialogButtonBox()
        self.copy = QPushButton("&Copy")
        self.copy.setAccessibleName("Copy the details")
        buttons.addButton(self.copy, QDialogButtonBox.ButtonRole.ActionRole)
        close = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        close.setDefault(True)
        layout.addWidget(buttons)
        self.copy.clicked.connect(self.copy_details)
        buttons.rejected.connect(self.reject)
        close.clicked.connect(self.accept)

    def copy_details(self) -> None:
        QGuiApplication.clipboard().setText(self.details.toPlainText())
        self.copy.setText("Copied ✓")


def available_printers() -> list[str]:
    """The printers of this machine: CUPS's queues where CUPS runs, else Qt's list."""
    from pharmacist_tool.gui import printing

    if printing.cups_running():
        return printing.cups_queues()
    try:
        from PySide6.QtPrintSupport import QPrinterInfo

        return list(QPrinterInfo.availablePrinterNames())
    except Exception:  # no print support on this machine
        log.exception("listing printers")
        return []


class SettingsDialog(QDialog):
    """This machine's settings, saved atomically when accepted; each change is audited to the
    administrator who made it (``settings-changed``), and undone when it cannot be."""

    accepted_settings = Signal(object)

    def __init__(
        self,
        parent: QWidget | None,
        settings: Settings,
        kb: KnowledgeBase | None,
        db: Database,
        user: AuthenticatedUser | str,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.settings = settings
        self.db, self.user = db, user
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.name = QLineEdit(settings.pharmacy_name)
        self.name.setMaxLength(120)
        self.address = QLineEdit(settings.pharmacy_address)
        self.address.setMaxLength(300)
        self.phone = QLineEdit(settings.pharmacy_phone)
        self.phone.setMaxLength(60)
        self.paper = QComboBox()
        self.paper.addItems(["A4", "Letter"])
        self.paper.setCurrentText(settings.paper_size)
        self.printer = QComboBox()
        self.printer.setEditable(True)
        self.printer.addItem("")
        self.available_printers = available_printers()
        self.printer.addItems(self.available_printers)
        self.printer.setCurrentText(settings.default_printer)
        self.idle = QSpinBox()
        self.idle.setRange(1, 240)
        self.idle.setSuffix(" min")
        self.idle.setValue(settings.idle_lock_minutes)
        self.rule_set = QComboBox()
        from pharmacist_tool.gui import services

        self.rule_set.addItems(services.rule_set_ids(kb))
        self.rule_set.setCurrentText(settings.default_rule_set)
        self.language = QComboBox()
        for code, name in services.handout_languages():
            self.language.addItem(name, code)
        self.language.setCurrentIndex(max(0, self.language.findData(settings.handout_language)))
        add_row(form, "Pharmacy &name:", self.name, "Printed on the handout")
        add_row(form, "&Address:", self.address, "Printed on the handout")
        add_row(form, "P&hone:", self.phone, "Printed on the handout")
        add_row(form, "&Paper size:", self.paper, "Paper the handout is printed on")
        add_row(form, "Default p&rinter:", self.printer, "Empty: the system's default printer")
        add_row(form, "&Lock after:", self.idle, "Minutes without input before the window locks")
        add_row(form, "Default r&ules:", self.rule_set, "Programme for new sessions")
        add_row(form, "Handout lan&guage:", self.language, "Default language of the handout")
        layout.addLayout(form)

        layout.addWidget(
            QLabel(
                "Every medicine's rule-set versions: the date each takes effect at this pharmacy"
            )
        )
        self.dates = QTableWidget(0, len(DATE_COLUMNS))
        self.dates.setHorizontalHeaderLabels(list(DATE_COLUMNS))
        self.dates.setAccessibleName("Rule-set effective dates")
        self.dates.setAccessibleDescription(
            "Edit the Takes effect column as YYYY-MM-DD; empty uses the published date. Tick "
            "Date confirmed once the pharmacy has checked a date its sources disagree on"
        )
        self.dates.horizontalHeader().setStretchLastSection(True)
        self.versions = every_rule_version()
        shown = {f"{pack}/{version}" for pack, version, _ in self.versions}
        shown |= {version for _, version, _ in self.versions}  # the older, bare form
        self.other_dates = {  # dates of versions no pack here has: kept as they are
            key: day for key, day in settings.rule_effective_dates.items() if key not in shown
        }
        self.unconfirmed = dates_unconfirmed_in_packs()
        self.other_confirmed = {
            key: day
            for key, day in settings.confirmed_rule_dates.items()
            if key not in self.unconfirmed
        }
        for pack, version_id, published in self.versions:
            chosen = settings.rule_effective_dates.get(
                f"{pack}/{version_id}", settings.rule_effective_dates.get(version_id)
            )
            self._add_version_row(pack, version_id, published, chosen)
            self._add_confirmation(pack, version_id, chosen or published)
        self.dates.resizeColumnsToContents()
        layout.addWidget(self.dates, 1)
        self.message = note()
        layout.addWidget(self.message)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Save).setText("&Save")
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        fit_to_screen(self, 640, 620)

    def _add_version_row(
        self, pack: str, version_id: str, published: dt.date, chosen: dt.date | None
    ) -> None:
        row = self.dates.rowCount()
        self.dates.insertRow(row)
        for column, text in enumerate((pack, version_id, published.isoformat())):
            item = QTableWidgetItem(text)
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
            self.dates.setItem(row, column, item)
        self.dates.setItem(row, 3, QTableWidgetItem(chosen.isoformat() if chosen else ""))

    def _add_confirmation(self, pack: str, version_id: str, in_force: dt.date) -> None:
        """A tick box where the pack marks the date unconfirmed: ticked while the pharmacy's
        confirmation holds for the date in force."""
        row = self.dates.rowCount() - 1
        key = f"{pack}/{version_id}"
        if key not in self.unconfirmed:
            item = QTableWidgetItem("published date")
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
            self.dates.setItem(row, CONFIRMED_COLUMN, item)
            return
        confirmed = self.settings.confirmed_rule_dates.get(key) == in_force
        item = QTableWidgetItem("confirmed by the pharmacy" if confirmed else "UNCONFIRMED")
        item.setFlags(
            (item.flags() | Qt.ItemFlag.ItemIsUserCheckable) & ~Qt.ItemFlag.ItemIsEditable
        )
        item.setCheckState(Qt.CheckState.Checked if confirmed else Qt.CheckState.Unchecked)
        self.dates.setItem(row, CONFIRMED_COLUMN, item)

    def _confirmed_dates(self, dates: dict[str, dt.date]) -> dict[str, dt.date]:
        """``PACK/VERSION`` → the date in force, for each ticked row (and the confirmations of
        versions no pack here marks, kept as they are)."""
        confirmed = dict(self.other_confirmed)
        for row, (pack, version_id, published) in enumerate(self.versions):
            item = self.dates.item(row, CONFIRMED_COLUMN)
            key = f"{pack}/{version_id}"
            ticked = item is not None and item.checkState() == Qt.CheckState.Checked
            if key in self.unconfirmed and ticked:
                confirmed[key] = dates.get(key, published)
        return confirmed

    def _cell(self, row: int, column: int) -> str:
        item = self.dates.item(row, column)
        return item.text() if item is not None else ""

    def collect(self) -> Settings:
        import msgspec

        from pharmacist_tool.settings import Settings

        problems: list[str] = []
        dates: dict[str, dt.date] = {}
        for row in range(self.dates.rowCount()):
            version_id = self._cell(row, 1)
            text = self._cell(row, 3).strip()
            if not text:
                continue
            try:
                dates[f"{self._cell(row, 0)}/{version_id}"] = dt.date.fromisoformat(text)
            except ValueError:
                problems.append(f"{version_id}: “{text}” is not a date (YYYY-MM-DD)")
        printer = self.printer.currentText().strip()
        if printer and printer not in self.available_printers:
            here = ", ".join(self.available_printers) or "none is set up (ask IT to add one)"
            problems.append(
                f"There is no printer called “{printer}” on this machine. Printers here: {here}. "
                "Leave it empty for the system's default printer."
            )
        if problems:
            raise UserError("Some settings are not valid:", details=problems)
        data = {
            "pharmacy_name": self.name.text().strip() or "Your pharmacy",
            "pharmacy_address": self.address.text().strip(),
            "pharmacy_phone": self.phone.text().strip(),
            "paper_size": self.paper.currentText(),
            "default_printer": self.printer.currentText().strip(),
            "idle_lock_minutes": self.idle.value(),
            "default_rule_set": self.rule_set.currentText(),
            "handout_language": self.language.currentData() or "en",
            "rule_effective_dates": {
                k: v.isoformat() for k, v in sorted({**self.other_dates, **dates}.items())
            },
            "confirmed_rule_dates": {
                k: v.isoformat() for k, v in sorted(self._confirmed_dates(dates).items())
            },
        }
        try:
            return msgspec.convert(data, Settings)
        except msgspec.ValidationError as error:
            raise UserError(f"A setting is not valid: {error}") from error

    def save(self) -> None:
        try:
            settings = self.collect()
        except UserError as error:
            self.message.setText(f"✖ {error}")
            return
        problem = save_audited(self.db, self.user, self.settings, settings)
        if problem:
            self.message.setText(f"✖ {problem}")
            return
        self.accepted_settings.emit(settings)
        self.accept()


DATE_COLUMNS = ("Medicine", "Rule-set version", "Published from", "Takes effect", "Date confirmed")
CONFIRMED_COLUMN = 4
DATED_SETTINGS = ("rule_effective_dates", "confirmed_rule_dates")
"""Settings that map a rule version to a date: each version's change is audited on its own."""


def dates_unconfirmed_in_packs() -> set[str]:
    """``PACK/VERSION`` of every rule version whose pack marks its effective date unconfirmed."""
    from pharmacist_tool.knowledge import packs

    found: set[str] = set()
    for pack in packs.names():
        try:
            kb = packs.load(pack)
        except UserError:
            log.exception("loading pack %s for the settings", pack)
            continue
        found.update(
            f"{pack}/{v.id}"
            for rule_set in kb.rule_sets
            for v in rule_set.versions
            if v.effective_from_unconfirmed
        )
    return found


def every_rule_version() -> list[tuple[str, str, dt.date]]:
    """(pack, version id, the date it was published to take effect) of every pack's rule-set
    versions, as the pack says (not as this pharmacy's settings moved them)."""
    from pharmacist_tool.knowledge import packs

    found: list[tuple[str, str, dt.date]] = []
    for pack in packs.names():
        try:
            kb = packs.load(pack)
        except UserError:
            log.exception("loading pack %s for the settings", pack)
            continue
        for rule_set in kb.rule_sets:
            found.extend((pack, v.id, v.effective_from) for v in rule_set.versions)
    return found


def settings_changes(before: Settings, after: Settings) -> dict[str, dict[str, str]]:
    """Each setting that differs, with its value before and after (no patient data here)."""
    import msgspec

    old, new = msgspec.to_builtins(before), msgspec.to_builtins(after)
    changes: dict[str, dict[str, str]] = {}
    for name in sorted(set(old) | set(new)):
        if name in DATED_SETTINGS:
            dates_old, dates_new = old.get(name) or {}, new.get(name) or {}
            for key in sorted(set(dates_old) | set(dates_new)):
                if dates_old.get(key) != dates_new.get(key):
                    changes[f"{name}.{key}"] = {
                        "from": str(dates_old.get(key) or ""),
                        "to": str(dates_new.get(key) or ""),
                    }
        elif old.get(name) != new.get(name):
            changes[name] = {"from": str(old.get(name)), "to": str(new.get(name))}
    return changes


def save_audited(
    db: Database, user: AuthenticatedUser | str, before: Settings, after: Settings
) -> str | None:
    """Save the settings and audit the change to ``user`` (``settings-changed``, signed with the
    signed-in user's key); when the
    audit cannot be written the previous settings are put back. None when done, else why not."""
    from pharmacist_tool.records.writing import record_event
    from pharmacist_tool.settings import save_settings

    changes = settings_changes(before, after)
    try:
        save_settings(after)
    except OSError as error:
        return f"The settings could not be saved: {error.strerror or error}"
    if not changes:
        return None
    try:
        record_event(db, "settings-changed", user=user, detail={"changed": changes})
    except Exception as error:
        log.exception("auditing a settings change")
        try:
            save_settings(before)
        except OSError:
            log.exception("putting the previous settings back")
        return (
            "The change could not be written to the audit log "
            f"({type(error).__name__}); the settings were not changed."
        )
    return None


class PharmacyDialog(QDialog):
    """The first run: the pharmacy's name and phone, which every handout prints."""

    accepted_settings = Signal(object)

    def __init__(
        self,
        parent: QWidget | None,
        settings: Settings,
        db: Database,
        user: AuthenticatedUser | str,
    ) -> None:
        super().__init__(parent)
        from pharmacist_tool.settings import handout_details_missing

        self.settings = settings
        self.db, self.user = db, user
        self.setWindowTitle("The pharmacy on the handout")
        layout = QVBoxLayout(self)
        layout.addWidget(
            note(
                "Every handout tells the patient whom to call. Give this pharmacy's name and "
                "phone number (the rest is in Settings, Ctrl+,)."
            )
        )
        form = QFormLayout()
        missing = handout_details_missing(settings)
        self.name = QLineEdit("" if "pharmacy_name" in missing else settings.pharmacy_name)
        self.name.setMaxLength(120)
        self.phone = QLineEdit(settings.pharmacy_phone)
        self.phone.setMaxLength(60)
        add_row(form, "Pharmacy &name:", self.name, "As the patient knows it")
        add_row(form, "P&hone:", self.phone, "The number the patient calls")
        layout.addLayout(form)
        self.message = note()
        layout.addWidget(self.message)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("&Later")
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def save(self) -> None:
        import msgspec

        name, phone = self.name.text().strip(), self.phone.text().strip()
        if not name or not phone:
            self.message.setText("✖ Give both the pharmacy's name and its phone number.")
            return
        settings = msgspec.structs.replace(self.settings, pharmacy_name=name, pharmacy_phone=phone)
        problem = save_audited(self.db, self.user, self.settings, settings)
        if problem:
            self.message.setText(f"✖ {problem}")
            return
        self.accepted_settings.emit(settings)
        self.accept()


def open_records_dialog(window: WindowBase, database: str | None) -> QDialog:
    """The records view (``records_view.py``) in a dialog of its own, on this window's database."""
    dialog = QDialog(window)
    dialog.setWindowTitle("Records")
    fit_to_screen(dialog, 1100, 720)
    layout = QVBoxLayout(dialog)
    try:
        from pharmacist_tool.gui import signing
        from pharmacist_tool.gui.records_view import RecordsView

        records = RecordsView(
            signing.database(database), parent=dialog, user=window.user_name or None
        )

        def amend(record_id: int) -> None:  # in the session steps, the records view closed
            dialog.accept()
            window.amend_record(record_id)

        records.amend_requested.connect(amend)
        view: QWidget = records
    except UserError as error:
        view = note(f"The records cannot be opened: {error}")
    except Exception as error:  # the counter must keep working without the records view
        log.exception("opening the records view")
        view = note(f"The records cannot be shown here ({type(error).__name__}); see the log.")
    layout.addWidget(view, 1)
    row = QHBoxLayout()
    row.addStretch(1)
    close = QPushButton("Close  Esc")  # Alt+C is Copy head's
    close.setAutoDefault(False)
    close.clicked.connect(dialog.reject)
    row.addWidget(close)
    layout.addLayout(row)
    dialog.open()
    window.records_dialog = dialog
    return dialog


class FirstUserDialog(QDialog):
    """An empty records database: set up its first user, the pharmacist-in-charge (a pharmacist
    who also manages staff: adds the other pharmacists and technicians in Users, Alt+M)."""

    created = Signal(str)

    def __init__(self, parent: QWidget | None, database: str | None) -> None:
        super().__init__(parent)
        self.database = database
        self.password_check = PasswordCheck(self)
        self.setWindowTitle("Set up the pharmacist-in-charge")
        layout = QVBoxLayout(self)
        layout.addWidget(
            note(
                "No users are set up in the records database yet. The first user is the "
                "pharmacist-in-charge: a pharmacist who signs records and also manages staff "
                "(adds pharmacists and technicians in Users, Alt+M)."
            )
        )
        form = QFormLayout()
        self.username = QLineEdit()
        self.full_name = QLineEdit()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.repeat = QLineEdit()
        self.repeat.setEchoMode(QLineEdit.EchoMode.Password)
        add_row(form, "&User name:", self.username, "No spaces, e.g. klee")
        add_row(form, "&Full name:", self.full_name, "As printed with signatures, e.g. K. Lee")
        add_row(form, "&Password:", self.password, "At least 8 characters; a few words")
        add_row(form, "Re&peat password:", self.repeat, "The same password again")
        layout.addLayout(form)
        self.message = note()
        layout.addWidget(self.message)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("&Set up")
        buttons.accepted.connect(self.create_user)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.username.setFocus()

    def create_user(self) -> None:  # not ``create``: that is ``QWidget.create``
        if self.password.text() != self.repeat.text():
            self.message.setText("✖ The two passwords differ.")
            return
        if self.password_check.running:
            return
        from pharmacist_tool.gui import signing, staff

        database = self.database
        username, password = self.username.text().strip(), self.password.text()
        full_name = self.full_name.text()

        def work() -> str:  # the password is hashed in the worker (slow on purpose)
            user = staff.create_pharmacist_in_charge(
                signing.database(database), username, password, full_name=full_name
            )
            return str(user.username)

        self.password_check.start(
            work,
            self._created,
            self._not_created,
            busy=[w for w in self.findChildren(QWidget)],
            status=self.message,
            text="○ Setting up…",
        )

    def _created(self, username: str) -> None:
        self.created.emit(username)
        self.accept()

    def _not_created(self, error: Exception) -> None:
        if isinstance(error, UserError):
            self.message.setText(f"✖ {error}")
            return
        log.error("setting up the first user", exc_info=error)
        self.message.setText(f"✖ Not set up: an unexpected error ({type(error).__name__}).")
