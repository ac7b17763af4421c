"""Finding records: filters, one page at a time, and streaming every record for an export.

Built on the records tables (``pharmacist_tool.records.models``). Nothing here loads all rows:
the window asks for pages (keyset pagination: "the next N after this row", which costs the same
on page 1 and page 1,000), exports read in batches.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import msgspec
from sqlalchemy import ColumnElement, Select, and_, func, or_, select, tuple_
from sqlalchemy.orm import Session

from pharmacist_tool.case import Case
from pharmacist_tool.errors import UserError
from pharmacist_tool.exports.model import Amendment as ExportAmendment
from pharmacist_tool.exports.model import ExportRecord, Signer
from pharmacist_tool.records.models import Amendment, Record
from pharmacist_tool.records.service import fold_name

SortKey = Literal[
    "signed_at", "counselled_on", "patient", "date_of_birth", "pharmacist", "outcome", "id"
]
SORT_COLUMNS: dict[str, Any] = {
    "signed_at": Record.signed_at,
    "counselled_on": Record.counselled_on,
    "patient": Record.patient_name_key,
    "date_of_birth": Record.patient_date_of_birth,
    "pharmacist": Record.signer_full_name,
    "outcome": Record.outcome,
    "id": Record.id,
}
OUTCOMES = ("handed-over", "not-handed-over", "declined")


def parse_date(text: str | None, what: str) -> dt.date | None:
    """A date typed by a person (YYYY-MM-DD); a clear message when it is not one."""
    if text is None or not text.strip():
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise UserError(
            f"{what}: {text!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-03-01"
        ) from None


@dataclass(frozen=True)
class RecordFilter:
    """What to look for. Empty fields do not filter.

    ``patient`` ignores case and accents. With ``match="start"`` (the window's default) it
    matches the start of the name ("garc" finds "García, Ana"), through the name index; with
    ``match="anywhere"`` (the command line, as ``records --patient``) any part of the name
    ("lopez" finds "Ana López"), which reads every row.
    """

    patient: str = ""
    match: Literal["start", "anywhere"] = "start"
    date_of_birth: dt.date | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    pharmacist: str = ""
    outcome: str = ""

    def check(self) -> None:
        if self.since and self.until and self.since > self.until:
            raise UserError(
                f"The date range is empty: from {self.since.isoformat()} is after "
                f"until {self.until.isoformat()}."
            )
        if self.outcome and self.outcome not in OUTCOMES:
            raise UserError(f"Unknown outcome {self.outcome!r}; use one of: {', '.join(OUTCOMES)}.")

    def conditions(self) -> list[ColumnElement[bool]]:
        self.check()
        where: list[ColumnElement[bool]] = []
        key = fold_name(self.patient)
        if key:
            if self.match == "anywhere":
                where.append(Record.patient_name_key.contains(key, autoescape=True))
            else:
                upper = key[:-1] + chr(ord(key[-1]) + 1)
                where.append(and_(Record.patient_name_key >= key, Record.patient_name_key < upper))
        if self.date_of_birth:
            where.append(Record.patient_date_of_birth == self.date_of_birth)
        if self.since:
            where.append(Record.counselled_on >= self.since)
        if self.until:
            where.append(Record.counselled_on <= self.until)
        if self.pharmacist.strip():
            who = self.pharmacist.strip()
            where.append(or_(Record.signer_username == who, Record.signer_full_name == who))
        if self.outcome:
            where.append(Record.outcome == self.outcome)
        return where


@dataclass(frozen=True)
class RecordRow:
    """One line of the records list."""

    id: int
    signed_at: dt.datetime
    counselled_on: dt.date
    patient_name: str
    date_of_birth: dt.date
    medicine: str
    rule_set: str
    outcome: str
    pharmacist: str
    amendments: int
    sort_value: Any


def _amendment_count() -> Any:
    return (
        select(func.count(Amendment.id))
        .where(Amendment.record_id == Record.id)
        .correlate(Record)
        .scalar_subquery()
    )


def page_query(
    flt: RecordFilter,
    *,
    sort: str = "signed_at",
    descending: bool = True,
    after: tuple[Any, int] | None = None,
    limit: int = 100,
) -> Select[Any]:
    """The statement for one page: ``limit`` rows after the row ``after`` (sort value, id)."""
    column = SORT_COLUMNS[sort]
    stmt = select(
        Record.id,
        Record.signed_at,
        Record.counselled_on,
        Record.patient_name,
        Record.patient_date_of_birth,
        Record.medicine,
        Record.rule_set,
        Record.outcome,
        Record.signer_full_name,
        _amendment_count(),
        column,
    ).where(*flt.conditions())
    if after is not None:
        value, last_id = after
        if descending:
            stmt = stmt.where(tuple_(column, Record.id) < tuple_(value, last_id))
        else:
            stmt = stmt.where(tuple_(column, Record.id) > tuple_(value, last_id))
    if descending:
        stmt = stmt.order_by(column.desc(), Record.id.desc())
    else:
        stmt = stmt.order_by(column.asc(), Record.id.asc())
    return stmt.limit(limit)


def fetch_page(
    session: Session,
    flt: RecordFilter,
    *,
    sort: str = "signed_at",
    descending: bool = True,
    after: tuple[Any, int] | None = None,
    limit: int = 100,
) -> list[RecordRow]:
    stmt = page_query(flt, sort=sort, descending=descending, after=after, limit=limit)
    return [RecordRow(*row) for row in session.execute(stmt)]


def count_records(session: Session, flt: RecordFilter) -> int:
    stmt = select(func.count()).select_from(Record).where(*flt.conditions())
    return int(session.execute(stmt).scalar_one())


# -- whole records (for the record window and the exports) ----------------------------------


def _signer(row: Any) -> Signer:
    return Signer(row.signer_username, row.signer_full_name, row.signer_role)


def _decode_case(text: str) -> Case:
    return msgspec.json.decode(text, type=Case)


def _stored(row: Any, columns: Sequence[str]) -> dict[str, Any]:
    return {name: getattr(row, name) for name in columns}


RECORD_COLUMNS = [c.key for c in Record.__table__.columns]
AMENDMENT_COLUMNS = [c.key for c in Amendment.__table__.columns]


def _amendments_for(
    session: Session, record_ids: Sequence[int], *, with_pdf: bool
) -> dict[int, list[ExportAmendment]]:
    if not record_ids:
        return {}
    columns = [
        getattr(Amendment, name) for name in AMENDMENT_COLUMNS if with_pdf or name != "handout_pdf"
    ]
    rows = session.execute(
        select(*columns).where(Amendment.record_id.in_(record_ids)).order_by(Amendment.id)
    )
    found: dict[int, list[ExportAmendment]] = {}
    names = [c.key for c in columns]
    for row in rows:
        found.setdefault(row.record_id, []).append(
            ExportAmendment(
                id=row.id,
                created_at=row.amended_at,
                signer=_signer(row),
                reason=row.reason,
                case=_decode_case(row.case_json),
                record_hash=row.row_hash,
                stored=_stored(row, names),
            )
        )
    return found


def _to_export(row: Any, names: Sequence[str], amendments: list[ExportAmendment]) -> ExportRecord:
    return ExportRecord(
        id=row.id,
        signed_at=row.signed_at,
        signer=_signer(row),
        case=_decode_case(row.case_json),
        assessment=msgspec.json.decode(row.assessment_json),
        outcome=row.outcome,
        outcome_reason=row.outcome_reason,
        handout_pdf=getattr(row, "handout_pdf", None),
        handout_sha256=row.handout_sha256,
        record_hash=row.row_hash,
        previous_hash=row.prev_hash,
        amendments=tuple(amendments),
        stored=_stored(row, names),
    )


def iter_export_records(
    session: Session, flt: RecordFilter, *, with_pdf: bool = True, batch: int = 500
) -> Iterator[ExportRecord]:
    """Every matching record, oldest first, read ``batch`` at a time (memory stays flat)."""
    columns = [getattr(Record, n) for n in RECORD_COLUMNS if with_pdf or n != "handout_pdf"]
    names = [c.key for c in columns]
    last_id = 0
    while True:
        stmt = (
            select(*columns)
            .where(*flt.conditions(), Record.id > last_id)
            .order_by(Record.id)
            .limit(batch)
        )
        rows = session.execute(stmt).all()
        if not rows:
            return
        amendments = _amendments_for(session, [r.id for r in rows], with_pdf=with_pdf)
        for row in rows:
            yield _to_export(row, names, amendments.get(row.id, []))
        last_id = rows[-1].id
        session.expunge_all()


def load_record(session: Session, record_id: int) -> ExportRecord:
    """One whole record with its handout and amendments; ``UserError`` when there is none."""
    row = session.execute(
        select(*[getattr(Record, n) for n in RECORD_COLUMNS]).where(Record.id == record_id)
    ).one_or_none()
    if row is None:
        raise UserError(f"There is no record {record_id}.")
    amendments = _amendments_for(session, [record_id], with_pdf=True)
    return _to_export(row, RECORD_COLUMNS, amendments.get(record_id, []))


def load_handout(session: Session, record_id: int, amendment_id: int | None = None) -> bytes:
    """The handout bytes exactly as stored (the record's, or an amendment's)."""
    if amendment_id is None:
        stmt = select(Record.handout_pdf).where(Record.id == record_id)
    else:
        stmt = select(Amendment.handout_pdf).where(
            Amendment.id == amendment_id, Amendment.record_id == record_id
        )
    pdf = session.execute(stmt).scalar_one_or_none()
    if pdf is None:
        raise UserError(f"Record {record_id} has no stored handout.")
    return bytes(pdf)


def pharmacists(session: Session) -> list[tuple[str, str]]:
    """(username, full name) of everyone who signed a record, for the filter list."""
    rows = session.execute(
        select(Record.signer_username, Record.signer_full_name)
        .group_by(Record.signer_username, Record.signer_full_name)
        .order_by(Record.signer_full_name)
    )
    return [(r[0], r[1]) for r in rows]
