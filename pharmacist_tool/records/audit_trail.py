"""The audit trail as people read it: every chained event (users, settings, exports, backups,
restores, sign-ins, signatures, prints), who did it, whom or what it was about, and whether its
place in the chain holds.

``signature_status`` is the seam for per-person signatures: today it says whether the event's
hash and link hold ("chain intact") or ``verify`` names it ("broken"); when events carry their
signer's signature, it is where each signature's check is reported.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from pharmacist_tool.records import chain
from pharmacist_tool.records.db import Database
from pharmacist_tool.records.models import AuditEvent, User

CHAIN_INTACT = "chain intact"
BROKEN = "broken"
BROKEN_ELSEWHERE = "chain broken elsewhere"

SignatureStatus = Callable[[int], str]
"""An audit event's id → what its signature check says."""


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
        }


def signature_status(report: chain.VerifyReport) -> SignatureStatus:
    """Per event: "broken" when ``verify`` names it, "chain intact" when nothing is broken,
    "chain broken elsewhere" when the chain is broken but not at this event."""
    named = {p.id for p in report.problems if p.table == "audit_events"}

    def status(event_id: int) -> str:
        if event_id in named:
            return BROKEN
        return CHAIN_INTACT if report.intact else BROKEN_ELSEWHERE

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
        yield AuditLine(
            id=event.id,
            at=event.at,
            action=event.action,
            actor=event.username,
            subject=_subject(event, names),
            detail=_detail(event.detail),
            workstation=event.workstation,
            signature=status(event.id),
        )


def audit_trail(
    db: Database, *, since: dt.date | None = None, user: str | None = None
) -> list[AuditLine]:
    """The trail with each event's status, read in the snapshot ``verify`` checks."""
    from pharmacist_tool.records.service import verify

    status = signature_status(verify(db))
    with db.snapshot() as session:
        return list(read_trail(session, status, since=since, user=user))
