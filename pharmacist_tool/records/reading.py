"""The one records read model: what the command line, the window and the exports read.

One ``RecordFilter``, one sort map (``SORT_COLUMNS``), one outcome vocabulary (``OUTCOMES``,
``OUTCOME_WORDS``) and one set of types: ``RecordSummary`` (a line of a list), ``RecordDetail``
(one record with its amendments, the case and assessment exactly as signed) and ``SignedFacts``
(what an inspector reads of a record: pregnancy tests, contraception as said and as counted, the
other medicines as screened, each finding with its resolution in words, the authorization).

Single reads take an open ``Database`` (one short transaction each); the streams for an export
take the export's ``Session``, so the whole file is read from one snapshot, a batch at a time
(keyset pagination: "the next N after this row", which costs the same on page 1 and page 1,000).
No session or ORM object leaves this module.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import msgspec
from sqlalchemy import ColumnElement, Select, and_, func, or_, select, tuple_
from sqlalchemy.orm import Session, undefer

from pharmacist_tool.case import Carried, Case, RiskCategoryChange, carried_words
from pharmacist_tool.errors import UserError
from pharmacist_tool.patient_identity import fold_name
from pharmacist_tool.records.db import Database
from pharmacist_tool.records.models import Amendment, AuditEvent, Record

# -- the vocabulary -------------------------------------------------------------------------

OUTCOMES = ("handed-over", "not-handed-over", "declined")
OUTCOME_WORDS = {
    "handed-over": "handed over",
    "not-handed-over": "not handed over",
    "declined": "counselling declined",
}
"""The three outcomes in words (the window capitalises them)."""

SEVERITY_WORDS = {"block": "Block", "warn": "Warning", "info": "Information"}

MAX_ID = 2**31 - 1
"""The largest id the id columns hold on every backend (PostgreSQL ``integer``)."""


def outcome_words(outcome: str) -> str:
    return OUTCOME_WORDS.get(outcome, outcome)


def parse_date(text: str | None, what: str, *, blank_ok: bool = True) -> dt.date | None:
    """A date typed by a person (YYYY-MM-DD); a clear message when it is not one. ``None`` is
    "not given"; a blank text is too in a search box (``blank_ok``), but an option given with
    nothing in it (``--since ''``) is refused rather than silently meaning "everything"."""
    if text is None:
        return None
    if not text.strip():
        if blank_ok:
            return None
        raise UserError(
            f"{what} is empty: give a date as YYYY-MM-DD, e.g. 2026-03-01, or leave {what} out"
        )
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise UserError(
            f"{what}: {text!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-03-01"
        ) from None


def parse_record_id(text: str) -> int:
    """A record id typed by a person ("12" or "#12"); refused unless a whole number from 1 to
    the largest id a database can hold."""
    cleaned = text.strip().lstrip("#")
    if not cleaned.isascii() or not cleaned.isdigit() or int(cleaned) < 1:
        raise UserError(f"{text!r} is not a record id (a whole number, as `sign` printed it)")
    if int(cleaned) > MAX_ID:
        raise UserError(f"There is no record {cleaned}: record ids are never that large")
    return int(cleaned)


# -- what to look for -----------------------------------------------------------------------

_WORD_BREAKS = (" ", "-", "'", "’", "(", ",", ".")


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def pack_named(medicine: str) -> str:
    """The pack a person means by ``medicine``: a pack's name, or a product of one (any case);
    ``UserError`` naming the packs when it is neither."""
    from pharmacist_tool.knowledge import packs

    wanted = medicine.strip()
    by_name = {name.casefold(): name for name in packs.names()}
    if wanted.casefold() in by_name:
        return by_name[wanted.casefold()]
    return packs.pack_for(wanted)


@dataclass(frozen=True)
class RecordFilter:
    """What to look for. Empty fields do not filter; all given must hold.

    ``patient`` ignores case and accents. With ``match="start"`` (the default, everywhere) it
    matches the start of any word of the name ("fern" finds "Lucía Fernández", "ana gar" finds
    "Ana García"); with ``match="anywhere"`` any part of it ("nand" finds "Fernández").
    """

    patient: str = ""
    match: Literal["start", "anywhere"] = "start"
    date_of_birth: dt.date | None = None
    since: dt.date | None = None
    """Counselled on or after this date."""
    until: dt.date | None = None
    """Counselled on or before this date."""
    pharmacist: str = ""
    """The signer's user name or printed name."""
    outcome: str = ""
    rule_set: str = ""
    medicine: str = ""
    """The medicine pack (its name), or any name of one of its products."""
    ids: Sequence[int] | None = field(default=None)

    def check(self) -> None:
        if self.since and self.until and self.since > self.until:
            raise UserError(
                f"The date range is empty: from {self.since.isoformat()} is after "
                f"until {self.until.isoformat()}."
            )
        if self.outcome and self.outcome not in OUTCOMES:
            raise UserError(f"Unknown outcome {self.outcome!r}; use one of: {', '.join(OUTCOMES)}.")
        if self.match not in ("start", "anywhere"):
            raise UserError(f"Unknown name match {self.match!r}; use start or anywhere.")
        if self.medicine.strip():
            pack_named(self.medicine)

    def conditions(self) -> list[ColumnElement[bool]]:
        self.check()
        where: list[ColumnElement[bool]] = []
        key = fold_name(self.patient or "")
        if key:
            name = Record.patient_name_key
            escaped = _escape_like(key)
            if self.match == "anywhere":
                where.append(name.like(f"%{escaped}%", escape="\\"))
            else:
                upper = key[:-1] + chr(ord(key[-1]) + 1)
                starts = [and_(name >= key, name < upper)]  # the start of the name: indexed
                starts += [name.like(f"%{b}{escaped}%", escape="\\") for b in _WORD_BREAKS]
                where.append(or_(*starts))
        if self.date_of_birth:
            where.append(Record.patient_date_of_birth == self.date_of_birth)
        if self.since:
            where.append(Record.counselled_on >= self.since)
        if self.until:
            where.append(Record.counselled_on <= self.until)
        if self.pharmacist and self.pharmacist.strip():
            who = self.pharmacist.strip()
            where.append(or_(Record.signer_username == who, Record.signer_full_name == who))
        if self.outcome:
            where.append(Record.outcome == self.outcome)
        if self.rule_set:
            where.append(Record.rule_set == self.rule_set)
        if self.medicine.strip():
            where.append(Record.pack == pack_named(self.medicine))
        if self.ids is not None:
            where.append(Record.id.in_(list(self.ids)))
        return where

    def describe(self) -> dict[str, Any]:
        """The filter as JSON-ready values (for the audit event and the export's header)."""
        values = {
            "patient": self.patient,
            "match": self.match if self.patient else "",
            "date_of_birth": self.date_of_birth,
            "since": self.since,
            "until": self.until,
            "pharmacist": self.pharmacist,
            "outcome": self.outcome,
            "rule_set": self.rule_set,
            "medicine": self.medicine.strip(),
            "ids": list(self.ids) if self.ids is not None else None,
        }
        return {
            key: (value.isoformat() if isinstance(value, dt.date) else value)
            for key, value in values.items()
            if value not in ("", None)
        }


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


# -- a line of a list -----------------------------------------------------------------------


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


@dataclass(frozen=True)
class RecordSummary:
    """One line of the records list (no JSON, no handout bytes)."""

    id: int
    signed_at: dt.datetime
    counselled_on: dt.date
    patient_name: str
    date_of_birth: dt.date
    medicine: str
    rule_set: str
    outcome: str
    outcome_reason: str
    pharmacist: str
    """The printed name of who signed."""
    pharmacist_username: str
    amendments: int
    """How many amendments the record has."""
    handout_sha256: str
    knowledge_base_version: str
    """The version of the medicine pack the record was signed with."""
    rules_version: str
    pack: str
    """The medicine pack the record was assessed with (``knowledge_base.medicine``)."""
    sort_value: Any = None
    """The value the list is sorted by (for the next page)."""

    @property
    def outcome_label(self) -> str:
        return outcome_words(self.outcome)

    def to_json(self) -> dict[str, Any]:
        """One line of ``records --json`` (its keys are kept stable for scripts)."""
        renamed = {"date_of_birth": "patient_date_of_birth", "amendments": "amendment_count"}
        return {
            renamed.get(key, key): _json_ready(value)
            for key, value in self.__dict__.items()
            if key != "sort_value"
        }


_SUMMARY_COLUMNS = (
    Record.id,
    Record.signed_at,
    Record.counselled_on,
    Record.patient_name,
    Record.patient_date_of_birth,
    Record.medicine,
    Record.rule_set,
    Record.outcome,
    Record.outcome_reason,
    Record.signer_full_name,
    Record.signer_username,
)


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
    if sort not in SORT_COLUMNS:
        raise ValueError(f"cannot sort by {sort!r}; use one of {sorted(SORT_COLUMNS)}")
    column = SORT_COLUMNS[sort]
    columns: list[Any] = [
        *_SUMMARY_COLUMNS,
        _amendment_count(),
        Record.handout_sha256,
        Record.knowledge_base_version,
        Record.rules_version,
        Record.pack,
        column,
    ]
    stmt: Select[Any] = select(*columns).where(*flt.conditions())
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
    return stmt.limit(max(limit, 0))


def fetch_page(
    db: Database,
    flt: RecordFilter | None = None,
    *,
    sort: str = "signed_at",
    descending: bool = True,
    after: tuple[Any, int] | None = None,
    limit: int = 100,
) -> list[RecordSummary]:
    """One page of the list: ``limit`` summaries after the row ``after`` (its sort value, id)."""
    stmt = page_query(
        flt or RecordFilter(), sort=sort, descending=descending, after=after, limit=limit
    )
    with db.session() as session:
        return [RecordSummary(*row) for row in session.execute(stmt)]


def count_records(db: Database, flt: RecordFilter | None = None) -> int:
    with db.session() as session:
        return count_in(session, flt or RecordFilter())


def count_in(session: Session, flt: RecordFilter) -> int:
    stmt = select(func.count()).select_from(Record).where(*flt.conditions())
    return int(session.execute(stmt).scalar_one())


def iter_summaries(
    db: Database,
    flt: RecordFilter | None = None,
    *,
    sort: str = "counselled_on",
    descending: bool = False,
    batch: int = 500,
) -> Iterator[RecordSummary]:
    """Every matching summary, a page at a time (a short transaction per page)."""
    after: tuple[Any, int] | None = None
    while True:
        page = fetch_page(db, flt, sort=sort, descending=descending, after=after, limit=batch)
        yield from page
        if len(page) < batch:
            return
        after = (page[-1].sort_value, page[-1].id)


def pharmacists(db: Database) -> list[tuple[str, str]]:
    """(username, printed name) of everyone who signed a record, for the filter list."""
    with db.session() as session:
        rows = session.execute(
            select(Record.signer_username, Record.signer_full_name)
            .group_by(Record.signer_username, Record.signer_full_name)
            .order_by(Record.signer_full_name)
        )
        return [(r[0], r[1]) for r in rows]


# -- what an inspector reads of a signed record --------------------------------------------


class _Test(msgspec.Struct):
    date: str
    result: str


class _Rx(msgspec.Struct):
    strength_mg: float
    units_per_dose: int
    doses_per_day: int
    days_supply: int
    prescribed_on: str
    quantity: int | None = None
    refills: int = 0
    prescriber: str = ""
    authorization: str | None = None


class _Patient(msgspec.Struct):
    weight_kg: float
    can_get_pregnant: bool


class SignedCase(msgspec.Struct):
    """The parts of a signed case the lists and the CSV read (decoded without the rest)."""

    patient: _Patient
    prescription: _Rx
    pregnancy_tests: list[_Test] = msgspec.field(default_factory=list)
    contraception: list[str] = msgspec.field(default_factory=list)
    medicines: list[str] = msgspec.field(default_factory=list)
    other_medicines_asked: bool | None = None
    carried: Carried | None = None
    risk_category_change: RiskCategoryChange | None = None


class _Finding(msgspec.Struct):
    code: str
    severity: str = ""
    subject: str | None = None
    message: str = ""
    programme_rule: bool = False
    resolution: str | None = None


class _Screened(msgspec.Struct):
    line: str
    recognised_as: str | None = None
    codes: list[str] = msgspec.field(default_factory=list)


class _Duty(msgspec.Struct):
    id: str
    words: str = ""
    kind: str = ""
    recorded: bool = False
    value: str = ""
    done: bool | None = None
    form_date: str | None = None
    form_valid_until: str | None = None
    form_expired: bool = False
    answer: str | None = None


class SignedAssessment(msgspec.Struct):
    """The parts of a signed assessment the lists and the CSV read."""

    daily_dose_mg: float
    dose_mg_per_kg_per_day: float
    dispense: str = ""
    pick_up_by: str | None = None
    next_pregnancy_test_due: str | None = None
    findings: list[_Finding] = msgspec.field(default_factory=list)
    medicines_screened: list[_Screened] | None = None
    """Present in assessments made since the engine lists what it screened."""
    duties: list[_Duty] | None = None
    """The programme's duties on the supply (a rule set that lists duties, signed since)."""


decode_signed_case = msgspec.json.Decoder(SignedCase).decode
decode_signed_assessment = msgspec.json.Decoder(SignedAssessment).decode

_NOT_COUNTED_CODES = {
    "contraception.unrecognised": "not recognised, so not counted",
    "contraception.method-not-accepted": "not counted under these rules",
}


def _resolution_words(finding: _Finding) -> str:
    if finding.severity == "info":
        return "for information"
    if finding.programme_rule:
        return "a programme rule: cannot be overridden"
    text = " ".join((finding.resolution or "").split())
    return f"resolved: {text}" if text else "not resolved"


def asked_words(asked: bool | None, medicines: list[str]) -> str:
    """``other_medicines_asked`` in words, as the record view and the CSV show it."""
    if asked is None:
        return "not recorded"
    if not asked:
        return "not asked"
    return "asked" if any(m.strip() for m in medicines) else "asked: takes none"


@dataclass(frozen=True)
class SignedFacts:
    """What an inspector reads of a signed record, in words (no internal codes)."""

    pregnancy_tests: tuple[str, ...]
    """"2026-03-01 negative", newest first as entered."""
    contraception_said: tuple[str, ...]
    """Each method as the patient said it."""
    contraception_counted: tuple[str, ...]
    """Each method said, and whether the rules counted it ("the pill: counted")."""
    medicines_screened: tuple[str, ...] | None
    """Each other medicine as said and what it was screened as; None when the record was
    signed before the assessment listed what it screened."""
    medicines_said: tuple[str, ...]
    other_medicines_asked: str
    """Whether the patient was asked about other medicines, in words (``asked: takes none``,
    ``asked``, ``not asked``, ``not recorded``)."""
    findings: tuple[str, ...]
    """"Warning: <message> (<subject>) — resolved: <the pharmacist's words>"."""
    authorization: str
    risk_category_change: str = ""
    """A change of ``can_get_pregnant`` since the last visit, who decided it and why."""
    carried: str = ""
    """What a next visit carried from the last one, confirmed or changed."""
    duties: tuple[str, ...] | None = None
    """Each programme duty on the supply and what was recorded ("Patient card given: given");
    None when the rules listed none (or the record was signed before they did)."""
    duties_not_done: tuple[str, ...] = ()
    """The ids of the duties recorded as not done, or not recorded."""
    form_date: str = ""
    """The date of the programme form seen (a rule set's form seen with its date)."""
    form_valid_until: str = ""
    form_in_date: bool | None = None
    """The form was in date on the day of the supply (None: no form seen)."""
    duty_answers: tuple[str, ...] = ()
    """Each question asked and the patient's answer ("sexual-function-question: no-change")."""

    @classmethod
    def of(cls, case: SignedCase, assessment: SignedAssessment) -> SignedFacts:
        not_counted: dict[str, str] = {}
        for f in assessment.findings:
            if f.code in _NOT_COUNTED_CODES and f.subject:
                not_counted.setdefault(f.subject, _NOT_COUNTED_CODES[f.code])
        said = tuple(m for m in case.contraception if m.strip())
        counted = tuple(f"{m}: {not_counted.get(m, 'counted')}" for m in said)
        screened: tuple[str, ...] | None = None
        if assessment.medicines_screened is not None:
            screened = tuple(
                f"{s.line}: screened as {s.recognised_as}"
                if s.recognised_as
                else f"{s.line}: not recognised, not screened (check by hand)"
                for s in assessment.medicines_screened
            )
        findings = []
        for f in assessment.findings:
            words = SEVERITY_WORDS.get(f.severity, f.severity.capitalize() or "Finding")
            subject = f" ({f.subject})" if f.subject and f.subject not in f.message else ""
            findings.append(f"{words}: {f.message}{subject} — {_resolution_words(f)}")
        return cls(
            pregnancy_tests=tuple(f"{t.date} {t.result}" for t in case.pregnancy_tests),
            contraception_said=said,
            contraception_counted=counted,
            medicines_screened=screened,
            medicines_said=tuple(m for m in case.medicines if m.strip()),
            other_medicines_asked=asked_words(case.other_medicines_asked, case.medicines),
            findings=tuple(findings),
            authorization=case.prescription.authorization or "",
            risk_category_change=(
                case.risk_category_change.words if case.risk_category_change else ""
            ),
            carried=carried_words(case.carried) if case.carried else "",
            **_duty_facts(assessment.duties),
        )


def _duty_facts(duties: list[_Duty] | None) -> dict[str, Any]:
    if duties is None:
        return {}
    form = next((d for d in duties if d.form_date), None)
    return {
        "duties": tuple(
            f"{d.words or d.id}: {d.value if d.recorded else 'not recorded'}" for d in duties
        ),
        "duties_not_done": tuple(d.id for d in duties if not (d.recorded and d.done)),
        "form_date": form.form_date or "" if form else "",
        "form_valid_until": form.form_valid_until or "" if form else "",
        "form_in_date": None if form is None else not form.form_expired,
        "duty_answers": tuple(f"{d.id}: {d.answer}" for d in duties if d.answer),
    }


# -- one whole record -----------------------------------------------------------------------


@dataclass(frozen=True)
class Signature:
    """The signature manifestation (21 CFR 11.50): printed name, date and time, meaning."""

    username: str
    printed_name: str
    role: str
    signed_at: dt.datetime
    meaning: str

    @property
    def display(self) -> str:
        return self.printed_name or self.username

    def line(self) -> str:
        return (
            f"Signed by {self.printed_name} ({self.role}) on "
            f"{self.signed_at.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC: {self.meaning}"
        )


class _SignedDocuments:
    """The case and assessment as signed, decoded from their stored JSON (once)."""

    case_json: str
    assessment_json: str

    @functools.cached_property
    def case(self) -> Case:
        return msgspec.json.decode(self.case_json, type=Case)

    @functools.cached_property
    def assessment(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.assessment_json)
        return data

    @functools.cached_property
    def facts(self) -> SignedFacts:
        return SignedFacts.of(
            decode_signed_case(self.case_json), decode_signed_assessment(self.assessment_json)
        )


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
    """Every stored column (the handout bytes only when asked for)."""
    handout_pdf: bytes | None = None
    notice: str = ""
    """Said to the pharmacist who just signed it (the pack's version changed since the record)."""

    @property
    def pack_version(self) -> str:
        """The version of the medicine pack the amendment was assessed with."""
        return str(self.stored.get("knowledge_base_version") or "")


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
    """Every stored column (the handout bytes only when asked for)."""
    amendments: tuple[AmendmentDetail, ...] = ()
    handout_pdf: bytes | None = None

    @property
    def id(self) -> int:
        return self.summary.id

    @property
    def signed_at(self) -> dt.datetime:
        return self.summary.signed_at

    @property
    def outcome(self) -> str:
        return self.summary.outcome

    @property
    def outcome_reason(self) -> str:
        return self.summary.outcome_reason

    @property
    def pack(self) -> str:
        """The medicine pack the record was assessed with (its amendments too)."""
        return self.summary.pack

    @property
    def pack_version(self) -> str:
        """The pack's version of the record as last amended (as signed: ``summary``)."""
        if self.amendments:
            return self.amendments[-1].pack_version
        return self.summary.knowledge_base_version

    @property
    def current(self) -> _SignedDocuments:
        """The record as last amended (the record itself when there is no amendment)."""
        return self.amendments[-1] if self.amendments else self

    @property
    def current_case_json(self) -> str:
        return self.current.case_json

    @property
    def current_case(self) -> Case:
        return self.current.case


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


def _stored(row: object, *, include_handout: bool) -> dict[str, Any]:
    table = row.__table__  # type: ignore[attr-defined]
    return {
        column.key: getattr(row, column.key)
        for column in table.columns
        if include_handout or column.key != "handout_pdf"
    }


def _summary(record: Record, amendment_count: int) -> RecordSummary:
    return RecordSummary(
        id=record.id,
        signed_at=record.signed_at,
        counselled_on=record.counselled_on,
        patient_name=record.patient_name,
        date_of_birth=record.patient_date_of_birth,
        medicine=record.medicine,
        rule_set=record.rule_set,
        outcome=record.outcome,
        outcome_reason=record.outcome_reason,
        pharmacist=record.signer_full_name,
        pharmacist_username=record.signer_username,
        amendments=amendment_count,
        handout_sha256=record.handout_sha256,
        knowledge_base_version=record.knowledge_base_version,
        rules_version=record.rules_version,
        pack=record.pack or "",
    )


def amendment_detail(amendment: Amendment, *, include_handout: bool) -> AmendmentDetail:
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


def summary_of(record: Record, amendment_count: int = 0) -> RecordSummary:
    """The list line of a record object (as just signed)."""
    return _summary(record, amendment_count)


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
        amendments=tuple(amendment_detail(a, include_handout=include_handout) for a in amendments),
        handout_pdf=bytes(record.handout_pdf) if include_handout else None,
    )


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
    session: Session,
    flt: RecordFilter | None = None,
    *,
    include_handout: bool = False,
    batch: int = 200,
) -> Iterator[RecordDetail]:
    """Every matching record with its amendments, oldest first, read ``batch`` at a time from
    the caller's transaction (one snapshot for a whole export; memory stays flat)."""
    conditions = (flt or RecordFilter()).conditions()
    last_id = 0
    while True:
        stmt = select(Record).where(*conditions, Record.id > last_id).order_by(Record.id)
        if include_handout:
            stmt = stmt.options(undefer(Record.handout_pdf))
        records = session.execute(stmt.limit(batch)).scalars().all()
        if not records:
            return
        yield from _load_batch(session, records, include_handout=include_handout)
        last_id = records[-1].id
        session.expunge_all()


def iter_rows(
    session: Session, flt: RecordFilter, columns: Sequence[Any], *, batch: int = 1000
) -> Iterator[Sequence[Any]]:
    """The matching records' ``columns`` (the first must be ``Record.id``), oldest first, a
    batch at a time: for exports that read a few columns of many records."""
    conditions = flt.conditions()
    last_id = 0
    while True:
        stmt = (
            select(*columns)
            .where(*conditions, Record.id > last_id)
            .order_by(Record.id)
            .limit(batch)
        )
        rows = session.execute(stmt).all()
        if not rows:
            return
        yield rows
        last_id = rows[-1][0]


def get_record(db: Database, record_id: int, *, include_handout: bool = False) -> RecordDetail:
    """One record with its amendments; ``UserError`` when there is none with that id."""
    if not 1 <= record_id <= MAX_ID:
        raise UserError(f"There is no record {record_id}")
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
    byte-identical (``usecases.reprint`` audits them)."""
    if not 1 <= record_id <= MAX_ID or (
        amendment_id is not None and not 1 <= amendment_id <= MAX_ID
    ):
        raise UserError(f"There is no record {record_id}")
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
