"""Handout preview, print and save: what is shown is the PDF itself, rendered by pdfium.

The PDF is made by ``pharmacist_tool.handout.render_handout`` (ReportLab, imported here, at
preview time) in a worker thread; its pages are rasterised with pypdfium2 for the screen. Printing
sends the PDF itself to CUPS where it runs (``printing``); elsewhere the pages are rasterised at
the printer's resolution and drawn at true size on the sheet's paper.
"""

from __future__ import annotations

import copy
import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QRectF, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtGui import QImage, QKeySequence, QPageLayout, QPageSize, QPainter, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from pharmacist_tool.case import write_atomically
from pharmacist_tool.errors import UserError
from pharmacist_tool.gui.widgets import fit_to_screen, note
from pharmacist_tool.handout import RenderOptions

if TYPE_CHECKING:
    from PySide6.QtPrintSupport import QPrinter

    from pharmacist_tool.case import Case
    from pharmacist_tool.engine.assessment import Assessment
    from pharmacist_tool.gui.window_base import WindowBase
    from pharmacist_tool.handout import Handout
    from pharmacist_tool.knowledge.model import KnowledgeBase
    from pharmacist_tool.settings import Settings

log = logging.getLogger(__name__)

MAX_PRINT_DPI = 600
_FORMATS = {
    "RGB": QImage.Format.Format_RGB888,
    "RGBX": QImage.Format.Format_RGBX8888,
    "RGBA": QImage.Format.Format_RGBA8888,
    "L": QImage.Format.Format_Grayscale8,
}


def render_pages(pdf: bytes, dpi: float) -> list[QImage]:
    """Every page of ``pdf`` as an image at ``dpi`` (safe in a worker thread)."""
    import pypdfium2 as pdfium

    images: list[QImage] = []
    document = pdfium.PdfDocument(pdf)
    try:
        for index in range(len(document)):
            page = document[index]
            bitmap = page.render(scale=dpi / 72.0, rev_byteorder=True, may_draw_forms=False)
            fmt = _FORMATS.get(bitmap.mode)
            if fmt is None:
                raise ValueError(f"unexpected bitmap mode {bitmap.mode}")
            data = bytes(bitmap.buffer)
            image = QImage(data, bitmap.width, bitmap.height, bitmap.stride, fmt).copy()
            image.setDotsPerMeterX(round(dpi / 0.0254))
            image.setDotsPerMeterY(round(dpi / 0.0254))
            images.append(image)
            bitmap.close()
            page.close()
    finally:
        document.close()
    return images


def page_sizes_points(pdf: bytes) -> list[tuple[float, float]]:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    try:
        return [tuple(document[i].get_size()) for i in range(len(document))]
    finally:
        document.close()


class _Signals(QObject):
    done = Signal(object, object, object)
    failed = Signal(str)


class RenderJob(QRunnable):
    def __init__(self, case: Case, assessment: Assessment, kb: KnowledgeBase, settings: Settings,
                 options: RenderOptions, dpi: float) -> None:  # fmt: skip
        super().__init__()
        self.args = (case, assessment, kb, settings)
        self.options = options
        self.dpi = dpi
        self.signals = _Signals()

    def run(self) -> None:
        from pharmacist_tool.handout import render_handout

        try:
            handout = render_handout(*self.args, **self.options)
            images = render_pages(handout.pdf, self.dpi)
        except UserError as error:
            self.signals.failed.emit(str(error))
            return
        except Exception as error:  # shown to the pharmacist; the trace goes to the log
            log.exception("handout rendering failed")
            self.signals.failed.emit(f"The handout could not be made ({type(error).__name__}).")
            return
        self.signals.done.emit(handout, images, RenderOptions(**self.options))


class HandoutDialog(QDialog):
    """Preview of the handout exactly as it prints; Print… and Save as PDF…"""

    rendered = Signal(object, object)
    """(the handout shown, the options it was rendered with: paper and pharmacist)"""

    def __init__(self, window: WindowBase, case: Case, assessment: Assessment, kb: KnowledgeBase,
                 settings: Settings, pharmacist: str | None = None) -> None:  # fmt: skip
        super().__init__(window)
        self.window_ = window
        self.case = case
        self.assessment = assessment
        self.kb = kb
        self.settings = settings
        self.pharmacist = pharmacist
        self.handout: Handout | None = None
        self.setWindowTitle("Handout preview")  # titles show in task bars: no patient name
        fit_to_screen(self, 820, 900)
        layout = QVBoxLayout(self)
        options = QHBoxLayout()
        self.paper = QComboBox()
        self.paper.addItems(["A4", "Letter"])
        self.paper.setCurrentText(settings.paper_size)
        paper_label = QLabel("&Paper:")
        paper_label.setBuddy(self.paper)
        self.paper.setAccessibleName("Paper")
        self.large = QCheckBox("&Large print")
        self.large.setAccessibleName("Large print")
        self.large.setChecked(case.patient.large_print)
        self.language = QComboBox()
        for i in range(window.review.language.count()):  # as offered in step 7
            self.language.addItem(
                window.review.language.itemText(i), window.review.language.itemData(i)
            )
        index = self.language.findData(case.patient.handout_language)
        self.language.setCurrentIndex(max(0, index))
        lang_label = QLabel("Lan&guage:")
        lang_label.setBuddy(self.language)
        self.language.setAccessibleName("Language")
        for w in (paper_label, self.paper, lang_label, self.language, self.large):
            options.addWidget(w)
        options.addStretch(1)
        layout.addLayout(options)
        self.status = note("Making the handout…")
        self.status.setAccessibleName("Handout status")
        layout.addWidget(self.status)
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.pages_widget = QWidget()
        self.pages_layout = QVBoxLayout(self.pages_widget)
        self.pages_layout.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.scroll_area.setWidget(self.pages_widget)
        self.scroll_area.setAccessibleName("Handout pages")
        layout.addWidget(self.scroll_area, 1)
        buttons = QHBoxLayout()
        self.print_button = QPushButton("&Print…  Ctrl+P")
        self.save_button = QPushButton("&Save as PDF…")
        self.close_button = QPushButton("&Close  Esc")
        buttons.addStretch(1)
        for b in (self.print_button, self.save_button, self.close_button):
            b.setAutoDefault(False)
            buttons.addWidget(b)
        layout.addLayout(buttons)
        self.print_button.clicked.connect(self.print_handout)
        self.save_button.clicked.connect(self.save_pdf)
        self.close_button.clicked.connect(self.reject)
        print_shortcut = QShortcut(QKeySequence("Ctrl+P"), self)
        print_shortcut.activated.connect(self.print_handout)
        self.paper.currentIndexChanged.connect(self.render_preview)
        self.large.toggled.connect(self._options_changed)
        self.language.currentIndexChanged.connect(self._options_changed)
        self.jobs: list[RenderJob] = []
        self.images: list[QImage] = []
        self.render_preview()

    def _options_changed(self) -> None:
        """Language and large print belong to the case: change them there, then re-render."""
        review = self.window_.review
        review.large_print.setChecked(self.large.isChecked())
        review.language.setCurrentIndex(
            max(0, review.language.findData(self.language.currentData()))
        )
        self.window_.on_changed()
        self.window_._assess()  # now: the handout is of the complete case as changed
        if self.window_.current.checked is not None:
            self.case = copy.deepcopy(self.window_.current.checked)
        self.render_preview()

    def render_preview(self) -> None:  # not ``render``: that is ``QWidget.render``
        self._set_busy(True)
        options = RenderOptions(paper=self.paper.currentText(), pharmacist=self.pharmacist)
        width_in = 8.27 if self.paper.currentText() == "A4" else 8.5
        available = max(400, self.scroll_area.viewport().width() - 24)
        dpi = min(110.0, available / width_in) * max(1.0, self.devicePixelRatioF())
        job = RenderJob(self.case, self.assessment, self.kb, self.settings, options, dpi)
        job.signals.done.connect(self._done)
        job.signals.failed.connect(self._failed)
        self.jobs.append(job)
        job.setAutoDelete(False)
        QThreadPool.globalInstance().start(job)

    def _set_busy(self, busy: bool) -> None:
        self.print_button.setEnabled(not busy)
        self.save_button.setEnabled(not busy)
        if busy:
            self.status.setText("Making the handout…")

    def _done(self, handout: Handout, images: list[QImage], options: RenderOptions) -> None:
        if self.jobs and self.sender() is not self.jobs[-1].signals:
            return  # an older render finished after a newer one started
        self.handout = handout
        self.images = images
        while self.pages_layout.count():
            taken = self.pages_layout.takeAt(0)
            w = taken.widget() if taken is not None else None
            if w is not None:
                w.deleteLater()
        ratio = self.devicePixelRatioF()
        for i, image in enumerate(images):
            pixmap = QPixmap.fromImage(image)
            pixmap.setDevicePixelRatio(ratio)
            label = QLabel()
            label.setPixmap(pixmap)
            label.setAccessibleName(f"Page {i + 1} of {len(images)}")
            self.pages_layout.addWidget(label)
        missing = getattr(handout, "missing_characters", ())
        warn = f" ⚠ Cannot print: {' '.join(missing)}" if missing else ""
        lang = handout.language
        if getattr(handout, "requested_language", "") and handout.requested_language != lang:
            warn += f" ⚠ No approved {handout.requested_language} text: printed in {lang}."
        self.status.setText(
            f"{len(images)} page{'s' * (len(images) != 1)} · {handout.paper} · {lang}"
            + (" · large print" if handout.large_print else "")
            + f" · SHA-256 {handout.sha256[:12]}…{warn}"
        )
        self._set_busy(False)
        self.rendered.emit(handout, options)

    def _failed(self, message: str) -> None:
        self.status.setText(f"✖ {message}")
        self.print_button.setEnabled(False)
        self.save_button.setEnabled(False)

    def save_pdf(self) -> None:
        if self.handout is None:
            return
        suggested = f"handout-{self.case.patient.name.replace(' ', '-').lower()}.pdf"
        name, _ = QFileDialog.getSaveFileName(self, "Save the handout", suggested, "PDF (*.pdf)")
        if name:
            try:
                write_atomically(name, self.handout.pdf)
            except OSError as error:
                self.status.setText(f"✖ Not saved: {error.strerror or error}")
                return
            self.status.setText(f"✓ Saved to {name}")

    def print_handout(self) -> None:
        if self.handout is None:
            return
        try:
            done = send_to_printer(
                self, self.handout.pdf, self.handout.paper, self.settings, title=JOB_TITLE
            )
        except UserError as error:
            self.status.setText(f"✖ Not printed: {error}")
            return
        except Exception as error:
            log.exception("printing failed")
            self.status.setText(f"✖ Not printed: {error}")
            return
        if done:
            self.status.setText(done)


JOB_TITLE = "Handout (pharmacist-tool)"
"""A print job's title: print queues are visible to others, so never the patient's name."""


def send_to_printer(
    parent: QWidget | None, pdf: bytes, paper: str, settings: Settings, *, title: str
) -> str:
    """Print the stored PDF: through CUPS as it is where CUPS runs, else through Qt at the
    sheet's own paper size. Returns what happened in words ("" when the pharmacist cancelled);
    raises ``UserError`` when it cannot be printed."""
    from pharmacist_tool.gui import printing

    queue = settings.default_printer or None
    if printing.through_cups(settings.print_through):
        sent = printing.print_with_cups(pdf, paper=paper, queue=queue, title=title)
        return f"✓ Sent to the printer {sent.queue} (job {sent.job}), on {paper} paper"
    if not print_with_qt(parent, pdf, paper, queue, title):
        return ""
    return f"✓ Sent to the printer, on {paper} paper"


def qt_printer(paper: str, queue: str | None, title: str) -> QPrinter:
    """A Qt printer set to the sheet's paper, portrait, the whole page, with this job title."""
    from PySide6.QtPrintSupport import QPrinter

    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    if queue:
        printer.setPrinterName(queue)
    keep_sheet_paper(printer, paper)
    printer.setDocName(title)
    return printer


def keep_sheet_paper(printer: QPrinter, paper: str) -> None:
    """The sheet was laid out for this paper: set it (again after the print dialog, which may
    offer its own default size)."""
    size = QPageSize(QPageSize.PageSizeId.A4 if paper == "A4" else QPageSize.PageSizeId.Letter)
    printer.setPageSize(size)
    printer.setPageOrientation(QPageLayout.Orientation.Portrait)
    printer.setFullPage(True)


def print_with_qt(
    parent: QWidget | None, pdf: bytes, paper: str, queue: str | None, title: str
) -> bool:
    """The system print dialog, then each page drawn at true size on the sheet's paper.
    False if the pharmacist cancelled."""
    from PySide6.QtPrintSupport import QPrintDialog

    printer = qt_printer(paper, queue, title)
    dialog = QPrintDialog(printer, parent)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return False
    keep_sheet_paper(printer, paper)
    print_pdf(printer, pdf)
    return True


def print_pdf(printer: QPrinter, pdf: bytes) -> None:
    """Draw each PDF page at true size, rasterised at the printer's resolution (capped)."""
    dpi = min(printer.resolution(), MAX_PRINT_DPI)
    sizes = page_sizes_points(pdf)
    images = render_pages(pdf, dpi)
    painter = QPainter()
    if not painter.begin(printer):
        raise OSError("the printer could not be opened")
    try:
        res = printer.resolution()
        for i, (image, (w_pt, h_pt)) in enumerate(zip(images, sizes, strict=True)):
            if i:
                printer.newPage()
            target = QRectF(0, 0, w_pt / 72.0 * res, h_pt / 72.0 * res)
            painter.drawImage(target, image)
    finally:
        painter.end()
