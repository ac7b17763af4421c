"""The audit trail as people read it: every chained event (users, settings, exports, backups,
restores, sign-ins, signatures, prints, readings of the trail itself), who did it, whom or what
it was about, and whether its signature verifies.

Only an administrator reads it (``read_as_administrator``: signed in just now, an administrator
as the records have it now), and each reading is audited before the trail is read, so the
listing it returns holds the reading itself. The command and the window's Audit trail both come
through here.

An event's ``signature`` is what ``verify`` says of it: ``verifies`` (it carries its signer's
signature, which verifies against their key in force there, and its hash and link hold),
``unsigned`` (from before signatures began, or an event nobody signs, such as a failed log-in;
its hash and link hold), or ``does not verify`` (``verify`` names it: forged, altered, or
unsigned where a signature is required; its ``problems`` say how).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from pharmacist_tool.records import chain
from pharmacist_tool.records.db import Database
from pharmacist_tool.records.models import AuditEvent, User
from pharmacist_tool.records.users import AuthenticatedUser, require_admin
from pharmacist_tool.records.writing import record_event

VERIFIES = "verifies"
UNSIGNED = "unsigned"
DOES_NOT_VERIFY = "does not verify"
READ_ACTION = "audit-read"
"""The audit event of a reading of the trail (detail: ``since``, ``user``)."""


@dataclass(frozen=True)
class SignatureCheck:
    status: str
    """``VERIFIES``, ``UNSIGNED`` or ``DOES_NOT_VERIFY``."""
    problems: tuple[str, ...] = ()
    """What ``verify`` says of the event (empty unless it does not verify)."""


SignatureStatus = Callable[[int, bool], SignatureCheck]
"""An audit event's id and whether it carries a signature → what ``verify`` says of it."""


@dataclass(frozen=True)
class AuditLine:
    id: int
    at: dt.datetime
    action: str
    actor: str | None
    subject: str | None
    """The user a user change is about, or the record (and amendment) an event is about."""
    detail: dict[str, Any]
    workstation: str
    signature: str
    problems: tuple[str, ...] = field(default=())

    @property
    def verifies(self) -> bool:
        return self.signature != DOES_NOT_VERIFY

    def detail_text(self) -> str:
        """The detail on one line (nested objects, such as a user's state, left out)."""
        return ", ".join(
            f"{key}={value}"
            for key, value in sorted(self.detail.items())
            if not isinstance(value, dict)
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "action": self.action,
            "actor": self.actor,
            "subject": self.subject,
            "detail": self.detail,
            "workstation": self.workstation,
            "signature": self.signature,
            "problems": list(self.problems),
        }


@dataclass(frozen=True)
class AuditTrail:
    lines: list[AuditLine]
    chain_problems: int
    """How many problems ``verify`` found in the whole database (0: it verifies)."""


def signature_status(report: chain.VerifyReport) -> SignatureStatus:
    """Per event: "does not verify" with ``verify``'s words when it names the event; else
    "verifies" when the event carries a signature, "unsigned" when it carries none."""
    named: dict[int, list[str]] = {}
    for problem in report.problems:
        if problem.table == "audit_events" and problem.id is not None:
            named.setdefault(problem.id, []).append(problem.message)

    def status(event_id: int, signed: bool) -> SignatureCheck:
        if event_id in named:
            return SignatureCheck(DOES_NOT_VERIFY, tuple(named[event_id]))
        return SignatureCheck(VERIFIES if signed else UNSIGNED)

    return status


def _detail(text: str) -> dict[str, Any]:
    try:
        found = json.loads(text or "{}")
    except ValueError:
        return {"unreadable": text[:200]}
    if not isinstance(found, dict):
        return {"value": found}
    found.pop("state_sha256", None)  # a digest for verify, not for people
    return found


def _subject(event: AuditEvent, names: dict[int, str]) -> str | None:
    if event.subject_user_id is not None:
        return f"user {names.get(event.subject_user_id, event.subject_user_id)}"
    if event.amendment_id is not None:
        return f"record {event.record_id} amendment {event.amendment_id}"
    if event.record_id is not None:
        return f"record {event.record_id}"
    return None


def read_trail(
    session: Session,
    status: SignatureStatus,
    *,
    since: dt.date | None = None,
    user: str | None = None,
) -> Iterator[AuditLine]:
    """Every event, oldest first (``since``: on or after that day, UTC; ``user``: done by that
    user, or about them)."""
    names = {uid: name for uid, name in session.execute(select(User.id, User.username))}
    stmt = select(AuditEvent).order_by(AuditEvent.id)
    if since is not None:
        stmt = stmt.where(AuditEvent.at >= dt.datetime.combine(since, dt.time(), dt.UTC))
    if user:
        ids = [uid for uid, name in names.items() if name == user]
        stmt = stmt.where(or_(AuditEvent.username == user, AuditEvent.subject_user_id.in_(ids)))
    for event in session.execute(stmt.execution_options(yield_per=500)).scalars():
        check = status(event.id, event.signature is not None)
        yield AuditLine(
            id=event.id,
            at=event.at,
            action=event.action,
            actor=event.username,
            subject=_subject(event, names),
            detail=_detail(event.detail),
            workstation=event.workstation,
            signature=check.status,
            problems=check.problems,
        )


def audit_trail(
    db: Database, *, since: dt.date | None = None, user: str | None = None
) -> AuditTrail:
    """The trail with each event's signature check, read in the snapshot ``verify`` checks."""
    from pharmacist_tool.records.service import verify

    report = verify(db)
    status = signature_status(report)
    with db.snapshot() as session:
        lines = list(read_trail(session, status, since=since, user=user))
    return AuditTrail(lines, len(report.problems))


def read_as_administrator(
    db: Database,
    admin: AuthenticatedUser,
    *,
    since: dt.date | None = None,
    user: str | None = None,
) -> AuditTrail:
    """The trail for ``admin`` (signed in just now with their password): refused with a
    ``UserError`` unless they are an active administrator now. The reading is audited (signed
    by them) before anything is read."""
    require_admin(db, admin, "read the audit trail")
    record_event(
        db,
        READ_ACTION,
        user=admin,
        detail={"since": since.isoformat() if since else None, "user": user},
    )
    return audit_trail(db, since=since, user=user)
