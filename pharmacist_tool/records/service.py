"""Signing, amending, the audit log and the queries the window and the exports use.

Everything here takes an open ``Database`` (``db.open_database``) and returns plain frozen
dataclasses: no session or ORM object leaves this module.

Writing:
- ``sign_record(db, signer, case, assessment, handout)`` stores a finished session;
- ``amend_record(db, record_id, signer, case, assessment, handout, reason)`` appends an amendment;
- ``record_event(db, action, user=…, record_id=…, detail=…)`` appends an audit event (view,
  print, reprint, export, …).

Reading:
- ``search_records(db, RecordFilter(...), sort=…, descending=…, offset=…, limit=…)`` → a page;
- ``iter_records(db, RecordFilter(...), include_handout=…)`` streams full records (with their
  amendments) in id order, a batch at a time;
- ``get_record(db, id)`` one record with its amendments; ``get_handout(db, id, amendment_id)``
  the handout's exact bytes, for a byte-identical reprint;
- ``list_events(db, …)`` the audit log.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import msgspec
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, undefer

from pharmacist_tool import __version__
from pharmacist_tool.case import Case, dump_case
from pharmacist_tool.engine.assessment import Assessment, encode_assessment
from pharmacist_tool.engine.readiness import missing_for_signing
from pharmacist_tool.errors import UserError
from pharmacist_tool.records import chain
from pharmacist_tool.records.db import Database
from pharmacist_tool.records.models import Amendment, AuditEvent, Record
from pharmacist_tool.records.users import AuthenticatedUser, require_signer, utcnow, workstation

AUDIT_ACTIONS = frozenset(
    {
        "sign",
        "amend",
        "view",
        "print",
        "reprint",
        "export",
        "login",
        "logout",
        "login-failed",
        "account-locked",
        "user-added",
        "backup",
        "restore",
    }
)

SIGNATURE_MEANINGS: dict[str, str] = {
    "handed-over": "Counselled the patient and approved hand-over of the medicine",
    "not-handed-over": "Recorded that the medicine was not handed over",
    "declined": "Recorded that the patient declined counselling, and approved hand-over",
}
AMENDMENT_MEANING = "Amended the counselling record (the original is kept unchanged)"

OUTCOME_LABELS = {
    "handed-over": "handed over",
    "not-handed-over": "not handed over",
    "declined": "counselling declined",
}


class HandoutLike(Protocol):
    """What signing needs of a handout (``pharmacist_tool.handout.Handout`` has it)."""

    @property
    def pdf(self) -> bytes: ...
    @property
    def sha256(self) -> str: ...
    @property
    def template_version(self) -> str: ...
    @property
    def language(self) -> str: ...
    @property
    def large_print(self) -> bool: ...
    @property
    def paper(self) -> str: ...


@dataclass(frozen=True)
class StoredHandout:
    """A handout as stored with a record (also what ``sign --handout FILE`` builds)."""

    pdf: bytes
    sha256: str
    template_version: str
    language: str
    large_print: bool
    paper: str
    source: str = "supplied"

    @classmethod
    def from_file_bytes(cls, pdf: bytes, case: Case, *, paper: str = "") -> StoredHandout:
        if not pdf.startswith(b"%PDF-"):
            raise UserError("The handout file is not a PDF (it does not start with %PDF-)")
        return cls(
            pdf=pdf,
            sha256=hashlib.sha256(pdf).hexdigest(),
            template_version="supplied file",
            language=case.patient.handout_language,
            large_print=case.patient.large_print,
            paper=paper or "unknown",
            source="supplied",
        )


# -- names and values -----------------------------------------------------------------------


def fold_name(text: str) -> str:
    """Lower case, accents removed, spaces collapsed: "  GARCÍA  Ana" → "garcia ana"."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.casefold().split())


def _json_ready(value: Any) -> Any:
    if isinstance(value, memoryview):
        value = bytes(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _stored(row: object, *, include_handout: bool) -> dict[str, Any]:
    table = row.__table__  # type: ignore[attr-defined]
    return {
        column.key: _json_ready(getattr(row, column.key))
        for column in table.columns
        if include_handout or column.key != "handout_pdf"
    }


# -- what the readers get -------------------------------------------------------------------


@dataclass(frozen=True)
class Signature:
    """The signature manifestation (21 CFR 11.50): printed name, date and time, meaning."""

    username: str
    printed_name: str
    role: str
    signed_at: dt.datetime
    meaning: str

    def line(self) -> str:
        return (
            f"Signed by {self.printed_name} ({self.role}) on "
            f"{self.signed_at.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC: {self.meaning}"
        )


@dataclass(frozen=True)
class RecordSummary:
    id: int
    signed_at: dt.datetime
    counselled_on: dt.date
    patient_name: str
    patient_date_of_birth: dt.date
    medicine: str
    rule_set: str
    outcome: str
    outcome_reason: str
    pharmacist: str
    """The printed name of who signed."""
    pharmacist_username: str
    amendment_count: int
    handout_sha256: str
    knowledge_base_version: str
    rules_version: str

    @property
    def outcome_label(self) -> str:
        return OUTCOME_LABELS.get(self.outcome, self.outcome)

    def to_json(self) -> dict[str, Any]:
        return {
            key: _json_ready(value)
            for key, value in self.__dict__.items()
            if not key.startswith("_")
        }


class _SignedDocuments:
    """The case and assessment as signed, decoded from their stored JSON."""

    case_json: str
    assessment_json: str

    @property
    def case(self) -> Case:
        return msgspec.json.decode(self.case_json, type=Case)

    @property
    def assessment(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.assessment_json)
        return data


@dataclass(frozen=True)
class AmendmentDetail(_SignedDocuments):
    id: int
    record_id: int
    signature: Signature
    reason: str
    case_json: str
    assessment_json: str
    outcome: str
    outcome_reason: str
    handout_sha256: str
    row_hash: str
    prev_hash: str
    stored: dict[str, Any]
    handout_pdf: bytes | None = None


@dataclass(frozen=True)
class RecordDetail(_SignedDocuments):
    summary: RecordSummary
    signature: Signature
    prepared_by: str | None
    workstation: str
    app_version: str
    case_json: str
    """The case exactly as signed."""
    assessment_json: str
    handout_sha256: str
    handout_template_version: str
    handout_language: str
    handout_large_print: bool
    handout_paper: str
    handout_source: str
    row_hash: str
    prev_hash: str
    seq: int
    stored: dict[str, Any]
    """Every stored column as JSON-ready values (the handout bytes only when asked for)."""
    amendments: tuple[AmendmentDetail, ...] = ()
    handout_pdf: bytes | None = None

    @property
    def id(self) -> int:
        return self.summary.id

    @property
    def current_case_json(self) -> str:
        """The case as last amended (the signed case when there is no amendment)."""
        return self.amendments[-1].case_json if self.amendments else self.case_json


@dataclass(frozen=True)
class RecordPage:
    items: tuple[RecordSummary, ...]
    total: int
    offset: int
    limit: int


@dataclass(frozen=True)
class EventInfo:
    id: int
    at: dt.datetime
    action: str
    username: str | None
    record_id: int | None
    amendment_id: int | None
    detail: dict[str, Any]
    workstation: str


@dataclass(frozen=True)
class RecordFilter:
    """Filters for the records view and the exports (every one optional, all must hold)."""

    patient: str | None = None
    """Part of the patient's name, in any letter case, with or without accents."""
    date_of_birth: dt.date | None = None
    since: dt.date | None = None
    """Counselled on or after this date."""
    until: dt.date | None = None
    """Counselled on or before this date."""
    pharmacist: str | None = None
    """The signer's user name, or part of their printed name."""
    outcome: str | None = None
    rule_set: str | None = None
    ids: Sequence[int] | None = field(default=None)


SortKey = Literal["signed_at", "counselled_on", "patient_name", "pharmacist", "outcome", "id"]


# -- writing --------------------------------------------------------------------------------


def _check_ready(case: Case, assessment: Assessment) -> None:
    missing = missing_for_signing(case, assessment)
    if missing:
        raise UserError("The session is not finished; before signing:", details=missing)


def _handout_fields(handout: HandoutLike) -> dict[str, Any]:
    pdf = bytes(handout.pdf)
    digest = hashlib.sha256(pdf).hexdigest()
    if handout.sha256 and handout.sha256 != digest:
        raise UserError("The handout's bytes do not match its SHA-256: it was not stored")
    return {
        "handout_pdf": pdf,
        "handout_sha256": digest,
        "handout_template_version": str(handout.template_version)[:80],
        "handout_language": str(handout.language)[:10],
        "handout_large_print": bool(handout.large_print),
        "handout_paper": str(handout.paper)[:20],
        "handout_source": str(getattr(handout, "source", "rendered"))[:20],
    }


def _event(
    session: Session,
    head: Any,
    action: str,
    *,
    at: dt.datetime,
    username: str | None,
    user_id: int | None,
    record_id: int | None = None,
    amendment_id: int | None = None,
    detail: Mapping[str, Any] | None = None,
) -> AuditEvent:
    event = AuditEvent(
        at=at,
        action=action,
        username=username,
        user_id=user_id,
        record_id=record_id,
        amendment_id=amendment_id,
        detail=json.dumps(dict(detail or {}), sort_keys=True, ensure_ascii=False, default=str),
        workstation=workstation(),
    )
    chain.append(session, head, event)
    return event


def sign_record(
    db: Database,
    signer: AuthenticatedUser,
    case: Case,
    assessment: Assessment,
    handout: HandoutLike,
    *,
    prepared_by: str | None = None,
) -> RecordSummary:
    """Store a finished session as a signed record (``signer`` authenticated just now).

    Refuses a non-pharmacist and an unfinished session (``UserError`` listing what is missing).
    The record, its audit event and the chain head move together in one transaction.
    """
    require_signer(signer)
    _check_ready(case, assessment)
    assert case.outcome is not None
    kb = assessment.knowledge_base
    values = _handout_fields(handout)
    now = utcnow()
    record = Record(
        signed_at=now,
        user_id=signer.id,
        signer_username=signer.username,
        signer_full_name=signer.printed_name,
        signer_role=signer.role,
        signature_meaning=SIGNATURE_MEANINGS[case.outcome.status],
        prepared_by=prepared_by,
        workstation=workstation(),
        app_version=__version__,
        patient_name=case.patient.name,
        patient_name_key=fold_name(case.patient.name),
        patient_date_of_birth=case.patient.date_of_birth,
        counselled_on=case.counselled_on,
        rule_set=case.rule_set,
        medicine=assessment.product or case.prescription.medicine,
        outcome=case.outcome.status,
        outcome_reason=case.outcome.reason,
        dispense=assessment.dispense,
        knowledge_base_version=kb.version,
        rules_version=kb.rules_version,
        rules_effective_from=kb.rules_effective_from,
        case_json=dump_case(case).decode("utf-8"),
        assessment_json=encode_assessment(assessment).decode("utf-8"),
        **values,
    )
    with db.session(write=True) as session, chain.appending(session) as head:
        chain.append(session, head, record)
        _event(
            session,
            head,
            "sign",
            at=now,
            username=signer.username,
            user_id=signer.id,
            record_id=record.id,
            detail={
                "outcome": record.outcome,
                "handout_sha256": record.handout_sha256,
                "meaning": record.signature_meaning,
            },
        )
    return _summary(record, 0)


def amend_record(
    db: Database,
    record_id: int,
    signer: AuthenticatedUser,
    case: Case,
    assessment: Assessment,
    handout: HandoutLike,
    reason: str,
) -> AmendmentDetail:
    """Append an amendment to a signed record; the record itself never changes."""
    require_signer(signer)
    reason = " ".join(reason.split())
    if not reason:
        raise UserError("Give the reason for the amendment (--reason)")
    if len(reason) > 2000:
        raise UserError("The reason is too long (at most 2000 characters)")
    _check_ready(case, assessment)
    assert case.outcome is not None
    values = _handout_fields(handout)
    now = utcnow()
    amendment = Amendment(
        record_id=record_id,
        amended_at=now,
        user_id=signer.id,
        signer_username=signer.username,
        signer_full_name=signer.printed_name,
        signer_role=signer.role,
        signature_meaning=AMENDMENT_MEANING,
        reason=reason,
        workstation=workstation(),
        app_version=__version__,
        patient_name=case.patient.name,
        patient_date_of_birth=case.patient.date_of_birth,
        counselled_on=case.counselled_on,
        outcome=case.outcome.status,
        outcome_reason=case.outcome.reason,
        knowledge_base_version=assessment.knowledge_base.version,
        rules_version=assessment.knowledge_base.rules_version,
        case_json=dump_case(case).decode("utf-8"),
        assessment_json=encode_assessment(assessment).decode("utf-8"),
        **values,
    )
    with db.session(write=True) as session:
        if session.execute(select(Record.id).where(Record.id == record_id)).first() is None:
            raise UserError(f"There is no record {record_id}")
        with chain.appending(session) as head:
            chain.append(session, head, amendment)
            _event(
                session,
                head,
                "amend",
                at=now,
                username=signer.username,
                user_id=signer.id,
                record_id=record_id,
                amendment_id=amendment.id,
                detail={"reason": reason, "handout_sha256": amendment.handout_sha256},
            )
    return _amendment_detail(amendment, include_handout=False)


def record_event(
    db: Database,
    action: str,
    *,
    user: AuthenticatedUser | str | None = None,
    record_id: int | None = None,
    amendment_id: int | None = None,
    detail: Mapping[str, Any] | None = None,
) -> int:
    """Append an audit event; returns its id. ``action``: one of ``AUDIT_ACTIONS``
    (the window: view, print, reprint, login/logout; the exports: export)."""
    if action not in AUDIT_ACTIONS:
        raise ValueError(f"unknown audit action {action!r}; use one of {sorted(AUDIT_ACTIONS)}")
    username = user.username if isinstance(user, AuthenticatedUser) else user
    user_id = user.id if isinstance(user, AuthenticatedUser) else None
    with db.session(write=True) as session:
        if user_id is None and username:
            from pharmacist_tool.records.models import User

            user_id = session.execute(
                select(User.id).where(User.username == username)
            ).scalar_one_or_none()
        with chain.appending(session) as head:
            event = _event(
                session,
                head,
                action,
                at=utcnow(),
                username=username,
                user_id=user_id,
                record_id=record_id,
                amendment_id=amendment_id,
                detail=detail,
            )
        return event.id


# -- reading --------------------------------------------------------------------------------


def _summary(record: Record, amendment_count: int) -> RecordSummary:
    return RecordSummary(
        id=record.id,
        signed_at=record.signed_at,
        counselled_on=record.counselled_on,
        patient_name=record.patient_name,
        patient_date_of_birth=record.patient_date_of_birth,
        medicine=record.medicine,
        rule_set=record.rule_set,
        outcome=record.outcome,
        outcome_reason=record.outcome_reason,
        pharmacist=record.signer_full_name,
        pharmacist_username=record.signer_username,
        amendment_count=amendment_count,
        handout_sha256=record.handout_sha256,
        knowledge_base_version=record.knowledge_base_version,
        rules_version=record.rules_version,
    )


def _amendment_detail(amendment: Amendment, *, include_handout: bool) -> AmendmentDetail:
    return AmendmentDetail(
        id=amendment.id,
        record_id=amendment.record_id,
        signature=Signature(
            username=amendment.signer_username,
            printed_name=amendment.signer_full_name,
            role=amendment.signer_role,
            signed_at=amendment.amended_at,
            meaning=amendment.signature_meaning,
        ),
        reason=amendment.reason,
        case_json=amendment.case_json,
        assessment_json=amendment.assessment_json,
        outcome=amendment.outcome,
        outcome_reason=amendment.outcome_reason,
        handout_sha256=amendment.handout_sha256,
        row_hash=amendment.row_hash,
        prev_hash=amendment.prev_hash,
        stored=_stored(amendment, include_handout=include_handout),
        handout_pdf=bytes(amendment.handout_pdf) if include_handout else None,
    )


def _detail(
    record: Record, amendments: Sequence[Amendment], *, include_handout: bool
) -> RecordDetail:
    return RecordDetail(
        summary=_summary(record, len(amendments)),
        signature=Signature(
            username=record.signer_username,
            printed_name=record.signer_full_name,
            role=record.signer_role,
            signed_at=record.signed_at,
            meaning=record.signature_meaning,
        ),
        prepared_by=record.prepared_by,
        workstation=record.workstation,
        app_version=record.app_version,
        case_json=record.case_json,
        assessment_json=record.assessment_json,
        handout_sha256=record.handout_sha256,
        handout_template_version=record.handout_template_version,
        handout_language=record.handout_language,
        handout_large_print=record.handout_large_print,
        handout_paper=record.handout_paper,
        handout_source=record.handout_source,
        row_hash=record.row_hash,
        prev_hash=record.prev_hash,
        seq=record.seq,
        stored=_stored(record, include_handout=include_handout),
        amendments=tuple(_amendment_detail(a, include_handout=include_handout) for a in amendments),
        handout_pdf=bytes(record.handout_pdf) if include_handout else None,
    )


def _filtered(stmt: Select[Any], filters: RecordFilter) -> Select[Any]:
    if filters.patient and filters.patient.strip():
        stmt = stmt.where(
            Record.patient_name_key.contains(fold_name(filters.patient), autoescape=True)
        )
    if filters.date_of_birth is not None:
        stmt = stmt.where(Record.patient_date_of_birth == filters.date_of_birth)
    if filters.since is not None:
        stmt = stmt.where(Record.counselled_on >= filters.since)
    if filters.until is not None:
        stmt = stmt.where(Record.counselled_on <= filters.until)
    if filters.pharmacist and filters.pharmacist.strip():
        text = filters.pharmacist.strip()
        stmt = stmt.where(
            (Record.signer_username == text)
            | func.lower(Record.signer_full_name).contains(text.lower(), autoescape=True)
        )
    if filters.outcome:
        stmt = stmt.where(Record.outcome == filters.outcome)
    if filters.rule_set:
        stmt = stmt.where(Record.rule_set == filters.rule_set)
    if filters.ids is not None:
        stmt = stmt.where(Record.id.in_(list(filters.ids)))
    return stmt


_SORT_COLUMNS: dict[str, Any] = {
    "signed_at": Record.signed_at,
    "counselled_on": Record.counselled_on,
    "patient_name": Record.patient_name_key,
    "pharmacist": Record.signer_full_name,
    "outcome": Record.outcome,
    "id": Record.id,
}


def _amendment_counts(session: Session, ids: Sequence[int]) -> dict[int, int]:
    if not ids:
        return {}
    rows = session.execute(
        select(Amendment.record_id, func.count())
        .where(Amendment.record_id.in_(list(ids)))
        .group_by(Amendment.record_id)
    ).all()
    return {int(rid): int(n) for rid, n in rows}


def search_records(
    db: Database,
    filters: RecordFilter | None = None,
    *,
    sort: SortKey = "signed_at",
    descending: bool = True,
    offset: int = 0,
    limit: int = 50,
) -> RecordPage:
    """One page of record summaries (no handout bytes, no JSON), with the total that match."""
    if sort not in _SORT_COLUMNS:
        raise ValueError(f"cannot sort by {sort!r}; use one of {sorted(_SORT_COLUMNS)}")
    filters = filters or RecordFilter()
    column = _SORT_COLUMNS[sort]
    order = [column.desc(), Record.id.desc()] if descending else [column.asc(), Record.id.asc()]
    with db.session() as session:
        total = int(
            session.execute(
                _filtered(select(func.count()).select_from(Record), filters)
            ).scalar_one()
        )
        records = (
            session.execute(
                _filtered(select(Record), filters)
                .order_by(*order)
                .offset(max(offset, 0))
                .limit(max(limit, 0))
            )
            .scalars()
            .all()
        )
        counts = _amendment_counts(session, [r.id for r in records])
    return RecordPage(
        items=tuple(_summary(r, counts.get(r.id, 0)) for r in records),
        total=total,
        offset=offset,
        limit=limit,
    )


def count_records(db: Database, filters: RecordFilter | None = None) -> int:
    with db.session() as session:
        stmt = _filtered(select(func.count()).select_from(Record), filters or RecordFilter())
        return int(session.execute(stmt).scalar_one())


def iter_summaries(
    db: Database, filters: RecordFilter | None = None, *, batch_size: int = 500
) -> Iterator[RecordSummary]:
    """Matching record summaries in counselled-date order (then id), a batch at a time."""
    filters = filters or RecordFilter()
    last: tuple[dt.date, int] | None = None
    while True:
        with db.session() as session:
            stmt = _filtered(select(Record), filters)
            if last is not None:
                stmt = stmt.where(
                    (Record.counselled_on > last[0])
                    | ((Record.counselled_on == last[0]) & (Record.id > last[1]))
                )
            records = (
                session.execute(stmt.order_by(Record.counselled_on, Record.id).limit(batch_size))
                .scalars()
                .all()
            )
            if not records:
                return
            counts = _amendment_counts(session, [r.id for r in records])
        for record in records:
            yield _summary(record, counts.get(record.id, 0))
        last = (records[-1].counselled_on, records[-1].id)


def _load_batch(
    session: Session, records: Sequence[Record], *, include_handout: bool
) -> list[RecordDetail]:
    ids = [r.id for r in records]
    stmt = select(Amendment).where(Amendment.record_id.in_(ids)).order_by(Amendment.id)
    if include_handout:
        stmt = stmt.options(undefer(Amendment.handout_pdf))
    by_record: dict[int, list[Amendment]] = {}
    for amendment in session.execute(stmt).scalars():
        by_record.setdefault(amendment.record_id, []).append(amendment)
    return [_detail(r, by_record.get(r.id, []), include_handout=include_handout) for r in records]


def iter_records(
    db: Database,
    filters: RecordFilter | None = None,
    *,
    include_handout: bool = False,
    batch_size: int = 200,
) -> Iterator[RecordDetail]:
    """Every matching record with its amendments, in id order, read a batch at a time (a short
    transaction per batch, so a long export never holds the database)."""
    filters = filters or RecordFilter()
    last_id = 0
    while True:
        with db.session() as session:
            stmt = (
                _filtered(select(Record), filters)
                .where(Record.id > last_id)
                .order_by(Record.id)
                .limit(batch_size)
            )
            if include_handout:
                stmt = stmt.options(undefer(Record.handout_pdf))
            records = session.execute(stmt).scalars().all()
            if not records:
                return
            batch = _load_batch(session, records, include_handout=include_handout)
        yield from batch
        last_id = records[-1].id


def get_record(db: Database, record_id: int, *, include_handout: bool = False) -> RecordDetail:
    """One record with its amendments; ``UserError`` when there is none with that id."""
    with db.session() as session:
        stmt = select(Record).where(Record.id == record_id)
        if include_handout:
            stmt = stmt.options(undefer(Record.handout_pdf))
        record = session.execute(stmt).scalar_one_or_none()
        if record is None:
            raise UserError(f"There is no record {record_id}")
        return _load_batch(session, [record], include_handout=include_handout)[0]


def get_handout(db: Database, record_id: int, amendment_id: int | None = None) -> StoredHandout:
    """The handout's exact stored bytes (the signed one, or an amendment's): reprints are
    byte-identical. Audit the reprint with ``record_event(db, "reprint", …)``."""
    with db.session() as session:
        row: Record | Amendment | None
        if amendment_id is None:
            row = session.execute(
                select(Record).where(Record.id == record_id).options(undefer(Record.handout_pdf))
            ).scalar_one_or_none()
            missing = f"record {record_id}"
        else:
            row = session.execute(
                select(Amendment)
                .where(Amendment.id == amendment_id, Amendment.record_id == record_id)
                .options(undefer(Amendment.handout_pdf))
            ).scalar_one_or_none()
            missing = f"amendment {amendment_id} of record {record_id}"
        if row is None:
            raise UserError(f"There is no {missing}")
        return StoredHandout(
            pdf=bytes(row.handout_pdf),
            sha256=row.handout_sha256,
            template_version=row.handout_template_version,
            language=row.handout_language,
            large_print=row.handout_large_print,
            paper=row.handout_paper,
            source=row.handout_source,
        )


def list_events(
    db: Database,
    *,
    record_id: int | None = None,
    action: str | None = None,
    since: dt.datetime | None = None,
    limit: int = 500,
) -> list[EventInfo]:
    """The audit log, newest first."""
    stmt = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if record_id is not None:
        stmt = stmt.where(AuditEvent.record_id == record_id)
    if action is not None:
        stmt = stmt.where(AuditEvent.action == action)
    if since is not None:
        stmt = stmt.where(AuditEvent.at >= since)
    with db.session() as session:
        return [
            EventInfo(
                id=e.id,
                at=e.at,
                action=e.action,
                username=e.username,
                record_id=e.record_id,
                amendment_id=e.amendment_id,
                detail=json.loads(e.detail or "{}"),
                workstation=e.workstation,
            )
            for e in session.execute(stmt).scalars()
        ]


def verify(db: Database, *, expect_head: tuple[int, str] | None = None) -> chain.VerifyReport:
    """Recompute the whole chain (records, amendments, audit events, users) in one snapshot;
    ``expect_head``: a ``(position, hash)`` written down earlier that the chain must still hold."""
    with db.snapshot() as session:
        return chain.verify_chain(session, expect_head=expect_head)
