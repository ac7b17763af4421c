"""The findings panel: beside every step, updated from the engine on each change.

Severity is shown by an icon and a word, never colour alone. Each ``warn`` and clinical ``block``
takes the pharmacist's resolution: what was done, chosen from the cited answers, and a note; a
note alone clears nothing. A programme block has no resolution box and says why.
Widgets are kept per finding code and updated in place, so typing a resolution never loses focus.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from pharmacist_tool.case import Resolution, resolution_answers
from pharmacist_tool.gui.widgets import (
    SEVERITY_ORDER,
    bold,
    frame_style,
    heading,
    note,
    severity_text,
)

if TYPE_CHECKING:
    from pharmacist_tool.engine.assessment import Assessment, Finding

DISPENSE_WORDS = {
    "do-not-dispense": "✖ Do not hand over",
    "needs-action": "⚠ Needs action before handing over",
    "ok": "✓ Ready to hand over",
}

PROGRAMME_BLOCK_WHY = (
    "Programme rule: this cannot be overridden. The medicine cannot be handed over until it is "
    "put right (for example a new test, prescription or authorization)."
)


NO_ANSWER = "— choose what was done —"


class FindingItem(QFrame):
    resolution_changed = Signal(str, str, str)
    """code, the answer chosen (its id; empty: none), the note."""
    go_to = Signal(str)

    def __init__(self, finding: Finding, step_label: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.code = finding.code
        self.setFrameShape(QFrame.Shape.StyledPanel)
        frame_style(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        top = QHBoxLayout()
        self.severity = QLabel()
        bold(self.severity)
        self.subject = QLabel()
        self.subject.setWordWrap(True)
        top.addWidget(self.severity)
        top.addWidget(self.subject, 1)
        layout.addLayout(top)
        self.message = note()
        self.action = note()
        layout.addWidget(self.message)
        layout.addWidget(self.action)
        self.why = note(PROGRAMME_BLOCK_WHY)
        bold(self.why)
        layout.addWidget(self.why)
        self.resolution_label = QLabel("What was done (Ctrl+F goes to the first):")
        self.answers = [a.id for a in resolution_answers().actions]
        self.answer = QComboBox()
        self.answer.addItems([NO_ANSWER, *(a.words for a in resolution_answers().actions)])
        self.resolution_label.setBuddy(self.answer)
        self.resolution = QLineEdit()
        self.resolution.setPlaceholderText("Who, when, what was agreed")
        self.note_label = QLabel("Note:")
        self.note_label.setBuddy(self.resolution)
        self.answer.activated.connect(self._emit)
        self.answer.currentIndexChanged.connect(self._emit)
        self.resolution.textEdited.connect(self._emit)
        layout.addWidget(self.resolution_label)
        layout.addWidget(self.answer)
        note_row = QHBoxLayout()
        note_row.addWidget(self.note_label)
        note_row.addWidget(self.resolution, 1)
        layout.addLayout(note_row)
        self.jump = QPushButton()
        self.jump.setAutoDefault(False)
        self.jump.clicked.connect(lambda: self.go_to.emit(self.code))
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.jump)
        layout.addLayout(row)
        self.update_from(finding, step_label, None)

    def _emit(self, *_args: object) -> None:
        index = self.answer.currentIndex()
        action = self.answers[index - 1] if index > 0 else ""
        self.resolution_changed.emit(self.code, action, self.resolution.text())

    def update_from(
        self, finding: Finding, step_label: str, given: str | Resolution | None
    ) -> None:
        f = finding
        sev = f.severity
        stands = f.stands
        state = "" if sev == "info" else (" — open" if stands else " — resolved")
        self.severity.setText(severity_text(sev) + state)
        subject = f.subject or ""
        self.subject.setText(f"“{subject}”" if subject else f.category)
        self.message.setText(f.message)
        action = f.action
        self.action.setText(f"What to do: {action}" if action else "")
        self.action.setVisible(bool(action))
        programme_block = sev == "block" and f.programme_rule
        self.why.setVisible(programme_block)
        needs = f.needs_resolution
        self.resolution_label.setVisible(needs)
        self.answer.setVisible(needs)
        self.note_label.setVisible(needs)
        self.resolution.setVisible(needs)
        self.answer.setAccessibleName(f"What was done about {f.code}")
        self.resolution.setAccessibleName(f"Resolution for {f.code}")
        if needs:
            self._show_given(given)
        self.jump.setText(f"Show in {step_label}")
        self.jump.setAccessibleName(f"Show {f.code} in {step_label}")
        self.setAccessibleName(f"{severity_text(sev)}{state}: {f.message}")

    def _show_given(self, given: str | Resolution | None) -> None:
        """The stored resolution: the answer and its note; older plain text as the note."""
        action = given.action if isinstance(given, Resolution) else ""
        text = given.note if isinstance(given, Resolution) else (given or "")
        index = self.answers.index(action) + 1 if action in self.answers else 0
        if self.answer.currentIndex() != index and not self.answer.hasFocus():
            self.answer.blockSignals(True)
            self.answer.setCurrentIndex(index)
            self.answer.blockSignals(False)
        if given is not None and self.resolution.text() != text and not self.resolution.hasFocus():
            self.resolution.setText(text)


class FindingsPanel(QWidget):
    resolution_changed = Signal(str, str, str)
    go_to = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Findings")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(heading("Findings", 2))
        self.verdict = QLabel()
        bold(self.verdict)
        self.verdict.setWordWrap(True)
        self.verdict.setAccessibleName("Verdict")
        outer.addWidget(self.verdict)
        self.problems = note()
        self.problems.setAccessibleName("Not complete")
        outer.addWidget(self.problems)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Tab goes to the boxes, not the frame
        body = QWidget()
        self.list = QVBoxLayout(body)
        self.list.setContentsMargins(0, 0, 4, 0)
        self.list.addStretch(1)
        scroll.setWidget(body)
        outer.addWidget(scroll, 1)
        self.items: dict[str, FindingItem] = {}

    def show_problems(self, problems: list[str]) -> None:
        """The case is not complete enough to assess: say what is missing, drop stale findings."""
        self.verdict.setText("○ Not assessed yet")
        self.problems.setText(
            "Complete these to see the checks:\n" + "\n".join(f"• {p}" for p in problems)
        )
        self.problems.setVisible(bool(problems))
        self._set_items([], {}, {})

    def show_assessment(
        self,
        assessment: Assessment,
        step_labels: dict[str, str],
        resolutions: dict[str, str | Resolution],
    ) -> None:
        a = assessment
        open_blocks = sum(f.stands and f.severity == "block" for f in a.findings)
        open_warns = sum(f.stands and f.severity == "warn" for f in a.findings)
        points = sum(e.required and not e.done for e in a.checklist)
        still = [
            f"{open_blocks} block{'s' * (open_blocks != 1)}" if open_blocks else "",
            f"{open_warns} warning{'s' * (open_warns != 1)} to resolve" if open_warns else "",
            f"{points} counselling point{'s' * (points != 1)} to confirm" if points else "",
        ]
        still_text = ", ".join(p for p in still if p)
        self.verdict.setText(
            DISPENSE_WORDS.get(a.dispense, a.dispense)
            + (f"\nStill open: {still_text}" if still_text else "")
        )
        self.problems.setVisible(False)
        # By severity only (stable): a finding does not jump away while its resolution is typed.
        findings = sorted(
            assessment.findings,
            key=lambda f: SEVERITY_ORDER.get(f.severity, 9),
        )
        self._set_items(findings, step_labels, resolutions)

    def _set_items(
        self,
        findings: list[Finding],
        step_labels: dict[str, str],
        resolutions: dict[str, str | Resolution],
    ) -> None:
        wanted = [f.code for f in findings]
        for code in list(self.items):
            if code not in wanted:
                gone = self.items.pop(code)
                self.list.removeWidget(gone)
                gone.hide()
                gone.deleteLater()
        for index, finding in enumerate(findings):
            code = finding.code
            label = step_labels.get(code, "")
            item = self.items.get(code)
            if item is None:
                item = FindingItem(finding, label)
                item.update_from(finding, label, resolutions.get(code))
                item.resolution_changed.connect(self.resolution_changed)
                item.go_to.connect(self.go_to)
                self.items[code] = item
            else:
                item.update_from(finding, label, resolutions.get(code))
            if self.list.indexOf(item) != index:
                self.list.removeWidget(item)
                self.list.insertWidget(index, item)
            item.show()  # now, not at the next turn of the event loop (Tab can reach it at once)

    def focus_widgets(self) -> list[QWidget]:
        """The panel's inputs in display order (for the tab chain)."""
        result: list[QWidget] = []
        for i in range(self.list.count()):
            entry = self.list.itemAt(i)
            widget = entry.widget() if entry is not None else None
            if isinstance(widget, FindingItem):
                if widget.resolution.isVisibleTo(widget):
                    result += [widget.answer, widget.resolution]
                result.append(widget.jump)
        return result
