"""The window's other promises: keyboard and accessibility, autosave of unfinished fields,
settings, crash handling, Qt messages, idle lock, sign-in, the handout, records, the CLI."""

from __future__ import annotations

import datetime as dt
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from pharmacist_tool import paths
from pharmacist_tool.counselling import drafts
from tests.conftest import EXAMPLE_FILES
from tests.gui.driver import (
    ALT,
    CTRL,
    Keyboard,
    answer_alcohol,
    choose_outcome,
    confirm_checklist,
    sign,
    wait_for_password_check,
)

pytestmark = pytest.mark.gui


def example(prefix: str) -> Path:
    return next(p for p in EXAMPLE_FILES if p.name.startswith(prefix))


def test_steps_by_shortcut_and_every_input_named(window: Any, qtbot: Any) -> None:
    kb = Keyboard(qtbot, window)
    window.open_case_file(example("01"))
    kb.settle()
    for number in range(1, 8):
        kb.step(number)
        assert window.current_step() == number - 1
    kb.press(Qt.Key.Key_Left, ALT)
    assert window.current_step() == 5
    kb.step(1)
    kb.next_step()
    assert window.current_step() == 1
    # Each step shows its state in words beside an icon.
    texts = [window.steps.item(i).text() for i in range(7)]
    assert all(any(w in t for w in ("done", "ready", "to do", "attention", "blocked", "not needed"))
               for t in texts), texts  # fmt: skip
    # Every input has an accessible name; every text field, list box and number a buddy label.
    buddies = {label.buddy() for label in window.findChildren(QLabel) if label.buddy()}
    for widget in window.findChildren(QWidget):
        if isinstance(widget, QLineEdit | QComboBox | QSpinBox | QAbstractButton):
            if widget.objectName().startswith("qt_"):
                continue  # Qt's own parts (the menu bar's overflow button)
            if widget.parent() is not None and type(widget.parent()).__name__ in (
                "QSpinBox", "CountInput", "QComboBox", "QScrollBar", "QTabBar",
            ):  # fmt: skip
                continue  # a box's own inner line edit or arrows
            if isinstance(widget, QLineEdit) and isinstance(widget.parent(), QSpinBox | QComboBox):
                continue
            name = widget.accessibleName() or (
                widget.text() if isinstance(widget, QAbstractButton) else ""
            )
            assert name, f"{widget!r} has no accessible name"
            if isinstance(widget, QLineEdit | QComboBox | QSpinBox):
                assert widget in buddies, f"{name} has no buddy label"


def test_new_session_unfinished_fields_come_back(window: Any, qtbot: Any) -> None:
    """Empty means not entered; half-typed text is kept as typed, never replaced by a default."""
    kb = Keyboard(qtbot, window)
    kb.press(Qt.Key.Key_N, CTRL)
    kb.type("Zoë Ångström")
    kb.tab()
    kb.type("2004-13-0")  # not a date yet
    kb.settle()
    assert any("Date of birth" in p and "not a date" in p for p in window.problems)
    assert any("Weight: not entered" in p for p in window.problems)
    assert window.assessment is None
    assert "Not signed" not in window.review.sign_message.text()
    window.close()

    from pharmacist_tool.gui.app import create_window

    again = create_window()
    qtbot.addWidget(again)
    with qtbot.waitSignal(again.first_painted):
        again.show()
    assert again.drafts_list.item(0).text().startswith("Session · step 1"), "no name at rest"
    again.resume_selected()
    if again.assessment_pending:
        with qtbot.waitSignal(again.assessed):
            pass
    page = again.pages[0]
    assert page.name.text() == "Zoë Ångström"
    assert page.dob.text() == "2004-13-0"
    assert page.weight.text() == ""
    assert page.pregnancy.currentIndex() == 0  # still "Not entered"
    assert again.pages[1].days.count() is None
    again.close()


def test_settings_dialog_saves_every_setting(
    window: Any, qtbot: Any, users: dict[str, str]
) -> None:
    from pharmacist_tool.settings import load_settings
    from tests.gui.counter import sign_in

    sign_in(qtbot, window, "admin")  # the settings are an administrator's
    kb = Keyboard(qtbot, window)
    window.open_case_file(example("01"))
    kb.settle()
    in_force = window.assessment.knowledge_base.rules_version
    kb.press(Qt.Key.Key_Comma, CTRL)
    dialog = window.settings_dialog
    qtbot.waitUntil(dialog.isVisible)
    dialog.name.setText("Corner Pharmacy")
    dialog.address.setText("1 High Street")
    dialog.phone.setText("555-0100")
    dialog.paper.setCurrentText("A4")
    dialog.printer.setCurrentText("")  # the system's default (test_printing: a named queue)
    dialog.idle.setValue(7)
    dialog.rule_set.setCurrentText("UK-PPP")
    dialog.language.setCurrentIndex(dialog.language.findData("es"))
    assert dialog.dates.rowCount() > 0
    row = next(
        r for r in range(dialog.dates.rowCount()) if dialog.dates.item(r, 1).text() == in_force
    )
    version = f"{dialog.dates.item(row, 0).text()}/{dialog.dates.item(row, 1).text()}"
    dialog.dates.item(row, 3).setText("2027-01-31")
    dialog.save()
    saved = load_settings()
    assert saved.pharmacy_name == "Corner Pharmacy"
    assert (saved.pharmacy_address, saved.pharmacy_phone) == ("1 High Street", "555-0100")
    assert (saved.paper_size, saved.default_printer) == ("A4", "")
    assert (saved.idle_lock_minutes, saved.default_rule_set, saved.handout_language) == (
        7, "UK-PPP", "es",
    )  # fmt: skip
    assert saved.rule_effective_dates == {version: dt.date(2027, 1, 31)}
    assert window.idle.interval() == 7 * 60_000
    # The version now takes effect after the session's date: the rules before it apply.
    kb.settle()
    assert window.assessment.knowledge_base.rules_version != in_force
    # A bad date is named and nothing is saved.
    kb.press(Qt.Key.Key_Comma, CTRL)
    dialog = window.settings_dialog
    dialog.dates.item(row, 3).setText("31/01/2027")
    dialog.save()
    assert "not a date" in dialog.message.text() and dialog.isVisible()
    assert load_settings().rule_effective_dates == {version: dt.date(2027, 1, 31)}
    dialog.reject()


def test_crash_hook_logs_saves_and_shows_versions(window: Any, qtbot: Any) -> None:
    from pharmacist_tool.gui.app import CrashHandler
    from pharmacist_tool.logs import LOG_FILE_NAME, setup_logging

    setup_logging()
    kb = Keyboard(qtbot, window)
    kb.press(Qt.Key.Key_N, CTRL)
    kb.type("Crash Test Patient")
    handler = CrashHandler()
    handler.window = window
    window.dirty = True
    seen: dict[str, str] = {}

    def look_and_copy() -> None:
        dialog = QApplication.activeModalWidget()
        seen["text"] = dialog.details.toPlainText()
        dialog.copy.click()
        seen["clipboard"] = QApplication.clipboard().text()
        dialog.accept()

    QTimer.singleShot(200, look_and_copy)
    try:
        raise RuntimeError("planted failure")
    except RuntimeError as error:
        handler(type(error), error, error.__traceback__)
    assert "planted failure" in seen["text"]
    for word in ("pharmacist-tool", "Qt ", "PySide6", "Python", "OS "):
        assert word in seen["text"]
    assert seen["clipboard"] == seen["text"]
    for h in logging.getLogger().handlers:
        h.flush()
    log = (paths.log_dir() / LOG_FILE_NAME).read_text(encoding="utf-8")
    assert "planted failure" in log and "Traceback" in log
    assert [m.patient_name for m in drafts.list_drafts()] == ["Crash Test Patient"]


def test_qt_warnings_go_to_the_log(caplog: Any) -> None:
    from PySide6.QtCore import qInstallMessageHandler, qWarning

    from pharmacist_tool.gui.app import _qt_message_handler

    previous = qInstallMessageHandler(_qt_message_handler)
    try:
        with caplog.at_level(logging.WARNING, logger="qt"):
            qWarning("planted Qt warning")
    finally:
        qInstallMessageHandler(previous)
    assert any("planted Qt warning" in r.getMessage() for r in caplog.records)


def test_idle_lock_hides_patient_and_asks_password(
    window: Any, qtbot: Any, users: dict[str, str]
) -> None:
    kb = Keyboard(qtbot, window)
    window.login_user.setText(users["pharmacist"])
    window.login_password.setText(users["password"])
    window.sign_in()
    wait_for_password_check(qtbot, window)
    assert "K. Lee" in window.login_status.text()
    window.open_case_file(example("01"))
    kb.settle()
    kb.step(4)
    window.idle.setInterval(150)  # minutes in use; a short pause here
    window.idle.start()
    qtbot.waitUntil(lambda: window.stack.currentIndex() == 2, timeout=5000)
    assert not window.banner_patient.isVisible() and not window.pages[0].isVisible()
    assert "Ana" not in window.windowTitle()
    assert window.focusWidget() is window.unlock_password
    kb.type("wrong password")
    kb.press(Qt.Key.Key_Return)
    wait_for_password_check(qtbot, window)
    assert window.stack.currentIndex() == 2 and "Wrong" in window.unlock_message.text()
    kb.type(users["password"])
    kb.press(Qt.Key.Key_Return)
    wait_for_password_check(qtbot, window)
    assert window.stack.currentIndex() == 1 and window.current_step() == 3
    assert window.banner_patient.isVisible()
    kb.press(Qt.Key.Key_Q, CTRL | Qt.KeyboardModifier.ShiftModifier)  # sign out
    assert window.user is None and "Nobody signed in" in window.counter_label.text()
    assert window.stack.currentIndex() == 0, "signing out takes the patient off the screen"


def test_technician_prepares_pharmacist_signs_with_the_previewed_handout(
    window: Any, qtbot: Any, users: dict[str, str]
) -> None:
    from pharmacist_tool.records.db import open_database
    from pharmacist_tool.records.reading import get_handout, get_record

    window.login_user.setText(users["technician"])
    window.login_password.setText(users["password"])
    window.sign_in()
    wait_for_password_check(qtbot, window)
    window.open_case_file(example("01"))
    kb = Keyboard(qtbot, window)
    kb.settle()
    answer_alcohol(kb)
    confirm_checklist(kb)
    choose_outcome(kb, "handed-over")
    kb.press(Qt.Key.Key_P, CTRL)
    dialog = window.handout_dialog
    qtbot.waitUntil(lambda: dialog.handout is not None, timeout=30_000)
    assert len(dialog.images) >= 1
    import pypdfium2

    assert len(dialog.images) == len(pypdfium2.PdfDocument(dialog.handout.pdf))
    shown = dialog.handout
    dialog.reject()
    # A change that alters the handout after the preview: signing waits for a new preview.
    window.review.large_print.setChecked(True)
    sign(kb, users["pharmacist"], users["password"])
    assert "preview and print it again" in window.review.sign_message.text()
    window.review.large_print.setChecked(False)
    with qtbot.waitSignal(window.signed, timeout=30_000) as signed:
        sign(kb, users["pharmacist"], users["password"])
    record_id = int(signed.args[0])
    with open_database() as db:
        record = get_record(db, record_id)
        assert record.prepared_by == users["technician"]
        assert get_handout(db, record_id).pdf == shown.pdf


def test_print_is_true_size(tmp_path: Path, qtbot: Any) -> None:
    """The handout drawn on a printer (here a PDF printer) keeps its paper size exactly."""
    import pypdf
    from PySide6.QtGui import QPageLayout, QPageSize
    from PySide6.QtPrintSupport import QPrinter

    from pharmacist_tool.case import load_case
    from pharmacist_tool.engine import assess
    from pharmacist_tool.gui.handout_view import print_pdf
    from pharmacist_tool.handout import render_handout
    from pharmacist_tool.knowledge import load_for_counter
    from pharmacist_tool.settings import Settings

    case = load_case(example("01"))
    kb = load_for_counter()
    for paper, size, points in (
        ("A4", QPageSize.PageSizeId.A4, (595.3, 841.9)),
        ("Letter", QPageSize.PageSizeId.Letter, (612.0, 792.0)),
    ):
        handout = render_handout(case, assess(case, kb), kb, Settings(), paper=paper)
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        out = tmp_path / f"printed-{paper}.pdf"
        printer.setOutputFileName(str(out))
        printer.setPageSize(QPageSize(size))
        printer.setPageOrientation(QPageLayout.Orientation.Portrait)
        printer.setFullPage(True)
        print_pdf(printer, handout.pdf)
        printed = pypdf.PdfReader(out)
        source = pypdf.PdfReader(__import__("io").BytesIO(handout.pdf))
        assert len(printed.pages) == len(source.pages)
        box = printed.pages[0].mediabox
        assert abs(float(box.width) - points[0]) < 1.5 and abs(float(box.height) - points[1]) < 1.5


def test_records_open_from_the_start_screen(window: Any, qtbot: Any, users: dict[str, str]) -> None:
    from tests.gui.counter import sign_in

    sign_in(qtbot, window, users["technician"])  # any member of staff, once signed in
    kb = Keyboard(qtbot, window)
    kb.press(Qt.Key.Key_R, CTRL)
    dialog = window.records_dialog
    qtbot.waitUntil(dialog.isVisible)
    from pharmacist_tool.gui.records_view import RecordsView

    assert dialog.findChildren(RecordsView)
    dialog.reject()


def test_smoke_opens_paints_and_exits(tmp_path: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", paths.HOME_ENV: str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "pharmacist_tool", "gui", "--smoke"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("first paint after ")
    assert not list((tmp_path / "data" / "drafts").glob("*.json")), "the smoke leaves no draft"


def test_no_display_exits_2_with_one_line() -> None:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "pharmacist_tool"],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "display" in done.stderr.lower() and "Abort" not in done.stderr


def test_a_finding_shows_the_line_it_concerns(window: Any, qtbot: Any) -> None:
    kb = Keyboard(qtbot, window)
    window.open_case_file(example("02"))
    kb.settle()
    kb.step(1)
    item = window.findings.items["interaction.tetracyclines"]
    assert "step 4" in item.jump.text()
    item.jump.setFocus()
    kb.press(Qt.Key.Key_Space)
    assert window.current_step() == 3
    editor = window.pages[3].editor
    assert kb.focus is editor.list
    assert editor.values[editor.list.currentRow()] == "doxycycline 100 mg once a day"
    assert "tetracycline" in editor.list.currentItem().text()
    # Delete removes the line; the block goes with it, and the draft keeps the change.
    kb.press(Qt.Key.Key_Delete)
    kb.settle()
    assert "interaction.tetracyclines" not in window.findings.items
    assert drafts.load_draft(window.meta.id).case.medicines == ["cetirizine"]


def test_tab_order_goes_page_then_findings_then_buttons(window: Any, qtbot: Any) -> None:
    kb = Keyboard(qtbot, window)
    window.open_case_file(example("05"))
    kb.settle()
    kb.step(2)
    page = window.pages[1]
    order = []
    for _ in range(40):
        order.append(kb.focus)
        kb.tab()
        if kb.focus is page.authorization:
            break
    assert order[0] is page.authorization
    page_part = [w for w in order if page.isAncestorOf(w)]
    assert order[: len(page_part)] == page_part, "the page's fields come first, in a row"
    buttons = [window.next_button, window.back_button, window.preview_button, window.sign_button]
    after = order[len(page_part) : len(page_part) + 4]
    assert after == buttons, "then Next first: Space after the last field moves on"
    findings = window.findings.focus_widgets()
    rest = order[len(page_part) + 4 :]
    assert rest[: len(findings)] == findings, "then the findings: each resolution box, its button"
    assert window.steps in rest, "and round through the step list back to the page"


def test_tab_and_space_after_the_last_counselling_point_go_to_the_next_step(
    window: Any, qtbot: Any
) -> None:
    kb = Keyboard(qtbot, window)
    window.open_case_file(example("02"))
    kb.settle()
    kb.step(5)
    page = window.pages[4]
    for item_id in page.ids:
        assert kb.focus is page.boxes[item_id]
        kb.press(Qt.Key.Key_Space)
        kb.tab()
    assert kb.focus is window.next_button
    kb.press(Qt.Key.Key_Space)
    assert window.current_step() == 5, "step 6, the next one, not a finding's step"


def test_a_hard_crash_is_reported_on_the_next_start(isolated_home: Path) -> None:
    """faulthandler keeps the trace of a crash inside Qt; the next start says so."""
    crash = (
        "import faulthandler, os\n"
        "from pharmacist_tool.gui.app import watch_for_hard_crashes\n"
        "watch_for_hard_crashes()\n"
        "faulthandler._sigsegv()\n"
    )
    env = {**os.environ, paths.HOME_ENV: str(isolated_home)}
    done = subprocess.run([sys.executable, "-c", crash], env=env, capture_output=True, timeout=60)
    assert done.returncode != 0
    import faulthandler

    from pharmacist_tool.gui.app import watch_for_hard_crashes

    try:
        note = watch_for_hard_crashes()
        assert "stopped abruptly last time" in note
        kept = paths.log_dir() / "window-fault.previous.log"
        assert "Fatal Python error" in kept.read_text(encoding="utf-8")
        assert watch_for_hard_crashes() == ""  # started afresh
    finally:
        faulthandler.enable(sys.stderr)  # back to where the test run had it


def test_open_a_case_file_and_save_the_handout(
    window: Any, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtWidgets import QFileDialog

    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "pharmacist-tool/case@1", "rule_set": "US-iPLEDGE"}')
    chosen = [str(bad)]
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (chosen[0], ""))
    kb = Keyboard(qtbot, window)
    kb.press(Qt.Key.Key_O, CTRL)
    assert "counselled_on" in window.message_box.text() or "required" in window.message_box.text()
    assert window.case is None, "a bad file opens nothing"
    window.message_box.accept()
    chosen[0] = str(example("06"))
    kb.press(Qt.Key.Key_O, CTRL)
    kb.settle()
    assert window.case.patient.name == "Olivia Bennett"

    out = tmp_path / "handout.pdf"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
    kb.press(Qt.Key.Key_P, CTRL)
    dialog = window.handout_dialog
    qtbot.waitUntil(lambda: dialog.handout is not None, timeout=30_000)
    dialog.save_button.click()
    assert out.read_bytes() == dialog.handout.pdf
    assert "Saved" in dialog.status.text()
    dialog.reject()


def test_start_up_imports_neither_the_database_nor_the_pdf_libraries(tmp_path: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", paths.HOME_ENV: str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "pharmacist_tool", "gui", "--smoke"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
    for heavy in ("sqlalchemy", "reportlab", "alembic", "pypdfium2", "argon2"):
        assert heavy not in imported, f"{heavy} is imported before the first paint"
    assert "PySide6.QtWidgets" in imported


MY_MODULES = ["app", "dialogs", "findings", "handout_view", "inputs", "lock_screen", "pages",
              "printing", "services", "session_screen", "signing", "staff", "start_screen",
              "users_view", "widgets", "window"]  # fmt: skip


def test_colours_come_from_the_palette_and_sizes_from_the_font(qtbot: Any) -> None:
    """No colour, style sheet or fixed font size is written into the window's code; headings
    scale the system font; filled panels use a palette role, so dark palettes just work."""
    import re

    from PySide6.QtGui import QFont, QPalette

    from pharmacist_tool.gui.widgets import frame_style, heading

    source = Path(__file__).resolve().parents[2] / "pharmacist_tool" / "gui"
    for name in MY_MODULES:
        text = (source / f"{name}.py").read_text(encoding="utf-8")
        assert "setStyleSheet" not in text and "QColor(" not in text, name
        assert not re.search(r"#[0-9a-fA-F]{6}\b", text), name
        assert "setPixelSize" not in text and not re.search(r"setPointSize\(\d", text), name
    app = QApplication.instance()
    before = app.font()
    try:
        big = QFont(before)
        big.setPointSizeF(20)
        app.setFont(big)
        label = heading("Title")
        assert label.font().pointSizeF() > 20
        panel = QWidget()
        qtbot.addWidget(panel)
        frame_style(panel)
        assert panel.backgroundRole() == QPalette.ColorRole.AlternateBase
        assert panel.autoFillBackground()
    finally:
        app.setFont(before)


def test_pregnancy_step_tests_methods_and_abstinence(window: Any, qtbot: Any) -> None:
    """Example 03 (minipill + condoms: no primary method). Remove the minipill with Del and
    record committed abstinence with Space: the programme block goes; a positive test blocks."""
    kb = Keyboard(qtbot, window)
    window.open_case_file(example("03"))
    kb.settle()
    assert "contraception.rule-not-met" in window.findings.items
    kb.step(3)
    page = window.pages[2]
    assert "not acceptable" in page.methods.list.item(0).text()
    assert "secondary" in page.methods.list.item(1).text()
    kb.press(Qt.Key.Key_M, ALT)
    kb.tab(2)  # past Add method, into the list
    assert kb.focus is page.methods.list
    kb.press(Qt.Key.Key_Home)
    kb.press(Qt.Key.Key_Delete)
    assert page.methods.values == ["male condoms"]
    kb.press(Qt.Key.Key_B, ALT)  # a check box's mnemonic ticks it (after a short animation)
    assert kb.focus is page.abstinence
    qtbot.waitUntil(page.abstinence.isChecked, timeout=2000)
    kb.settle()
    assert any("abstinen" in m.lower() for m in window.case.contraception)
    assert "contraception.rule-not-met" not in window.findings.items
    # A positive test, typed and added from the keyboard, stands between patient and medicine.
    kb.press(Qt.Key.Key_T, ALT)
    kb.type(window.case.counselled_on.isoformat())
    kb.tab()
    kb.choose("positive")
    kb.tab()
    kb.press(Qt.Key.Key_Space)
    kb.settle()
    assert window.case.pregnancy_tests[-1].result == "positive"
    assert window.assessment.dispense == "do-not-dispense"
    assert any(f.severity == "block" and f.stands for f in window.assessment.findings)
