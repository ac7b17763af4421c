"""Exports, reprints and backups as actions: run them, audit them.

The command line and the window both call these; neither talks to the writers directly.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pharmacist_tool.errors import UserError
from pharmacist_tool.exports import writers
from pharmacist_tool.exports.files import (
    CancelCheck,
    ExportCancelled,
    ProgressCallback,
    atomic_binary,
    atomic_text,
)
from pharmacist_tool.exports.queries import RecordFilter, count_records, load_handout
from pharmacist_tool.records.db import Database

log = logging.getLogger(__name__)

ExportFormat = Literal["csv", "json", "fhir"]
FORMATS: dict[str, str] = {
    "csv": "CSV for spreadsheets (one row per record)",
    "json": "JSON, complete (every stored field, handouts included)",
    "fhir": "FHIR R4 Bundle (JSON) for other health systems",
}
SUFFIXES = {"csv": ".csv", "json": ".json", "fhir": ".fhir.json"}


@dataclass(frozen=True)
class ExportResult:
    path: Path
    format: str
    count: int


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def audit(
    db: Database,
    action: str,
    *,
    username: str | None,
    detail: dict[str, object],
    record_id: int | None = None,
) -> None:
    """Append one event to the tamper-evident audit log (who did what, when)."""
    from pharmacist_tool.records.service import record_event

    record_event(db, action, user=username, record_id=record_id, detail=detail)


def _schema_version(db: Database) -> str | None:
    from pharmacist_tool.records.db import schema_revision

    return schema_revision(db)


def export_records(
    db: Database,
    fmt: str,
    output: Path,
    flt: RecordFilter,
    *,
    username: str | None,
    progress: ProgressCallback | None = None,
    cancelled: CancelCheck | None = None,
) -> ExportResult:
    """Write the matching records to ``output`` (all or nothing) and audit the export."""
    if fmt not in FORMATS:
        raise UserError(f"Unknown export format {fmt!r}; use csv, json or fhir.")
    flt.check()
    output = Path(output).expanduser()
    now = _utcnow()
    stop = cancelled or (lambda: False)
    schema = _schema_version(db)
    with db.session() as session:
        total = count_records(session, flt)
        if progress:
            progress(0, total)
        if fmt == "csv":
            with atomic_text(output) as handle:
                count = writers.write_csv(
                    session, flt, handle, total=total, progress=progress, cancelled=stop
                )
        elif fmt == "json":
            with atomic_binary(output) as handle:
                count = writers.write_json(
                    session,
                    flt,
                    handle,
                    total=total,
                    exported_at=now,
                    exported_by=username or "",
                    schema_version=schema,
                    progress=progress,
                    cancelled=stop,
                )
        else:
            with atomic_binary(output) as handle:
                count = writers.write_fhir(
                    session,
                    flt,
                    handle,
                    total=total,
                    exported_at=now,
                    progress=progress,
                    cancelled=stop,
                )
    audit(
        db,
        "export",
        username=username,
        detail={
            "format": fmt,
            "count": count,
            "file": str(output.resolve()),
            "filter": writers._filter_description(flt),
        },
    )
    log.info("exported %d records as %s to %s", count, fmt, output)
    return ExportResult(path=output.resolve(), format=fmt, count=count)


def reprint_handout(db: Database, record_id: int, *, username: str | None) -> bytes:
    """The handout of a record, the very bytes printed at signing; the reprint is audited."""
    import hashlib

    with db.session() as session:
        pdf = load_handout(session, record_id)
    audit(
        db,
        "reprint",
        username=username,
        record_id=record_id,
        detail={"sha256": hashlib.sha256(pdf).hexdigest(), "bytes": len(pdf)},
    )
    return pdf


__all__ = ["ExportCancelled", "ExportResult", "audit", "export_records", "reprint_handout"]
