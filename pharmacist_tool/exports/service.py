"""Exports and backups as actions: run them, audit them (reprints: ``records.usecases``).

The command line and the window both call these; neither talks to the writers directly.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sqlalchemy.orm import Session

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
    before the first byte is written: no process, the writer's own aside, can read any of the
    export before the event exists, even while another holds the chain lock the event waits
    for. The bytes go into a new private file (0600 from its creation, under an unpredictable
    name), renamed into place when complete. An export that is stopped or fails after its event
    is followed by an ``export-abandoned`` event saying why."""
    if fmt not in FORMATS:
        raise UserError(f"Unknown export format {fmt!r}; use csv, json or fhir.")
    flt.check()
    output = Path(output).expanduser()
    target = check_target(output)
    now = _utcnow()
    stop = cancelled or (lambda: False)
    schema = _schema_version(db)
    name = username.username if isinstance(username, AuthenticatedUser) else username

    with db.session() as session:
        total = count_in(session, flt)  # the records this snapshot holds: what is written
        audit(
            db,
            "export",
            username=username,
            detail={"format": fmt, "count": total, "file": str(target), "filter": flt.describe()},
        )
        if progress:
            progress(0, total)
        try:
            count = _write(session, fmt, target, flt, total, now, name, schema, progress, stop)
        except BaseException as error:
            _abandoned(db, username, target, error)
            raise
    log.info("exported %d records as %s to %s", count, fmt, target)
    return ExportResult(path=target, format=fmt, count=count)


def _write(
    session: Session,
    fmt: str,
    target: Path,
    flt: RecordFilter,
    total: int,
    now: dt.datetime,
    name: str | None,
    schema: str | None,
    progress: ProgressCallback | None,
    stop: CancelCheck,
) -> int:
    if fmt == "csv":
        with atomic_text(target) as handle:
            return writers.write_csv(
                session, flt, handle, total=total, progress=progress, cancelled=stop
            )
    with atomic_binary(target) as raw:
        if fmt == "json":
            return writers.write_json(
                session, flt, raw, total=total, exported_at=now, exported_by=name or "",
                schema_version=schema, progress=progress, cancelled=stop,
            )  # fmt: skip
        return writers.write_fhir(
            session, flt, raw, total=total, exported_at=now, progress=progress, cancelled=stop
        )


def _abandoned(
    db: Database, username: str | AuthenticatedUser | None, target: Path, error: BaseException
) -> None:
    """Say in the audit trail that the export announced by the event before was not written
    (best effort: a database that cannot take it leaves the first event alone)."""
    why = "stopped" if isinstance(error, ExportCancelled | KeyboardInterrupt) else "failed"
    try:
        audit(
            db,
            "export-abandoned",
            username=username,
            detail={"file": str(target), "why": why, "error": type(error).__name__},
        )
    except Exception:
        log.warning("could not audit the abandoned export of %s", target, exc_info=True)


__all__ = ["ExportCancelled", "ExportResult", "audit", "export_records"]
