"""Dialogs: the crash report, the settings, the records."""

from __future__ import annotations

import datetime as dt
import logging
import platform
import sys
from typing import Any

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
    """This machine's settings, saved atomically when accepted."""

    accepted_settings = Signal(object)

    def __init__(self, parent: QWidget | None, settings: Any, kb: Any) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.settings = settings
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

        layout.addWidget(QLabel("Rule-set versions: the date each takes effect at this pharmacy"))
        self.dates = QTableWidget(0, 3)
        self.dates.setHorizontalHeaderLabels(["Rule-set version", "Published from", "Takes effect"])
        self.dates.setAccessibleName("Rule-set effective dates")
        self.dates.setAccessibleDescription(
            "Edit the third column as YYYY-MM-DD; empty uses the published date"
        )
        self.dates.horizontalHeader().setStretchLastSection(True)
        versions = [
            (v.id, v.effective_from) for rs in getattr(kb, "rule_sets", []) for v in rs.versions
        ]
        self.pack = str(getattr(kb, "medicine", ""))
        self.own_versions = {version_id for version_id, _ in versions}
        # this pack's dates are written by version id (the ids are unique across packs); other
        # packs' confirmed dates are kept as they are
        self.other_dates = {
            key: day
            for key, day in settings.rule_effective_dates.items()
            if not (key in self.own_versions or key.startswith(f"{self.pack}/"))
        }
        for version_id, published in versions:
            row = self.dates.rowCount()
            self.dates.insertRow(row)
            item = QTableWidgetItem(version_id)
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
            self.dates.setItem(row, 0, item)
            item = QTableWidgetItem(published.isoformat())
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
            self.dates.setItem(row, 1, item)
            chosen = settings.rule_effective_dates.get(
                f"{self.pack}/{version_id}", settings.rule_effective_dates.get(version_id)
            )
            self.dates.setItem(row, 2, QTableWidgetItem(chosen.isoformat() if chosen else ""))
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

    def _cell(self, row: int, column: int) -> str:
        item = self.dates.item(row, column)
        return item.text() if item is not None else ""

    def collect(self) -> Any:
        import msgspec

        from pharmacist_tool.settings import Settings

        problems: list[str] = []
        dates: dict[str, dt.date] = {}
        for row in range(self.dates.rowCount()):
            version_id = self._cell(row, 0)
            text = self._cell(row, 2).strip()
            if not text:
                continue
            try:
                dates[version_id] = dt.date.fromisoformat(text)
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
        }
        try:
            return msgspec.convert(data, Settings)
        except msgspec.ValidationError as error:
            raise UserError(f"A setting is not valid: {error}") from error

    def save(self) -> None:
        from pharmacist_tool.settings import save_settings

        try:
            settings = self.collect()
            save_settings(settings)
        except UserError as error:
            self.message.setText(f"✖ {error}")
            return
        except OSError as error:
            self.message.setText(f"✖ The settings could not be saved: {error.strerror or error}")
            return
        self.accepted_settings.emit(settings)
        self.accept()


class PharmacyDialog(QDialog):
    """The first run: the pharmacy's name and phone, which every handout prints."""

    accepted_settings = Signal(object)

    def __init__(self, parent: QWidget | None, settings: Any) -> None:
        super().__init__(parent)
        from pharmacist_tool.settings import handout_details_missing

        self.settings = settings
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

        from pharmacist_tool.settings import save_settings

        name, phone = self.name.text().strip(), self.phone.text().strip()
        if not name or not phone:
            self.message.setText("✖ Give both the pharmacy's name and its phone number.")
            return
        settings = msgspec.structs.replace(self.settings, pharmacy_name=name, pharmacy_phone=phone)
        try:
            save_settings(settings)
        except OSError as error:
            self.message.setText(f"✖ The settings could not be saved: {error.strerror or error}")
            return
        self.accepted_settings.emit(settings)
        self.accept()


def open_records_dialog(window: Any, database: str | None) -> QDialog:
    """The records view (``records_view.py``) in a dialog of its own, on this window's database."""
    dialog = QDialog(window)
    dialog.setWindowTitle("Records")
    fit_to_screen(dialog, 1100, 720)
    layout = QVBoxLayout(dialog)
    try:
        from pharmacist_tool.gui import signing
        from pharmacist_tool.gui.records_view import RecordsView

        view: QWidget = RecordsView(
            signing.database(database), parent=dialog, user=window.user_name or None
        )
    except UserError as error:
        view = note(f"The records cannot be opened: {error}")
    except Exception as error:  # the counter must keep working without the records view
        log.exception("opening the records view")
        view = note(f"The records cannot be shown here ({type(error).__name__}); see the log.")
    layout.addWidget(view, 1)
    row = QHBoxLayout()
    row.addStretch(1)
    close = QPushButton("&Close  Esc")
    close.setAutoDefault(False)
    close.clicked.connect(dialog.reject)
    row.addWidget(close)
    layout.addLayout(row)
    dialog.open()
    window.records_dialog = dialog
    return dialog


class FirstUserDialog(QDialog):
    """An empty records database: set up its first user, the pharmacist-in-charge (a pharmacist
    who also manages staff: adds the other pharmacists and technicians in Users, Ctrl+U)."""

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
                "(adds pharmacists and technicians in Users, Ctrl+U)."
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
