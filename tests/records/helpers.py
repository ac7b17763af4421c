"""Building blocks for the records tests: a finished case, its assessment, a real PDF handout.

The assessment is built directly from the model types (what the engine returns), so these
tests exercise the store on their own; the command-line tests go through the real engine.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from typing import Any

import msgspec
from reportlab.lib.pagesizes import letter
from reportlab.pdfgen.canvas import Canvas

from pharmacist_tool.case import Case, Outcome
from pharmacist_tool.engine.assessment import (
    Assessment,
    ChecklistEntry,
    Finding,
    KnowledgeBaseRef,
)
from pharmacist_tool.records.db import Database
from pharmacist_tool.records.reading import StoredHandout
from tests.conftest import example_case

PASSWORD = "correct horse battery staple"


def finished_case(
    name: str = "Ana García",
    status: str = "handed-over",
    reason: str = "",
    counselled_on: dt.date | None = None,
) -> Case:
    case = example_case("01")
    patient = msgspec.structs.replace(case.patient, name=name)
    return msgspec.structs.replace(
        case,
        patient=patient,
        counselled_on=counselled_on or case.counselled_on,
        outcome=Outcome(status=status, reason=reason),  # type: ignore[arg-type]
    )


def assessment_for(case: Case, *, storage_done: bool = True, block: bool = False) -> Assessment:
    findings = []
    if block:
        findings.append(
            Finding(
                code="interaction.tetracyclines",
                category="interaction",
                severity="block",
                subject="doxycycline 100 mg",
                message="Doxycycline must not be taken with isotretinoin",
                action="Contact the prescriber",
                sources=["S1"],
            )
        )
    return Assessment(
        knowledge_base=KnowledgeBaseRef(
            medicine="isotretinoin",
            version="2026.11.1",
            rule_set=case.rule_set,
            rules_effective_from=dt.date(2026, 11, 15),
            rules_version="US-iPLEDGE-2026-11",
        ),
        dispense="do-not-dispense" if block else ("ok" if storage_done else "needs-action"),
        findings=findings,
        checklist=[
            ChecklistEntry(id="storage", title="Storage", required=True, done=storage_done),
            ChecklistEntry(id="disposal", title="Disposal", required=True, done=True),
        ],
        daily_dose_mg=40,
        dose_mg_per_kg_per_day=0.65,
        pick_up_by=case.counselled_on + dt.timedelta(days=2),
        next_pregnancy_test_due=case.counselled_on + dt.timedelta(days=26),
        product="Claravis",
    )


def make_pdf(text: str = "Your isotretinoin handout", pages: int = 1) -> bytes:
    """A real PDF (ReportLab), ``pages`` pages of 50 lines of ``text``."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=letter, invariant=1, pageCompression=0)
    for page in range(pages):
        for line in range(50 if pages > 1 else 1):
            canvas.drawString(72, 740 - 13 * line, f"{text} (page {page + 1}, line {line + 1})")
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def handout_for(
    case: Case, text: str = "Your isotretinoin handout", pages: int = 1
) -> StoredHandout:
    return StoredHandout.from_file_bytes(make_pdf(text, pages), case, paper="Letter")


def as_dict(obj: Any) -> dict[str, Any]:
    return dict(obj.__dict__)


# -- a full disk --------------------------------------------------------------------------------


class FullDisk:
    """A folder on a tiny filesystem that is full: a real tmpfs when this process may mount one
    (root), otherwise a plain folder whose writers run with RLIMIT_FSIZE, so that every write
    past ``limit`` bytes fails as it would on a full disk."""

    def __init__(self, folder: Any, mounted: bool, limit: int = 4096) -> None:
        self.folder = folder
        self.mounted = mounted
        self.limit = limit

    def fill(self) -> None:
        """Use up every free byte (tmpfs); with RLIMIT_FSIZE there is nothing to do."""
        import os

        if not self.mounted:
            return
        fd = os.open(self.folder / "filler", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            for size in (65536, 4096, 512, 1):
                try:
                    while True:
                        os.write(fd, b"\0" * size)
                except OSError:
                    continue
        finally:
            os.close(fd)

    def preexec(self) -> Any:
        """For ``subprocess``: the size limit when no tmpfs could be mounted."""
        if self.mounted:
            return None
        limit = self.limit

        def limit_writes() -> None:
            import resource
            import signal

            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, not a killed process
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

        return limit_writes


def full_disk(tmp_path: Any, size: str = "2m") -> Any:
    """A ``FullDisk`` (a generator for a fixture: unmounts afterwards)."""
    import os
    import subprocess

    folder = tmp_path / "tiny"
    folder.mkdir()
    mounted = False
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(folder)],
            capture_output=True,
            check=False,
        )
        mounted = done.returncode == 0
    try:
        yield FullDisk(folder, mounted)
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(folder)], check=False)


def raw_sql(db: Database, statements: Sequence[str], params: Sequence[Any] = ()) -> None:
    """Run SQL as someone with write access to the database would: straight through the
    driver, committed, with the triggers and foreign keys switched off."""
    conn = db.engine.raw_connection()
    try:
        cursor = conn.cursor()
        if db.dialect == "sqlite":
            cursor.execute("PRAGMA foreign_keys=OFF")
            for trigger in ("users_no_delete", "records_no_delete", "records_no_update",
                            "amendments_no_delete", "amendments_no_update",
                            "audit_events_no_delete", "audit_events_no_update"):  # fmt: skip
                cursor.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        else:
            cursor.execute("SET session_replication_role = replica")
        for index, statement in enumerate(statements):
            if db.dialect == "sqlite":
                statement = statement.replace("%s", "?")
            cursor.execute(statement, params[index] if index < len(params) else ())
        conn.commit()
    finally:
        conn.invalidate()


def finished_pack_case(path: Any) -> Case:
    """A pack's case finished as a pharmacist would: every point done, every finding resolved."""
    from pharmacist_tool.case import load_case
    from pharmacist_tool.engine import assess
    from pharmacist_tool.knowledge import load_for_counter

    case = load_case(path)
    found = assess(case, load_for_counter(case.prescription.medicine))
    case.checklist = {item.id: True for item in found.checklist}
    case.resolutions = {f.code: "Discussed with the prescriber" for f in found.findings}
    case.alcohol = case.alcohol or "none"
    case.outcome = Outcome(status="handed-over")
    case.supply_duties = duties_done(found, case.counselled_on)
    return case


def duties_done(assessment: Any, on: Any) -> dict[str, Any]:
    """Every programme duty the assessment lists, recorded as done (a form dated ``on``, a
    question answered "no change")."""
    from pharmacist_tool.case import SupplyDuty

    duties = assessment.duties if isinstance(assessment.duties, list) else []
    return {
        d.id: SupplyDuty(
            done=True,
            form_date=on if d.kind == "seen-with-date" else None,
            answer="no-change" if d.kind == "asked" else None,
        )
        for d in duties
    }
