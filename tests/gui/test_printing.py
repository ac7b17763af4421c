"""Printing through a real CUPS queue (CUPS-PDF): the stored PDF goes as it is, at the paper set.

The queue writes what it receives to a PDF file; the test reads that file back with pypdf: its
page size is the setting's (Letter when Letter, A4 when A4) and its text is the handout's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import pypdf
import pytest

from tests.conftest import EXAMPLE_FILES
from tests.exports.conftest import counter as counter  # fixture
from tests.gui.cups import PdfQueue
from tests.gui.cups import pdf_queue as pdf_queue  # fixture

# One print queue: its jobs are told apart by the files that appear, so one worker prints.
pytestmark = [pytest.mark.gui, pytest.mark.xdist_group("print-queue")]

POINTS = {"Letter": (612.0, 792.0), "A4": (595.3, 841.9)}


def _words(reader: pypdf.PdfReader) -> list[str]:
    """The text's words, printable ASCII only: the queue's PDF writer (Ghostscript) keeps
    accented letters as glyphs without their Unicode names, so "García" reads back "Garca"."""
    text = " ".join(page.extract_text() for page in reader.pages)
    words = ("".join(ch for ch in w if " " < ch <= "~") for w in text.split())
    return [w for w in words if w]


@pytest.mark.parametrize("paper", ["Letter", "A4"])
def test_print_to_a_cups_queue_gives_the_page_size_set_and_text(
    paper: str, window: Any, qtbot: Any, pdf_queue: PdfQueue
) -> None:
    import io

    case_file = next(p for p in EXAMPLE_FILES if p.name.startswith("01"))
    window.settings = msgspec.structs.replace(
        window.settings, paper_size=paper, default_printer=pdf_queue.name
    )
    assert window.open_case_file(case_file)
    qtbot.waitUntil(lambda: window.assessment is not None, timeout=10_000)
    window.preview_handout()
    dialog = window.handout_dialog
    qtbot.waitUntil(lambda: dialog.handout is not None, timeout=30_000)
    assert dialog.handout.paper == paper
    before = pdf_queue.printed()
    dialog.print_handout()
    assert dialog.status.text().startswith(f"✓ Sent to the printer {pdf_queue.name}"), (
        dialog.status.text()
    )
    printed = pdf_queue.wait_for_new(before, dialog.status.text())
    reader = pypdf.PdfReader(str(printed))
    box = reader.pages[0].mediabox
    assert (float(box.width), float(box.height)) == pytest.approx(POINTS[paper], abs=1.0)
    assert len(reader.pages) == len(pypdf.PdfReader(io.BytesIO(dialog.handout.pdf)).pages)
    sent = _words(pypdf.PdfReader(io.BytesIO(dialog.handout.pdf)))
    got = _words(reader)
    assert got[:40] == sent[:40], "the text reads back as it was sent (vector, not an image)"
    # The job title (CUPS-PDF names the file after it) carries no patient name.
    for part in window.case.patient.name.split():
        assert part.lower() not in printed.name.lower()
    dialog.reject()


def test_settings_refuse_a_printer_that_does_not_exist(
    window: Any, qtbot: Any, pdf_queue: PdfQueue, users: dict[str, str]
) -> None:
    from pharmacist_tool.settings import load_settings
    from tests.gui.counter import sign_in

    sign_in(qtbot, window, "admin")
    window.open_settings()
    dialog = window.settings_dialog
    qtbot.waitUntil(dialog.isVisible)
    assert pdf_queue.name in dialog.available_printers
    dialog.printer.setCurrentText("Front desk")
    dialog.save()
    assert "no printer called “Front desk”" in dialog.message.text()
    assert pdf_queue.name in dialog.message.text(), "names the printers there are"
    assert load_settings().default_printer == ""
    dialog.printer.setCurrentText(pdf_queue.name)
    dialog.save()
    assert load_settings().default_printer == pdf_queue.name


def test_a_reprint_goes_to_the_queue_as_the_stored_bytes(tmp_path: Path) -> None:
    """The records view reprints through the same door (checked in test_records_view)."""
    from pharmacist_tool.gui import printing

    assert printing.paper_of([(612.0, 792.0)]) == "Letter"
    assert printing.paper_of([(595.28, 841.89)]) == "A4"
    assert printing.paper_of([(500.0, 500.0)]) is None


@pytest.mark.parametrize("paper", ["A4", "Letter"])
def test_the_chain_head_prints_on_one_page_for_the_paper_log(
    paper: str, counter: Any, qtbot: Any, pdf_queue: PdfQueue
) -> None:
    from pharmacist_tool.gui.records_view import RecordsView
    from pharmacist_tool.records.service import verify
    from pharmacist_tool.settings import Settings, save_settings
    from tests.conftest import example_case
    from tests.exports.conftest import finished

    save_settings(
        Settings(
            pharmacy_name="Riverside Pharmacy", paper_size=paper, default_printer=pdf_queue.name
        )
    )
    counter.sign(finished(example_case("01")))
    view = RecordsView(counter.db, user="ana")
    qtbot.addWidget(view)
    before = pdf_queue.printed()
    sent = view.print_head()
    assert sent is not None
    assert view.status.text().startswith(
        f"✓ Chain head {view.head_note.text} sent to {pdf_queue.name}"
    )
    report = verify(counter.db)
    head = f"{report.head_seq}:{report.head_hash}"
    assert view.head_note.text == head and head in view.head_label.text()
    printed = pypdf.PdfReader(str(pdf_queue.wait_for_new(before, view.status.text())))
    assert len(printed.pages) == 1
    box = printed.pages[0].mediabox
    assert (float(box.width), float(box.height)) == pytest.approx(POINTS[paper], abs=1.0)
    words = _words(printed)
    assert head in words
    assert report.head_hash in words and "Riverside" in words
    text = " ".join(words)
    assert "1 signed record" in text and "initials" in text
