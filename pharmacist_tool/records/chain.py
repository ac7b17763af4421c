"""The hash chain over records, amendments and audit events.

Every chained row has a position ``seq`` (one sequence across the three tables), the previous
row's hash and its own hash: SHA-256 over a canonical serialisation of every stored column but
``row_hash`` itself (ids, timestamps, the JSON exactly as signed, and the handout bytes through
their SHA-256). ``chain_head`` keeps the newest position and hash. A column added later and
filled for older rows by a migration (``LATER_COLUMNS``: a record's ``pack``) is covered from
the format that added it on: each such row stores its ``chain_format``, and an older row's
value is checked against the covered data it was filled from instead.

Appending happens under the chain lock: on SQLite the transaction starts with ``BEGIN IMMEDIATE``
(one writer at a time), on PostgreSQL the ``chain_head`` row is read ``FOR UPDATE``. Ids are
given under the same lock, so they run 1, 2, 3 … without gaps and a removed row shows as a gap.

``verify`` recomputes everything and names each row that was altered, removed or put in out of
order. What it cannot see: someone with write access to the database who rewrites the chain from
a point onwards and the head with it. Against that, note the head it prints (position and hash)
somewhere else, e.g. in the pharmacy's paper log: a later head must extend it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, cast

import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Boolean, Date, DateTime, LargeBinary, Table, func, insert, select, update
from sqlalchemy.orm import Session

from pharmacist_tool.records import signing
from pharmacist_tool.records.models import (
    CHAINED_TABLES,
    GENESIS_HASH,
    USER_STATE_COLUMNS,
    AuditEvent,
    ChainHead,
    User,
    UTCDateTime,
)
from pharmacist_tool.records.signature_check import SignatureLedger
from pharmacist_tool.records.witness import Seen

HASH_EXCLUDED = frozenset({"row_hash", "signature"})
"""Left out of the canonical bytes: the hash itself, and the signature taken over those bytes
(``records.signing``; ``verify`` requires it where the signer's key was in force)."""

CHAIN_FORMAT = 2
"""What a new row's hash covers: every column. Stored in rows of the tables that have
``LATER_COLUMNS`` (``chain_format``), and covered by their hash like any other column."""
LATER_COLUMNS: dict[str, dict[str, int]] = {"records": {"pack": 2}}
"""Columns added to a table after rows were hashed, each with the format that first covers it.
A migration fills them for older rows from what those rows' hash does cover (``pack`` from the
signed assessment), so a row of an older format (``chain_format`` NULL: format 1) is hashed
without them, and ``verify`` checks them against their source instead (``LATER_SOURCES``)."""
_encode = msgspec.json.Encoder(order="sorted").encode

TABLE_LABELS = {
    "records": "record",
    "amendments": "amendment",
    "audit_events": "audit event",
    "users": "user",
    "course_fills": "course index, record",
    "course_due": "due list, record",
}


def _canonical_datetime(value: dt.datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.isoformat(timespec="microseconds") + "Z"


def _canonical_bytes_value(value: bytes | memoryview) -> dict[str, Any]:
    data = bytes(value)
    return {"sha256": hashlib.sha256(data).hexdigest(), "length": len(data)}


_PLAIN = frozenset({str, int, bool})
_CONVERT: dict[type, Callable[[Any], Any]] = {
    dt.datetime: _canonical_datetime,
    dt.date: dt.date.isoformat,
    bytes: _canonical_bytes_value,
    memoryview: _canonical_bytes_value,
}


def _canonical_value(value: Any) -> Any:
    kind = type(value)
    if kind in _PLAIN:
        return value
    convert = _CONVERT.get(kind)
    if convert is not None:
        return convert(value)
    if isinstance(value, bytes | memoryview):
        return _canonical_bytes_value(value)
    if isinstance(value, dt.datetime):
        return _canonical_datetime(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool | int | str):
        return value
    raise TypeError(f"no canonical form for {type(value).__name__}")


def not_covered(table: str, values: Mapping[str, Any]) -> frozenset[str]:
    """The columns a row's hash leaves out because its format is older than they are."""
    later = LATER_COLUMNS.get(table)
    if not later:
        return frozenset()
    fmt = values.get("chain_format") or 1
    return frozenset(name for name, since in later.items() if since > fmt)


def _body(table: str, values: Mapping[str, Any], pdf_sha256: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {}
    skipped = HASH_EXCLUDED | not_covered(table, values)
    for name, value in values.items():
        if value is None or name in skipped:
            continue
        if pdf_sha256 is not None and name == "handout_pdf":
            body[name] = {"sha256": pdf_sha256, "length": len(value)}
        else:
            body[name] = _canonical_value(value)
    body["_table"] = table
    return body


def canonical_bytes(table: str, values: Mapping[str, Any]) -> bytes:
    """The bytes a row's hash is taken over: a JSON object of every column but ``row_hash``
    (keys sorted, no spaces, UTF-8 unescaped; bytes as their SHA-256 and length; datetimes as
    UTC ISO with microseconds and ``Z``), plus ``_table``. Absent (NULL) columns are left out,
    so a column added by a later version (NULL in older rows) keeps old hashes valid. (These
    are the bytes ``json.dumps(body, sort_keys=True, separators=(",", ":"),
    ensure_ascii=False)`` gives; msgspec writes them faster.)"""
    return _encode(_body(table, values))


def row_hash(table: str, values: Mapping[str, Any], *, pdf_sha256: str | None = None) -> str:
    """SHA-256 of ``canonical_bytes``; ``pdf_sha256``: the handout's digest when the caller
    already took it (verify does, to check ``handout_sha256`` too)."""
    return hashlib.sha256(_encode(_body(table, values, pdf_sha256))).hexdigest()


def user_state(values: Mapping[str, Any]) -> dict[str, Any]:
    """A user row's ``USER_STATE_COLUMNS`` in canonical form (what its chained events carry)."""
    return {
        name: _canonical_value(values[name])
        for name in USER_STATE_COLUMNS
        if values.get(name) is not None
    }


def user_state_digest(values: Mapping[str, Any]) -> str:
    """SHA-256 over what a user row grants (its ``USER_STATE_COLUMNS``): the ``state_sha256``
    that every chained change to the user carries, checked by ``verify`` and at every log-in."""
    return row_hash("users", {name: values.get(name) for name in USER_STATE_COLUMNS})


def _column_values(row: object, table: str) -> dict[str, Any]:
    model = CHAINED_TABLES[table]
    return {column.key: getattr(row, column.key) for column in model.__table__.columns}


# -- appending ------------------------------------------------------------------------------


def _table(model: type[Any]) -> Table:
    return cast(Table, model.__table__)


@dataclass
class Head:
    """The chain head while the lock is held: the newest position and the next free ids."""

    seq: int
    hash: str
    next_ids: dict[str, int]
    table: str | None = None
    id: int | None = None


def lock_head(session: Session) -> Head:
    """Take the chain lock and read the head. SQLite: the IMMEDIATE transaction already holds the
    write lock. PostgreSQL: the head row is locked ``FOR UPDATE``; the next ids are read after
    the lock is granted (a new statement, so it sees what the previous holder committed)."""
    ch = _table(ChainHead)
    top_ids = [
        select(func.max(model.__table__.c.id)).scalar_subquery().label(table)
        for table, model in CHAINED_TABLES.items()
    ]
    if session.get_bind().dialect.name == "sqlite":
        found = (
            session.execute(select(ch.c.seq, ch.c.head_hash, *top_ids).where(ch.c.id == 1))
            .mappings()
            .one_or_none()
        )
        tops = found
    else:
        found = (
            session.execute(select(ch.c.seq, ch.c.head_hash).where(ch.c.id == 1).with_for_update())
            .mappings()
            .one_or_none()
        )
        tops = session.execute(select(*top_ids)).mappings().one()
    if found is None:
        raise RuntimeError(
            "the chain head row is missing: the database was not set up by this tool"
        )
    assert tops is not None
    return Head(
        seq=int(found["seq"]),
        hash=str(found["head_hash"]),
        next_ids={table: int(tops[table] or 0) + 1 for table in CHAINED_TABLES},
    )


def append(session: Session, head: Head, row: Any, key: Ed25519PrivateKey | None = None) -> None:
    """Give ``row`` (a new, unsaved model object) its id, position and hashes, insert it, and
    move ``head``; with ``key`` (its signer's, unlocked at sign-in) it is signed too. Call
    between ``lock_head`` and ``store_head``, in one transaction."""
    table = row.__tablename__
    if row.id is None:
        row.id = head.next_ids[table]
    head.next_ids[table] = max(head.next_ids[table], row.id + 1)
    row.seq = head.seq + 1
    row.prev_hash = head.hash
    if table in LATER_COLUMNS:
        row.chain_format = CHAIN_FORMAT
    row.signature = None
    values = _column_values(row, table)
    data = canonical_bytes(table, values)
    if key is not None:
        row.signature = values["signature"] = signing.sign(key, data)
    row.row_hash = values["row_hash"] = hashlib.sha256(data).hexdigest()
    session.execute(insert(_table(CHAINED_TABLES[table])), [values])
    head.seq, head.hash, head.table, head.id = row.seq, row.row_hash, table, row.id


def store_head(session: Session, head: Head) -> None:
    ch = _table(ChainHead)
    session.execute(
        update(ch)
        .where(ch.c.id == 1)
        .values(seq=head.seq, head_hash=head.hash, head_table=head.table, head_id=head.id)
    )


WITNESS_KEY = "chain_witness"
"""``session.info`` key: this computer's note of the chain (``records.witness``), if any."""
APPENDED_KEY = "chain_appended"
"""``session.info`` key: the head after this unit of work's appends (noted once committed)."""


def continue_after_seen(head: Head, seen: Seen | None) -> None:
    """Never give out a position or an id this computer saw used before: after a removed tail
    the new entries continue past it, and the gap shows to every ``verify``."""
    if seen is None:
        return
    head.seq = max(head.seq, seen.seq)
    for table, top in seen.ids.items():
        if table in head.next_ids:
            head.next_ids[table] = max(head.next_ids[table], top + 1)


@contextlib.contextmanager
def appending(session: Session) -> Iterator[Head]:
    """``with chain.appending(session) as head: chain.append(session, head, row) …``"""
    head = lock_head(session)
    witness = session.info.get(WITNESS_KEY)
    if witness is not None:
        continue_after_seen(head, witness.seen())
    yield head
    store_head(session, head)
    session.info[APPENDED_KEY] = head


# -- verifying ------------------------------------------------------------------------------

USER_STATE_ACTIONS = frozenset(
    {
        "user-added",
        "user-recorded",
        "role-changed",
        "admin-rights-changed",
        "password-changed",
        "account-locked",
        "account-unlocked",
        "user-deactivated",
        "printed-name-changed",
    }
)
"""Audit actions that change a user; each carries ``subject_user_id`` and ``state_sha256``."""


@dataclass(frozen=True)
class Problem:
    table: str
    id: int | None
    message: str

    @property
    def subject(self) -> str:
        if self.id is None:
            return "the chain"
        return f"{TABLE_LABELS.get(self.table, self.table)} {self.id}"

    def __str__(self) -> str:
        return f"{self.subject}: {self.message}"


@dataclass
class VerifyReport:
    counts: dict[str, int] = field(default_factory=dict)
    head_seq: int = 0
    head_hash: str = GENESIS_HASH
    problems: list[Problem] = field(default_factory=list)
    expected_head: tuple[int, str] | None = None
    """The ``POSITION:HASH`` checked (``verify --expect-head``), if one was given."""
    warnings: list[str] = field(default_factory=list)
    """What needs an administrator but is no tampering (e.g. two active users who sign under
    one printed name, from a database older than that rule)."""

    @property
    def intact(self) -> bool:
        return not self.problems


@dataclass(slots=True)
class _Entry:
    seq: int
    table: str
    id: int
    prev_hash: str
    stored_hash: str


@dataclass(frozen=True)
class UserStateEvent:
    """The newest chained word on one user: what its row must still hold."""

    event_id: int
    action: str
    state_sha256: str
    state: dict[str, Any]


def parse_user_event(event_id: int, action: str, detail: str) -> UserStateEvent | None:
    """The state a user-change event vouches for (``None`` for an event from before users
    were in the chain, which carries no digest)."""
    try:
        data = json.loads(detail or "{}")
    except ValueError:
        return None
    digest = data.get("state_sha256") if isinstance(data, dict) else None
    if not isinstance(digest, str):
        return None
    state = data.get("state")
    return UserStateEvent(event_id, action, digest, state if isinstance(state, dict) else {})


def _stored_datetime(value: Any) -> Any:
    """A stored moment in canonical form, straight from the driver: SQLite keeps the text
    SQLAlchemy wrote (``2026-11-25 09:00:00.000000``, UTC), PostgreSQL gives a datetime."""
    if type(value) is str:
        if len(value) == 26 and value[10] == " " and value[19] == ".":
            return value[:10] + "T" + value[11:] + "Z"
        value = dt.datetime.fromisoformat(value)
    return _canonical_value(value)


def _stored_date(value: Any) -> Any:
    if type(value) is str:
        return value if len(value) == 10 else dt.date.fromisoformat(value).isoformat()
    return _canonical_value(value)


def _stored_bool(value: Any) -> Any:
    """SQLite keeps booleans as 0 and 1; anything else stays as found (and breaks the hash)."""
    if type(value) is int and value in (0, 1):
        return bool(value)
    return _canonical_value(value)


def _stored_converters(
    model: type[Any], present: Collection[str] | None = None
) -> tuple[list[str], list[Callable[[Any], Any] | None]]:
    """Each column's name and how its raw driver value becomes its canonical form (verify
    reads the rows raw: the same canonical bytes as ``canonical_bytes`` of the ORM values).
    ``None``: the value is its own canonical form (text and whole numbers; a value of another
    type written there behind the tool's back encodes differently, so its hash breaks).
    ``present``: the columns an older schema has (the rest are absent, as NULL would be)."""
    names: list[str] = []
    converters: list[Callable[[Any], Any] | None] = []
    for column in model.__table__.columns:
        if present is not None and column.name not in present:
            continue
        names.append(column.name)
        kind = column.type
        if isinstance(kind, UTCDateTime | DateTime):
            converters.append(_stored_datetime)
        elif isinstance(kind, Date):
            converters.append(_stored_date)
        elif isinstance(kind, Boolean):
            converters.append(_stored_bool)
        elif isinstance(kind, LargeBinary):
            converters.append(_canonical_bytes_value)
        else:
            converters.append(None)
    return names, converters


SIGNATURE_ORDER = ("audit_events", "records", "amendments")
"""The order ``verify`` reads the tables in: the audit events first, which register the keys
every signature is checked against."""


def _entries(
    session: Session,
    report: VerifyReport,
    user_events: dict[int, UserStateEvent],
    ledger: SignatureLedger,
    schema: FoundSchema | None,
) -> list[_Entry]:
    entries: list[_Entry] = []
    present: dict[str, set[int]] = {}
    references: list[tuple[int, str, int | None, int | None]] = []
    sha256 = hashlib.sha256
    for table in SIGNATURE_ORDER:
        model = CHAINED_TABLES[table]
        columns = schema.columns[table] if schema else None
        names, converters = _stored_converters(model, columns)
        ids: list[int] = []
        result = (
            session.connection()
            .execution_options(stream_results=True, max_row_buffer=1000)
            .exec_driver_sql(f"SELECT {', '.join(names)} FROM {table} ORDER BY id")
        )
        special = [
            (name, convert)
            for name, convert in zip(names, converters, strict=True)
            if convert is not None
        ]
        nullable = [
            column.name
            for column in model.__table__.columns
            if column.nullable and column.name in names
        ]
        for raw in (row for part in result.partitions(1000) for row in part):
            values = dict(zip(names, raw, strict=True))
            for name in nullable:
                if values[name] is None:
                    del values[name]
            for name, convert in special:
                value = values.get(name)
                if value is not None:
                    values[name] = convert(value)
            rid = int(values["id"])
            ids.append(rid)
            stored = str(values.pop("row_hash", ""))
            signature = values.pop("signature", None)
            skipped = not_covered(table, values)
            if columns is not None:
                skipped = skipped & frozenset(columns)  # a column not there yet holds nothing
            if skipped:
                _check_later_columns(table, rid, values, skipped, report)
            values["_table"] = table
            data = _encode(values)
            ledger.check(table, values, signature, data)
            if sha256(data).hexdigest() != stored:
                report.problems.append(
                    Problem(table, rid, "altered: its stored contents no longer match its hash")
                )
            pdf = values.get("handout_pdf")
            if pdf is not None and pdf["sha256"] != values.get("handout_sha256"):
                report.problems.append(
                    Problem(table, rid, "the stored handout does not match its recorded SHA-256")
                )
            values.setdefault("record_id", None)
            values.setdefault("amendment_id", None)
            entries.append(_Entry(int(values["seq"]), table, rid, str(values["prev_hash"]), stored))
            if table == "audit_events":
                references.append(
                    (rid, str(values["action"]), values["record_id"], values["amendment_id"])
                )
                subject = values.get("subject_user_id")
                if subject is not None and values["action"] in USER_STATE_ACTIONS:
                    found = parse_user_event(rid, str(values["action"]), str(values["detail"]))
                    if found is not None:
                        user_events[int(subject)] = found  # id order: the newest wins
        report.counts[table] = len(ids)
        present[table] = set(ids)
        _report_id_gaps(table, ids, report)
    _report_references(present, references, report)
    return entries


class _SignedPack(msgspec.Struct):
    medicine: str | None = None


class _SignedKnowledgeBase(msgspec.Struct):
    knowledge_base: _SignedPack | None = None


_decode_signed_pack = msgspec.json.Decoder(_SignedKnowledgeBase).decode


def signed_pack(assessment_json: str) -> str | None:
    """The pack a signed assessment names (``knowledge_base.medicine``)."""
    try:
        found = _decode_signed_pack(assessment_json)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    return found.knowledge_base.medicine if found.knowledge_base else None


LATER_SOURCES: dict[tuple[str, str], Callable[[Mapping[str, Any]], Any]] = {
    ("records", "pack"): lambda values: signed_pack(str(values.get("assessment_json") or "")),
}
"""Where each of ``LATER_COLUMNS`` comes from in what an older row's hash covers."""


def _check_later_columns(
    table: str,
    rid: int,
    values: dict[str, Any],
    skipped: frozenset[str],
    report: VerifyReport,
) -> None:
    """Take the columns an older row's hash does not cover out of ``values``, and name the row
    if one of them no longer says what the covered data it was filled from says."""
    for name in sorted(skipped):
        value = values.pop(name, None)
        expected = LATER_SOURCES[(table, name)](values)
        if value != expected:
            report.problems.append(
                Problem(
                    table,
                    rid,
                    f"altered: its {name} {value!r} is not what its signed data says "
                    f"({expected!r})",
                )
            )


_USER_FIELD_WORDS = {
    "username": "user name",
    "full_name": "printed name",
    "role": "role",
    "is_admin": "administrator rights",
    "active": "active flag",
    "locked_until": "lock",
}


def user_problem(values: Mapping[str, Any], newest: UserStateEvent | None) -> str | None:
    """Why a user row does not match its newest chained event (``None`` when it does)."""
    name = values.get("username")
    if newest is None:
        return (
            f"{name!r} is not in the chain: added outside pharmacist-tool (or its history "
            "was removed); it must not sign"
        )
    if user_state_digest(values) == newest.state_sha256:
        return None
    current = user_state(values)
    changed = [
        f"{word} is {current.get(key)!r}, the chain says {newest.state.get(key)!r}"
        for key, word in _USER_FIELD_WORDS.items()
        if key in newest.state or key in current
        if current.get(key) != newest.state.get(key)
    ]
    if not changed:
        changed = ["its password hash was replaced"]
    return (
        f"{name!r} was changed outside pharmacist-tool since audit event {newest.event_id} "
        f"({newest.action}): " + "; ".join(changed)
    )


def _report_users(
    session: Session, user_events: dict[int, UserStateEvent], report: VerifyReport
) -> None:
    """Every user row matches the newest chained event about it, and no such user is gone."""
    columns = [User.__table__.c[name] for name in USER_STATE_COLUMNS]
    seen: set[int] = set()
    for row in session.execute(select(*columns).order_by(User.__table__.c.id)).mappings():
        uid = int(row["id"])
        seen.add(uid)
        problem = user_problem(dict(row), user_events.get(uid))
        if problem:
            report.problems.append(Problem("users", uid, problem))
    report.counts["users"] = len(seen)
    for uid in sorted(set(user_events) - seen):
        name = user_events[uid].state.get("username")
        report.problems.append(
            Problem(
                "users",
                uid,
                f"{name!r} was removed (audit event {user_events[uid].event_id} describes it)",
            )
        )


def _report_references(
    present: dict[str, set[int]],
    references: list[tuple[int, str, int | None, int | None]],
    report: VerifyReport,
) -> None:
    """Each signature and amendment has its audit event, and each event's row still exists:
    this names a removed row even when it was the newest of its table."""
    signed: set[int] = set()
    amended: set[int] = set()
    for event_id, action, record_id, amendment_id in references:
        if action == "sign" and record_id is not None:
            signed.add(record_id)
        if action == "amend" and amendment_id is not None:
            amended.add(amendment_id)
        for table, rid in (("records", record_id), ("amendments", amendment_id)):
            if rid is not None and rid not in present[table]:
                problem = Problem(table, rid, f"removed (audit event {event_id} refers to it)")
                if problem not in report.problems:
                    report.problems.append(problem)
    for table, action, done in (("records", "sign", signed), ("amendments", "amend", amended)):
        for rid in sorted(present[table] - done):
            report.problems.append(
                Problem(table, rid, f"its '{action}' audit event is missing (removed or altered)")
            )


def _report_id_gaps(table: str, ids: Iterable[int], report: VerifyReport) -> None:
    """One problem per gap, however wide (an id set far ahead costs one line, not millions)."""
    expected = 1
    for rid in ids:
        if rid == expected + 1:
            report.problems.append(Problem(table, expected, "removed (its id is missing)"))
        elif rid > expected:
            report.problems.append(
                Problem(
                    table,
                    expected,
                    f"removed, with every id up to {rid - 1} ({rid - expected:,} ids missing "
                    f"before {TABLE_LABELS.get(table, table)} {rid}: removed, or an id was "
                    "altered)",
                )
            )
        expected = max(expected, rid + 1)


def _entries_text(count: int) -> str:
    return "1 entry" if count == 1 else f"{count} entries"


@dataclass(frozen=True)
class FoundSchema:
    """The columns of an older database, as an upgrade finds it before changing it: ``verify``
    reads only those (a column a later schema adds is absent, as NULL is from a row's hash)."""

    columns: Mapping[str, frozenset[str]]

    @property
    def signed(self) -> bool:
        """Rows carry their signer's signature from schema 0007 on; before, none does."""
        return "signature" in self.columns.get("records", frozenset())

    @property
    def users_in_chain(self) -> bool:
        """Users are in the chain from schema 0003 on (which added ``is_admin``); before, the
        upgrade checks them against the events of their era instead (``upgrade_check``)."""
        return set(USER_STATE_COLUMNS) <= self.columns.get("users", frozenset())


def verify_chain(
    session: Session,
    *,
    expect_head: tuple[int, str] | None = None,
    seen: Seen | None = None,
    found: FoundSchema | None = None,
) -> VerifyReport:
    """Recompute every hash and link, check each user against the chain, and (with
    ``expect_head``, a position and hash written down earlier) that the chain still holds that
    entry; the report names each broken row. Read it in one snapshot (``Database.snapshot``).
    ``found``: an older schema's columns (an upgrade verifies before it runs); ``None``: this
    version's."""
    report = VerifyReport(expected_head=expect_head)
    head = session.get(ChainHead, 1)
    user_events: dict[int, UserStateEvent] = {}
    ledger = SignatureLedger()
    entries = sorted(
        _entries(session, report, user_events, ledger, found),
        key=attrgetter("seq", "table", "id"),
    )
    if found is None or found.signed:
        signatures = ledger.finish()
        report.problems += [
            Problem(table, rid, message) for table, rid, message in signatures.problems
        ]
        report.warnings += signatures.warnings
    if found is None or found.users_in_chain:
        _report_users(session, user_events, report)
    if expect_head is not None:
        _report_expected_head(entries, expect_head, report)
    if seen is not None:
        _report_seen_head(entries, seen, report)
    previous: _Entry | None = None
    expected_prev = GENESIS_HASH
    for entry in entries:
        after = (
            f"{TABLE_LABELS[previous.table]} {previous.id}"
            if previous
            else "the start of the chain"
        )
        expected_seq = previous.seq + 1 if previous else 1
        if entry.seq < expected_seq:
            report.problems.append(
                Problem(entry.table, entry.id, f"shares chain position {entry.seq} with {after}")
            )
        elif entry.seq > expected_seq:
            report.problems.append(
                Problem(
                    entry.table,
                    entry.id,
                    f"the chain skips {_entries_text(entry.seq - expected_seq)} before it "
                    f"(after {after}): removed",
                )
            )
        elif entry.prev_hash != expected_prev:
            report.problems.append(
                Problem(
                    entry.table,
                    entry.id,
                    f"does not follow {after} in the chain "
                    f"(inserted out of order, or {after} was altered and its hash rewritten)",
                )
            )
        previous = entry
        expected_prev = entry.stored_hash
    if head is None:
        report.problems.append(Problem("chain_head", None, "the chain head row is missing"))
        return report
    report.head_seq, report.head_hash = head.seq, head.head_hash
    last_seq = previous.seq if previous else 0
    if head.seq > last_seq:
        newest = (head.head_table, head.head_id)
        if newest[0] in CHAINED_TABLES and newest[1] is not None:
            problem = Problem(newest[0], newest[1], "removed (it was the newest entry)")
            if not any((p.table, p.id) == newest for p in report.problems):
                report.problems.append(problem)
        report.problems.append(
            Problem(
                "chain_head",
                None,
                f"the newest {_entries_text(head.seq - last_seq)} of the chain removed (the head "
                f"is at position {head.seq}, the last entry found is at {last_seq})",
            )
        )
    elif head.seq < last_seq or head.head_hash != expected_prev:
        report.problems.append(
            Problem(
                "chain_head",
                None,
                "the chain head does not match the newest entry (the head or the newest entry "
                "was altered)",
            )
        )
    return report


def _report_expected_head(
    entries: list[_Entry], expected: tuple[int, str], report: VerifyReport
) -> None:
    position, digest = expected[0], expected[1].lower()
    if position == 0:
        if digest != GENESIS_HASH:
            report.problems.append(
                Problem(
                    "chain_head",
                    None,
                    f"position 0 is the start of the chain, whose hash "
                    f"is {GENESIS_HASH}, not {digest}",
                )
            )
        return
    at = [e for e in entries if e.seq == position]
    if not at:
        last = entries[-1].seq if entries else 0
        why = (
            f"the chain now ends at position {last}, so entries were removed and the head rewound"
            if last < position
            else "the chain skips it, so entries were removed there"
        )
        report.problems.append(
            Problem(
                "chain_head", None, f"the head written down (position {position}) is gone: {why}"
            )
        )
        return
    entry = at[0]
    if entry.stored_hash != digest:
        report.problems.append(
            Problem(
                "chain_head",
                None,
                f"position {position} ({TABLE_LABELS[entry.table]} {entry.id}) now carries hash "
                f"{entry.stored_hash}, not {digest} as written down: the chain was rewritten "
                "from there on",
            )
        )


def _report_seen_head(entries: list[_Entry], seen: Seen, report: VerifyReport) -> None:
    """The chain still reaches the furthest point this computer noted (``records.witness``)."""
    if seen.seq == 0:
        return
    when = f" on {seen.at[:16].replace('T', ' ')} UTC" if seen.at else ""
    at = [e for e in entries if e.seq == seen.seq]
    if not at:
        last = max((e.seq for e in entries), default=0)
        if last < seen.seq:
            report.problems.append(
                Problem(
                    "chain_head",
                    None,
                    f"this computer saw the chain reach position {seen.seq}{when} "
                    f"(hash {seen.hash}); it now ends at position {last}: the newest entries "
                    "were removed and the head rewound",
                )
            )
        return
    if at[0].stored_hash != seen.hash:
        report.problems.append(
            Problem(
                "chain_head",
                None,
                f"position {seen.seq} now carries hash {at[0].stored_hash}, but this computer "
                f"saw hash {seen.hash} there{when}: the chain was rewritten from there on",
            )
        )


def audit_event_count(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(AuditEvent)).scalar_one())
