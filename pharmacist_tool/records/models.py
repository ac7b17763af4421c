"""The records tables (SQLAlchemy 2 typed models).

Three append-only tables form one hash chain, ordered by ``seq``: ``records`` (a signed
counselling session), ``amendments`` (a later correction, never an edit) and ``audit_events``
(who did what, when). Each row stores the previous row's hash and its own hash over every stored
field (see ``chain.py``); ``chain_head`` holds the newest position, so that removing the newest
rows shows too, and is the row writers lock so that two counters never fork the chain.

Searchable facts (patient name, date of birth, counselled date, pharmacist, outcome) are plain
indexed columns beside the exact JSON that was signed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

GENESIS_HASH = "0" * 64


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A moment in UTC: stored without a zone (the same on SQLite and PostgreSQL), read aware."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("UTCDateTime needs an aware datetime")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # a raw value written outside the ORM
            value = dt.datetime.fromisoformat(value)
        assert isinstance(value, dt.datetime)
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map = {  # noqa: RUF012
        dt.datetime: UTCDateTime,
        dt.date: Date,
        str: String(200),
        bytes: LargeBinary,
    }


class User(Base):
    """A person who logs in. Not itself a chained table (the lock-out counter changes at every
    failed log-in), but every change to what it grants (added, role, administrator rights,
    password, locked, unlocked, deactivated) is a chained audit event carrying the SHA-256 of
    the row's ``USER_STATE_COLUMNS`` (``chain.user_state_digest``): ``verify`` and every log-in
    check the row against its newest such event. The database refuses DELETE on it."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    full_name: Mapped[str]
    role: Mapped[str] = mapped_column(String(20))
    """``pharmacist`` (signs), ``technician`` (prepares), ``admin`` (adds users, never signs)."""
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Administrator rights beside the role (the first user of a database has them)."""
    password_hash: Mapped[str] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime]
    created_by: Mapped[str | None] = mapped_column(String(80))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None]
    last_login_at: Mapped[dt.datetime | None]
    signing_key: Mapped[str | None] = mapped_column(Text, nullable=True, default=None)
    """The user's Ed25519 private key sealed under their password (``records.signing``); NULL
    until it is made (at the next sign-in of a user from before signatures, or after a reset)."""


USER_STATE_COLUMNS = (
    "id", "username", "full_name", "role", "is_admin", "password_hash", "active", "locked_until",
)  # fmt: skip
"""What a user row grants, covered by the chain (the lock-out counter and the last log-in time
are bookkeeping, left out)."""


class ChainHead(Base):
    """One row (id 1): the newest chain position and its hash."""

    __tablename__ = "chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    head_hash: Mapped[str] = mapped_column(String(64))
    head_table: Mapped[str | None] = mapped_column(String(30))
    head_id: Mapped[int | None] = mapped_column(Integer)


class ChainedRow:
    """Columns every chained table has (mixed into the mapped classes)."""

    seq: Mapped[int] = mapped_column(Integer, unique=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    row_hash: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str | None] = mapped_column(String(100), nullable=True, default=None)
    """The signer's Ed25519 signature (base64) over the row's canonical bytes, the bytes its
    hash is taken over (``records.signing``); NULL in rows from before signatures (schema
    0007) and in events nobody signs (a failed log-in)."""


class SignedDocuments:
    """What a signature covers (records and amendments alike): the case and assessment as
    signed, and the exact handout given."""

    case_json: Mapped[str] = mapped_column(Text)
    assessment_json: Mapped[str] = mapped_column(Text)

    handout_pdf: Mapped[bytes] = mapped_column(
        # last in the table, so reading any other column never walks the PDF's pages
        LargeBinary,
        nullable=False,
        deferred=True,
        sort_order=1000,
    )
    handout_sha256: Mapped[str] = mapped_column(String(64))
    handout_template_version: Mapped[str] = mapped_column(String(80))
    handout_language: Mapped[str] = mapped_column(String(10))
    handout_large_print: Mapped[bool] = mapped_column(Boolean)
    handout_paper: Mapped[str] = mapped_column(String(20))
    handout_source: Mapped[str] = mapped_column(String(20))
    """``rendered`` (made at signing) or ``supplied`` (a PDF file given to ``sign --handout``)."""


class Record(SignedDocuments, ChainedRow, Base):
    __tablename__ = "records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    signed_at: Mapped[dt.datetime] = mapped_column(index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    signer_username: Mapped[str] = mapped_column(String(80))
    signer_full_name: Mapped[str] = mapped_column(index=True)
    signer_role: Mapped[str] = mapped_column(String(20))
    signature_meaning: Mapped[str] = mapped_column(String(300))
    prepared_by: Mapped[str | None] = mapped_column(String(80))
    workstation: Mapped[str]
    app_version: Mapped[str] = mapped_column(String(40))

    patient_name: Mapped[str]
    patient_name_key: Mapped[str] = mapped_column(index=True)
    """The name folded for search: lower case, accents removed ("García" → "garcia")."""
    patient_date_of_birth: Mapped[dt.date] = mapped_column(index=True)
    counselled_on: Mapped[dt.date] = mapped_column(index=True)
    rule_set: Mapped[str] = mapped_column(String(40))
    medicine: Mapped[str]
    outcome: Mapped[str] = mapped_column(String(20), index=True)
    outcome_reason: Mapped[str] = mapped_column(Text)
    dispense: Mapped[str] = mapped_column(String(20))
    knowledge_base_version: Mapped[str] = mapped_column(String(40))
    """The version of the medicine pack it was assessed with (``knowledge_base.version``)."""
    rules_version: Mapped[str] = mapped_column(String(80))
    rules_effective_from: Mapped[dt.date]
    pack: Mapped[str] = mapped_column(String(40), nullable=True, index=True)
    """The medicine pack the record was assessed with (``knowledge_base.medicine``): amendments
    are assessed with it again. Filled from the signed assessment for records signed before it
    was a column (migration 0006), whose hash does not cover it (see ``chain_format``)."""
    chain_format: Mapped[int | None] = mapped_column(Integer)
    """What the row's hash covers (``chain.CHAIN_FORMAT`` when it was signed; NULL: format 1,
    from before any column of ``chain.LATER_COLUMNS``)."""

    __table_args__ = (Index("ix_records_pharmacist_signed", "signer_username", "signed_at"),)


class Amendment(SignedDocuments, ChainedRow, Base):
    __tablename__ = "amendments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    record_id: Mapped[int] = mapped_column(ForeignKey("records.id"), index=True)
    amended_at: Mapped[dt.datetime]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    signer_username: Mapped[str] = mapped_column(String(80))
    signer_full_name: Mapped[str]
    signer_role: Mapped[str] = mapped_column(String(20))
    signature_meaning: Mapped[str] = mapped_column(String(300))
    reason: Mapped[str] = mapped_column(Text)
    workstation: Mapped[str]
    app_version: Mapped[str] = mapped_column(String(40))

    patient_name: Mapped[str]
    patient_date_of_birth: Mapped[dt.date]
    counselled_on: Mapped[dt.date]
    outcome: Mapped[str] = mapped_column(String(20))
    outcome_reason: Mapped[str] = mapped_column(Text)
    knowledge_base_version: Mapped[str] = mapped_column(String(40))
    rules_version: Mapped[str] = mapped_column(String(80))


class AuditEvent(ChainedRow, Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime] = mapped_column(index=True)
    action: Mapped[str] = mapped_column(String(30), index=True)
    username: Mapped[str | None] = mapped_column(String(80))
    """As typed for a failed login (the name may not exist); the user's name otherwise."""
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    record_id: Mapped[int | None] = mapped_column(ForeignKey("records.id"), index=True)
    amendment_id: Mapped[int | None] = mapped_column(ForeignKey("amendments.id"))
    detail: Mapped[str] = mapped_column(Text)
    """JSON object: what else an inspector needs (printer, export format and count, …)."""
    workstation: Mapped[str]
    subject_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    """For a change to a user (added, role, password, locked, …): whom it changed; its
    ``detail`` then carries ``state_sha256``, the user row's digest after the change. NULL for
    every other event (left out of the hash, so older events keep their hashes)."""


CHAINED_TABLES: dict[str, type[Record] | type[Amendment] | type[AuditEvent]] = {
    "records": Record,
    "amendments": Amendment,
    "audit_events": AuditEvent,
}


# -- the course across visits (a read model: derived from the signed records, rebuildable) ------


class CourseFill(Base):
    """One signed record's fill as last amended: what ``course``, ``next`` and ``due`` read.

    Written in the same transaction as the record or amendment it comes from (and built for
    older records by migration 0005). Not part of the hash chain: it holds nothing that is not
    in the signed JSON, and ``records.course.rebuild_course_index`` makes it again from there.
    """

    __tablename__ = "course_fills"

    record_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    """The record's id (no foreign key: this read model must never stand in the way of the
    records themselves; ``verify`` is what checks them)."""
    amendment_id: Mapped[int | None] = mapped_column(Integer)
    """The amendment these values come from (``None``: the record as signed)."""
    programme_id: Mapped[str | None] = mapped_column(String(200), index=True)
    patient_name: Mapped[str]
    patient_name_key: Mapped[str]
    patient_date_of_birth: Mapped[dt.date]
    can_get_pregnant: Mapped[bool] = mapped_column(Boolean)
    weight_kg: Mapped[float] = mapped_column(Float)
    counselled_on: Mapped[dt.date]
    rule_set: Mapped[str] = mapped_column(String(40))
    medicine: Mapped[str]
    outcome: Mapped[str] = mapped_column(String(20))
    daily_dose_mg: Mapped[float] = mapped_column(Float)
    days_supply: Mapped[int] = mapped_column(Integer)
    fill_number: Mapped[int | None] = mapped_column(Integer)
    cumulative_mg_before: Mapped[float | None] = mapped_column(Float)
    last_fill: Mapped[bool] = mapped_column(Boolean)
    next_pregnancy_test_due: Mapped[dt.date | None]
    after_course_test_due: Mapped[dt.date | None]
    pick_up_by: Mapped[dt.date | None]
    authorization_number: Mapped[str | None]
    authorization_reversed_on: Mapped[dt.date | None]

    __table_args__ = (
        Index("ix_course_fills_name_born", "patient_name_key", "patient_date_of_birth"),
        Index("ix_course_fills_born", "patient_date_of_birth"),
    )


class CourseDue(Base):
    """What falls due for a patient's course (recomputed whenever one of their fills is)."""

    __tablename__ = "course_due"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patient_key: Mapped[str] = mapped_column(String(220), index=True)
    what: Mapped[str] = mapped_column(String(40))
    due_on: Mapped[dt.date]
    shown_until: Mapped[dt.date]
    """The last day the due list shows it (overdue items do not stay for ever)."""
    record_id: Mapped[int] = mapped_column(Integer, index=True)
    patient_name: Mapped[str]
    patient_date_of_birth: Mapped[dt.date]
    programme_id: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (Index("ix_course_due_due_on", "due_on", "shown_until"),)
