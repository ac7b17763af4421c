"""Exports and backups as actions: run them, audit them (reprints: ``records.usecases``).

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
    check_target,
)
from pharmacist_tool.records.db import Database
from pharmacist_tool.records.reading import RecordFilter, count_in
from pharmacist_tool.records.users import AuthenticatedUser

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
    username: str | AuthenticatedUser | None,
    detail: dict[str, object],
    record_id: int | None = None,
) -> None:
    """Append one event to the tamper-evident audit log (who did what, when)."""
    from pharmacist_tool.records.writing import record_event

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
    username: str | AuthenticatedUser | None,
    progress: ProgressCallback | None = None,
    cancelled: CancelCheck | None = None,
) -> ExportResult:
    """Write the matching records to ``output`` (all or nothing). The audit event is committed
    before the file is renamed into place: an export that exists was audited (a process killed
    in between leaves an audited export and no file, never the other way round)."""
    if fmt not in FORMATS:
        raise UserError(f"Unknown export format {fmt!r}; use csv, json or fhir.")
    flt.check()
    output = Path(output).expanduser()
    target = check_target(output)
    now = _utcnow()
    stop = cancelled or (lambda: False)
    schema = _schema_version(db)
    name = username.username if isinstance(username, AuthenticatedUser) else username
    written = {"count": 0}

    def audit_it() -> None:
        audit(
            db,
            "export",
            username=username,
            detail={
                "format": fmt,
                "count": written["count"],
                "file": str(target),
                "filter": flt.describe(),
            },
        )

    with db.session() as session:
        total = count_in(session, flt)
        if progress:
            progress(0, total)
        if fmt == "csv":
            with atomic_text(target, audit_it) as handle:
                written["count"] = writers.write_csv(
                    session, flt, handle, total=total, progress=progress, cancelled=stop
                )
        elif fmt == "json":
            with atomic_binary(target, audit_it) as raw:
                written["count"] = writers.write_json(
                    session,
                    flt,
                    raw,
                    total=total,
                    exported_at=now,
                    exported_by=name or "",
                    schema_version=schema,
                    progress=progress,
                    cancelled=stop,
                )
        else:
            with atomic_binary(target, audit_it) as raw:
                written["count"] = writers.write_fhir(
                    session,
                    flt,
                    raw,
                    total=total,
                    exported_at=now,
                    progress=progress,
                    cancelled=stop,
                )
    count = written["count"]
    log.info("exported %d records as %s to %s", count, fmt, target)
    return ExportResult(path=target, format=fmt, count=count)


__all__ = ["ExportCancelled", "ExportResult", "audit", "export_records"]
