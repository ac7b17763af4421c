"""The Qt print path (where CUPS is not used): the setting ``print_through`` chooses it, and Qt
prints each page at the sheet's paper size, whatever the print dialog offered. Printed for real
to a QPrinter writing a PDF file (how Qt prints to a file), read back with pypdf."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pypdf
import pytest
from PySide6.QtCore import QTimer
from PySide6.QtGui import QPageSize
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import QApplication

from pharmacist_tool.engine import assess
from pharmacist_tool.gui import printing
from pharmacist_tool.gui.handout_view import JOB_TITLE, keep_sheet_paper, print_pdf, qt_printer
from pharmacist_tool.handout import render_handout
from pharmacist_tool.knowledge import load_for_counter
from pharmacist_tool.settings import Settings
from tests.conftest import example_case

pytestmark = pytest.mark.gui

POINTS = {"Letter": (612.0, 792.0), "A4": (595.3, 841.9)}
OTHER = {"Letter": "A4", "A4": "Letter"}


def _handout_pdf(paper: str) -> bytes:
    case = example_case("01")
    kb = load_for_counter()
    return render_handout(case, assess(case, kb), kb, Settings(paper_size=paper)).pdf  # type: ignore[arg-type]


def _to_pdf_file(printer: QPrinter, out: Path) -> None:
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(out))


def _page_sizes(path: Path) -> list[tuple[float, float]]:
    reader = pypdf.PdfReader(str(path))
    return [(float(p.mediabox.width), float(p.mediabox.height)) for p in reader.pages]


@pytest.mark.parametrize("setting", ["auto", "cups", "qt"])
def test_the_setting_chooses_the_print_path(setting: str) -> None:
    expected = {"qt": False, "cups": True, "auto": printing.cups_running()}[setting]
    assert printing.through_cups(setting) is expected
    assert Settings().print_through == "auto"


@pytest.mark.parametrize("paper", ["Letter", "A4"])
def test_qt_prints_at_the_sheets_paper_size(paper: str, qtbot: Any, tmp_path: Path) -> None:
    pdf = _handout_pdf(paper)
    out = tmp_path / "printed.pdf"
    printer = qt_printer(paper, None, JOB_TITLE)
    _to_pdf_file(printer, out)
    print_pdf(printer, pdf)
    sizes = _page_sizes(out)
    sent = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(sizes) == len(sent.pages)
    for size in sizes:
        assert size == pytest.approx(POINTS[paper], abs=1.0)
    # What Qt keeps of the text: the pages are drawn as images at the printer's resolution
    # (capped), so the PDF Qt writes holds no extractable text, only the page images.
    printed = pypdf.PdfReader(str(out))
    assert "".join(p.extract_text() for p in printed.pages).strip() == ""
    assert all(p.images for p in printed.pages), "each page is the sheet's image"
    assert sent.pages[0].extract_text().strip(), "the sheet itself has text"


@pytest.mark.parametrize("paper", ["Letter", "A4"])
def test_the_print_dialogs_paper_never_wins(paper: str, qtbot: Any, tmp_path: Path) -> None:
    """The dialog may offer its own default size: the sheet's paper is set again after it."""
    pdf = _handout_pdf(paper)
    printer = qt_printer(paper, None, JOB_TITLE)
    dialog = QPrintDialog(printer)
    other = QPageSize.PageSizeId.A4 if OTHER[paper] == "A4" else QPageSize.PageSizeId.Letter

    def choose_other_paper_and_print() -> None:
        shown = QApplication.activeModalWidget()
        assert isinstance(shown, QPrintDialog)
        shown.printer().setPageSize(QPageSize(other))  # as a dialog's default would
        shown.accept()

    QTimer.singleShot(200, choose_other_paper_and_print)
    assert dialog.exec() == QPrintDialog.DialogCode.Accepted
    keep_sheet_paper(printer, paper)  # what print_with_qt does after the dialog
    out = tmp_path / "printed.pdf"
    _to_pdf_file(printer, out)
    print_pdf(printer, pdf)
    for size in _page_sizes(out):
        assert size == pytest.approx(POINTS[paper], abs=1.0)
