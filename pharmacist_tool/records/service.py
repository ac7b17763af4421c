"""Checking the records: ``verify(db)`` recomputes the whole hash chain; ``head_note(db)`` is
the chain head to write in the pharmacy's paper log.

Writing is ``records.writing``, reading ``records.reading``, the sign / amend / reprint use
cases ``records.usecases``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pharmacist_tool.records import chain
from pharmacist_tool.records.db import Database
from pharmacist_tool.records.models import CHAINED_TABLES, GENESIS_HASH, ChainHead


def verify(db: Database, *, expect_head: tuple[int, str] | None = None) -> chain.VerifyReport:
    """Recompute the whole chain (records, amendments, audit events, users) in one snapshot;
    ``expect_head``: a ``(position, hash)`` written down earlier that the chain must still hold.
    The chain must also still reach what this computer noted of it (``records.witness``); an
    intact chain's head is noted."""
    seen = db.witness.seen()
    damage = db.witness.damage()
    from pharmacist_tool.records.course_check import index_problems
    from pharmacist_tool.records.users import clashes_in

    with db.snapshot() as session:
        report = chain.verify_chain(session, expect_head=expect_head, seen=seen)
        report.warnings += [str(clash) for clash in clashes_in(session)]
        report.problems += index_problems(_raw_reader(session))
    if damage is not None:
        report.problems.append(
            chain.Problem(
                "chain_head",
                None,
                f"this computer's note of how far the chain reached ({db.witness.path}) "
                f"{damage}, so verify cannot tell whether the newest entries were removed. "
                "Check the head against the paper log (verify --expect-head POSITION:HASH); "
                "once it holds, move the note aside and run verify again to start a new one",
            )
        )
    if report.intact:
        counts = report.counts
        db.witness.note(
            report.head_seq, report.head_hash, {t: counts.get(t, 0) for t in CHAINED_TABLES}
        )
    return report


def _raw_reader(session: Session) -> Callable[[str], Sequence[Sequence[Any]]]:
    """Statements run on the session's own connection (its snapshot) straight through the
    driver: the course check reads every signed record once more."""
    raw = session.connection().connection

    def run(sql: str) -> Sequence[Sequence[Any]]:
        cursor = raw.cursor()
        try:
            cursor.execute(sql)
            return cursor.fetchall()
        finally:
            cursor.close()

    return run


@dataclass(frozen=True)
class HeadNote:
    """The chain head as the paper log takes it: ``POSITION:HASH``, what it covers, and when."""

    position: int
    hash: str
    records: int
    amendments: int
    audit_events: int
    at: dt.datetime
    """When it was read (aware, UTC)."""

    @property
    def text(self) -> str:
        """What ``verify --expect-head`` takes back."""
        return f"{self.position}:{self.hash}"

    def summary(self) -> str:
        noun = "record" if self.records == 1 else "records"
        local = self.at.astimezone()
        return f"Chain head: {self.text} ({self.records:,} {noun}, as of {local:%Y-%m-%d %H:%M})"


def head_note(db: Database) -> HeadNote:
    """The stored chain head and the number of entries, read in one snapshot (quick: it does
    not recompute the chain; ``verified_head_note`` does)."""
    with db.snapshot() as session:
        head = session.get(ChainHead, 1)
        counts = {
            table: int(session.execute(select(func.count()).select_from(model)).scalar_one())
            for table, model in CHAINED_TABLES.items()
        }
    return HeadNote(
        position=head.seq if head else 0,
        hash=head.head_hash if head else GENESIS_HASH,
        records=counts["records"],
        amendments=counts["amendments"],
        audit_events=counts["audit_events"],
        at=dt.datetime.now(dt.UTC),
    )


def verified_head_note(db: Database) -> tuple[HeadNote, chain.VerifyReport]:
    """The head ``verify`` reports, with the report (note it only when the report is intact)."""
    report = verify(db)
    counts = report.counts
    note = HeadNote(
        position=report.head_seq,
        hash=report.head_hash,
        records=counts.get("records", 0),
        amendments=counts.get("amendments", 0),
        audit_events=counts.get("audit_events", 0),
        at=dt.datetime.now(dt.UTC),
    )
    return note, report
