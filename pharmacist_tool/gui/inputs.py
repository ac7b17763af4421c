"""Inputs that can be empty ("not entered yet") and never throw away what was typed.

Dates and numbers are typed into line edits: a keyboard user types ``2004-03-02`` or ``62``
straight away, an empty field means "not entered", and text that is not valid yet stays on screen
(and in the draft) with a message naming the field, instead of being replaced by a default.
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QStringListModel, Qt
from PySide6.QtWidgets import QCompleter, QLineEdit, QSpinBox, QWidget


class DateInput(QLineEdit):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setPlaceholderText("YYYY-MM-DD")
        self.setMaxLength(10)

    def value(self) -> dt.date | None:
        text = self.text().strip()
        if len(text) != 10:
            return None
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            return None

    def set_value(self, value: dt.date | None) -> None:
        self.setText(value.isoformat() if value else "")

    def problem(self, name: str) -> str | None:
        if not self.text().strip():
            return f"{name}: not entered"
        if self.value() is None:
            return f"{name}: “{self.text()}” is not a date (write it as YYYY-MM-DD)"
        return None


class NumberInput(QLineEdit):
    def __init__(
        self,
        unit: str = "",
        minimum: float = 0.0,
        maximum: float = 1e6,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.unit = unit
        self.minimum = minimum
        self.maximum = maximum
        self.setPlaceholderText(unit or "number")

    def value(self) -> float | None:
        text = self.text().strip().replace(",", ".")
        for suffix in (self.unit, self.unit.strip()):
            if suffix and text.lower().endswith(suffix.lower()):
                text = text[: -len(suffix)].strip()
        try:
            number = float(text)
        except ValueError:
            return None
        if not self.minimum < number <= self.maximum:
            return None
        return number

    def set_value(self, value: float | None) -> None:
        if value is None:
            self.setText("")
        else:
            self.setText(f"{value:g}")

    def problem(self, name: str) -> str | None:
        if not self.text().strip():
            return f"{name}: not entered"
        if self.value() is None:
            return (
                f"{name}: “{self.text()}” is not a number above {self.minimum:g} "
                f"and at most {self.maximum:g}"
            )
        return None


class CountInput(QSpinBox):
    """A whole number that starts as "Not entered" (the minimum) rather than a silent default."""

    def __init__(
        self, maximum: int, *, optional: bool = False, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setRange(-1 if optional else 0, maximum)
        self.optional = optional
        self.setSpecialValueText("Not given" if optional else "Not entered")
        self.setValue(self.minimum())

    def count(self) -> int | None:
        return None if self.value() == self.minimum() else self.value()

    def set_count(self, value: int | None) -> None:
        self.setValue(self.minimum() if value is None else value)


def attach_completer(edit: QLineEdit, words: list[str]) -> QCompleter:
    model = QStringListModel(words, edit)
    completer = QCompleter(model, edit)
    completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    completer.setFilterMode(Qt.MatchFlag.MatchContains)
    completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
    edit.setCompleter(completer)
    return completer


def set_completions(completer: QCompleter, words: list[str]) -> None:
    model = completer.model()
    if isinstance(model, QStringListModel):
        model.setStringList(words)
