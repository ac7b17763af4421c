"""Keyboard and screen: every screen and dialog walked for Alt+letter clashes, the window's
shortcuts checked against the keys a text box keeps for itself, the next-visit screen at
1024×768 with Sign and the findings in view, and a new user's role chosen, never defaulted."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QAbstractButton, QGroupBox, QLabel, QWidget

from tests.gui.counter import sign_in
from tests.gui.driver import wait_for_password_check
from tests.gui.test_course_window import _sign_first_visit

pytestmark = pytest.mark.gui

# The keys a line edit takes before any window shortcut (Qt's QWidgetLineControl accepts the
# shortcut override for these), on this platform's key scheme…
TEXT_BOX_KEYS = [
    QKeySequence.StandardKey.Copy,
    QKeySequence.StandardKey.Paste,
    QKeySequence.StandardKey.Cut,
    QKeySequence.StandardKey.Undo,
    QKeySequence.StandardKey.Redo,
    QKeySequence.StandardKey.SelectAll,
    QKeySequence.StandardKey.DeleteCompleteLine,
    QKeySequence.StandardKey.MoveToNextWord,
    QKeySequence.StandardKey.MoveToPreviousWord,
    QKeySequence.StandardKey.MoveToStartOfLine,
    QKeySequence.StandardKey.MoveToEndOfLine,
    QKeySequence.StandardKey.MoveToStartOfBlock,
    QKeySequence.StandardKey.MoveToEndOfBlock,
    QKeySequence.StandardKey.MoveToStartOfDocument,
    QKeySequence.StandardKey.MoveToEndOfDocument,
    QKeySequence.StandardKey.SelectNextWord,
    QKeySequence.StandardKey.SelectPreviousWord,
    QKeySequence.StandardKey.SelectStartOfLine,
    QKeySequence.StandardKey.SelectEndOfLine,
    QKeySequence.StandardKey.SelectStartOfDocument,
    QKeySequence.StandardKey.SelectEndOfDocument,
    QKeySequence.StandardKey.DeleteStartOfWord,
    QKeySequence.StandardKey.DeleteEndOfWord,
    QKeySequence.StandardKey.DeleteEndOfLine,
]
# …and on the X11 desktops (KDE, GNOME) the counters run, whatever scheme the test platform has.
X11_TEXT_BOX_KEYS = ["Ctrl+U", "Ctrl+K", "Ctrl+Shift+Z", "Shift+Del", "Shift+Ins", "Ctrl+Ins"]


def _mnemonic(text: str) -> str | None:
    found = re.search(r"&([^&])", text.replace("&&", ""))
    return found.group(1).lower() if found else None


def _mnemonic_clashes(top: QWidget) -> dict[str, list[str]]:
    """Alt+letters used twice among what ``top`` shows now (its menu bar included)."""
    seen: dict[str, list[str]] = defaultdict(list)
    for widget in [top, *top.findChildren(QWidget)]:
        if not widget.isVisible() or widget.window() is not top:
            continue
        text = ""
        if (isinstance(widget, QLabel) and widget.buddy() is not None) or isinstance(
            widget, QAbstractButton
        ):
            text = widget.text()
        elif isinstance(widget, QGroupBox) and widget.isCheckable():
            text = widget.title()
        letter = _mnemonic(text)
        if letter:
            seen[letter].append(text)
    menu_bar = getattr(top, "menuBar", None)
    if menu_bar is not None and menu_bar().isVisible():
        for menu in menu_bar().actions():
            letter = _mnemonic(menu.text())
            if letter:
                seen[letter].append(f"menu {menu.text()}")
    return {letter: texts for letter, texts in seen.items() if len(texts) > 1}


def _settle(qtbot: Any) -> None:
    qtbot.wait(20)


def test_no_screen_or_dialog_has_two_fields_on_one_alt_letter(
    window: Any, qtbot: Any, users: dict[str, str]
) -> None:
    record_id = _sign_first_visit(users["pharmacist"], users["password"], 29, "IP-9", "Ana Ruiz")
    found: dict[str, dict[str, list[str]]] = {}
    _settle(qtbot)
    found["start, nobody signed in"] = _mnemonic_clashes(window)
    sign_in(qtbot, window, "admin")
    found["start, an administrator signed in"] = _mnemonic_clashes(window)
    window.returning.who.setText("IP-9")
    window.returning.look_up()
    _settle(qtbot)
    found["start, a returning patient found"] = _mnemonic_clashes(window)

    from pharmacist_tool.gui.course_panel import start_next_visit

    # the next visit's prescription date is this visit's to enter: assessed as in progress
    with qtbot.waitSignal(window.assessed, timeout=30_000):
        assert start_next_visit(window, record_id)
    for step in range(7):
        window.go_step(step)
        _settle(qtbot)
        found[f"next visit, step {step + 1}"] = _mnemonic_clashes(window)
    window.show_start()

    window.open_records()
    records = window.records_dialog
    qtbot.waitUntil(records.isVisible)
    found["records"] = _mnemonic_clashes(records)
    from pharmacist_tool.gui.records_view import RecordsView

    view = records.findChild(RecordsView)
    one = view.open_record(record_id)
    qtbot.waitUntil(one.isVisible)
    found["one record"] = _mnemonic_clashes(one)
    one.reject()
    export = view.export()
    qtbot.waitUntil(export.isVisible)
    found["export"] = _mnemonic_clashes(export)
    export.reject()
    records.reject()

    window.open_settings()
    qtbot.waitUntil(window.settings_dialog.isVisible)
    found["settings"] = _mnemonic_clashes(window.settings_dialog)
    window.settings_dialog.reject()
    window.open_users()
    qtbot.waitUntil(window.users_dialog.isVisible)
    found["users"] = _mnemonic_clashes(window.users_dialog)
    window.users_dialog.reject()
    window.ask_pharmacy_details()
    qtbot.waitUntil(window.pharmacy_dialog.isVisible)
    found["the pharmacy on the handout"] = _mnemonic_clashes(window.pharmacy_dialog)
    window.pharmacy_dialog.reject()

    window.lock()
    _settle(qtbot)
    found["locked"] = _mnemonic_clashes(window)
    assert {screen: clash for screen, clash in found.items() if clash} == {}


def test_no_window_shortcut_is_a_key_a_text_box_keeps(window: Any) -> None:
    taken = {
        binding.toString() for key in TEXT_BOX_KEYS for binding in QKeySequence.keyBindings(key)
    } | set(X11_TEXT_BOX_KEYS)
    shortcuts: dict[str, list[str]] = defaultdict(list)
    for action in window.findChildren(QAction):
        for sequence in action.shortcuts():
            shortcuts[sequence.toString()].append(action.text())
    assert shortcuts, "the window has shortcuts"
    assert {key: names for key, names in shortcuts.items() if key in taken} == {}
    assert {key: names for key, names in shortcuts.items() if len(names) > 1} == {}


def _inside(widget: QWidget, window: QWidget) -> bool:
    """Wholly within the window's area (not cut off at its edge)."""
    top_left = widget.mapTo(window, QPoint(0, 0))
    return (
        top_left.x() >= 0
        and top_left.y() >= 0
        and top_left.x() + widget.width() <= window.width()
        and top_left.y() + widget.height() <= window.height()
    )


def test_the_next_visit_fits_1024_by_768_with_sign_and_the_findings_in_view(
    window: Any, qtbot: Any, users: dict[str, str], tmp_path: Any
) -> None:
    from pharmacist_tool.gui.course_panel import start_next_visit

    record_id = _sign_first_visit(users["pharmacist"], users["password"], 29, "IP-8", "Eva Diaz")
    sign_in(qtbot, window, users["pharmacist"])
    # the next visit's prescription date is this visit's to enter: assessed as in progress
    with qtbot.waitSignal(window.assessed, timeout=30_000):
        assert start_next_visit(window, record_id)
    assert window.carried.isVisible()
    window.resize(1024, 768)
    qtbot.waitUntil(lambda: window.width() == 1024 and window.height() == 768)
    window.go_step(6)
    _settle(qtbot)
    hint = window.minimumSizeHint()
    assert hint.width() <= 1024 and hint.height() <= 768, hint
    for part in (window.sign_button, window.next_button, window.findings, window.pages_stack):
        assert part.isVisible() and _inside(part, window), part
    for box in window.carried.boxes.values():  # every carried fact can be reached and read
        assert box.isVisibleTo(window)
    image = window.grab()
    assert (image.width(), image.height()) == (1024, 768)
    image.save(str(tmp_path / "next-visit-1024x768.png"))  # kept with the test's files


def test_a_new_users_role_is_chosen_never_defaulted(
    window: Any, qtbot: Any, users: dict[str, str]
) -> None:
    from pharmacist_tool.gui import staff

    sign_in(qtbot, window, "admin")
    window.open_users()
    dialog = window.users_dialog
    qtbot.waitUntil(dialog.isVisible)
    assert dialog.new_role.currentData() == "", "no role until one is chosen"
    assert dialog.new_role.currentText() == "Choose a role…"
    dialog.username.setText("jdoe")
    dialog.password.setText("a long enough phrase")
    dialog.repeat.setText("a long enough phrase")
    dialog.own_password.setText(users["password"])
    dialog.add_user()
    assert "choose the new user's role" in dialog.message.text()
    assert "jdoe" not in [u.username for u in staff.list_staff(dialog.db)]
    dialog.new_role.setCurrentIndex(dialog.new_role.findData("technician"))
    dialog.add_user()
    wait_for_password_check(qtbot, dialog)
    assert dialog.message.text() == "✓ jdoe added as technician.", dialog.message.text()
    assert dialog.new_role.currentData() == "", "the next user's role is chosen afresh"
    dialog.reject()
