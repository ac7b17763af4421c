"""Checking the records: ``verify(db)`` recomputes the whole hash chain.

Writing is ``records.writing``, reading ``records.reading``, the sign / amend / reprint use
cases ``records.usecases``.
"""

from __future__ import annotations

from pharmacist_tool.records import chain
from pharmacist_tool.records.db import Database


def verify(db: Database, *, expect_head: tuple[int, str] | None = None) -> chain.VerifyReport:
    """Recompute the whole chain (records, amendments, audit events, users) in one snapshot;
    ``expect_head``: a ``(position, hash)`` written down earlier that the chain must still hold."""
    with db.snapshot() as session:
        return chain.verify_chain(session, expect_head=expect_head)
