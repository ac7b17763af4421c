"""Small building blocks: labelled form rows, severity words, palette-derived colours."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSize, Qt
from PySide6.QtGui import QFont, QGuiApplication, QPalette, QResizeEvent
from PySide6.QtWidgets import (
    QApplication,
    QFormLayout,
    QFrame,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QWidget,
)

SEVERITY_ICON = {"block": "✖", "warn": "⚠", "info": "ℹ"}
SEVERITY_WORD = {"block": "BLOCK", "warn": "WARN", "info": "INFO"}
SEVERITY_ORDER = {"block": 0, "warn": 1, "info": 2}


def severity_text(severity: str) -> str:
    return f"{SEVERITY_ICON.get(severity, '•')} {SEVERITY_WORD.get(severity, severity.upper())}"


def application() -> QApplication:
    """The running application (the window cannot exist without one)."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        raise RuntimeError("no QApplication is running")
    return app


def plain(label: str) -> str:
    return label.replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip(":")


def add_row(form: QFormLayout, label: str, widget: QWidget, description: str = "") -> QLabel:
    """A form row whose label is the field's buddy (Alt+letter focuses it) and accessible name."""
    caption = QLabel(label)
    caption.setBuddy(widget)
    widget.setAccessibleName(plain(label))
    if description:
        widget.setAccessibleDescription(description)
        widget.setToolTip(description)
    form.addRow(caption, widget)
    return caption


def fit_to_screen(window: QWidget, width: int, height: int) -> None:
    """Resize to (width, height), but never past the screen it opens on (a 1280×720 counter
    screen keeps the title bar and the bottom buttons in view)."""
    screen = window.screen() or QGuiApplication.primaryScreen()
    if screen is not None:
        area = screen.availableGeometry()
        width = min(width, int(area.width() * 0.96))
        height = min(height, int(area.height() * 0.92))
    window.resize(width, height)


def heading(text: str, level: int = 1) -> QLabel:
    label = QLabel(text)
    font = QFont(label.font())
    font.setBold(True)
    font.setPointSizeF(font.pointSizeF() * (1.35 if level == 1 else 1.12))
    label.setFont(font)
    label.setAccessibleName(text)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
    return label


def note(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def bold(widget: QWidget, on: bool = True) -> None:
    font = QFont(widget.font())
    font.setBold(on)
    widget.setFont(font)


def frame_style(
    widget: QWidget, role: QPalette.ColorRole = QPalette.ColorRole.AlternateBase
) -> None:
    """A softly filled panel in a palette role, so it follows light, dark and high contrast."""
    widget.setAutoFillBackground(True)
    widget.setBackgroundRole(role)


class SideScroller(QScrollArea):
    """Holds a wide panel: as tall as the panel wants, as wide as the window allows, scrolling
    sideways when the screen is narrower than the panel (a 1024×768 counter screen). Shown and
    hidden with the panel."""

    def __init__(self, panel: QWidget) -> None:
        super().__init__()
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Tab goes on to the panel's boxes
        self.setVisible(not panel.isHidden())
        self.setWidget(panel)
        panel.installEventFilter(self)

    def _height(self) -> int:
        """The panel's height at the width it is given (wrapped lines take more), and room for
        the scroll bar."""
        panel = self.widget()
        if panel is None:
            return 0
        wanted = panel.sizeHint().height()
        layout = panel.layout()
        if layout is not None and layout.hasHeightForWidth():
            width = max(self.viewport().width(), panel.minimumSizeHint().width())
            wanted = max(wanted, layout.totalHeightForWidth(width))
        return wanted + self.horizontalScrollBar().sizeHint().height()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        if event.oldSize().width() != event.size().width():
            self.updateGeometry()  # another width: another height for wrapped lines

    def sizeHint(self) -> QSize:  # noqa: N802
        panel = self.widget()
        width = panel.sizeHint().width() if panel is not None else 0
        return QSize(width, self._height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(0, self._height())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        kind = event.type()
        if kind == QEvent.Type.ShowToParent:
            self.setVisible(True)
        elif kind == QEvent.Type.HideToParent:
            self.setVisible(False)
        elif kind == QEvent.Type.LayoutRequest:
            self.updateGeometry()  # new rows: a new height
        return False
