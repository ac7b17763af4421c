"""Per-person signatures: each user's sealed signing key, a signature on every chained row

Revision ID: 0007_signatures
Revises: 0006_record_pack
Create Date: 2026-12-07 22:20:00

- users.signing_key: the user's Ed25519 private key sealed under their password
  (``records.signing``). NULL for every user here: each gets one at their next sign-in,
  registered by a ``key-registered`` event signed by the new key itself, which ``verify`` names
  as self-registered until an administrator countersigns it (``users countersign``).
- records/amendments/audit_events.signature: the signer's signature over the row's canonical
  bytes. NULL in every row here: those rows stay valid as they were (their hash is unchanged,
  NULL columns being left out of it).
- One chained ``signatures-begin`` event (when the chain holds anything): every record,
  amendment and signed kind of event after it must carry a valid signature.
- The chain is verified first (users included): a database whose rows were altered, forged or
  removed is refused, not adopted into the signed era.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from pharmacist_tool.records import chain
from pharmacist_tool.records.signature_check import SIGNATURES_BEGIN
from pharmacist_tool.records.upgrade_check import refuse_unless_verified

revision: str = "0007_signatures"
down_revision: str | None = "0006_record_pack"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SIGNED = ("records", "amendments", "audit_events")

audit = sa.table(
    "audit_events",
    *(
        sa.column(name, kind)
        for name, kind in (
            ("id", sa.Integer()), ("at", sa.DateTime()), ("action", sa.String()),
            ("username", sa.String()), ("user_id", sa.Integer()), ("record_id", sa.Integer()),
            ("amendment_id", sa.Integer()), ("detail", sa.Text()), ("workstation", sa.String()),
            ("subject_user_id", sa.Integer()), ("seq", sa.Integer()),
            ("prev_hash", sa.String()), ("row_hash", sa.String()),
        )
    ),
)  # fmt: skip
head_table = sa.table(
    "chain_head",
    sa.column("id", sa.Integer()),
    sa.column("seq", sa.Integer()),
    sa.column("head_hash", sa.String()),
    sa.column("head_table", sa.String()),
    sa.column("head_id", sa.Integer()),
)


def upgrade() -> None:
    conn = op.get_bind()
    # Signatures begin on a chain that verifies, or not at all: the rows before the mark stay
    # valid unsigned, so a row altered, forged or removed before it must be named now.
    refuse_unless_verified(conn, revision)
    op.add_column("users", sa.Column("signing_key", sa.Text(), nullable=True))
    for table in _SIGNED:
        op.add_column(table, sa.Column("signature", sa.String(length=100), nullable=True))
    _mark_the_start(conn)


def _mark_the_start(conn: sa.Connection) -> None:
    seq, prev = conn.execute(
        sa.select(head_table.c.seq, head_table.c.head_hash).where(head_table.c.id == 1)
    ).one()
    if not seq:
        return  # an empty chain: every row it will hold is signed
    top = conn.execute(sa.select(sa.func.max(audit.c.id))).scalar_one()
    try:
        workstation = socket.gethostname()[:200] or "unknown"
    except OSError:
        workstation = "unknown"
    event = {
        "id": int(top or 0) + 1, "at": dt.datetime.now(dt.UTC).replace(tzinfo=None),
        "action": SIGNATURES_BEGIN, "username": None, "user_id": None, "record_id": None,
        "amendment_id": None, "subject_user_id": None, "workstation": workstation,
        "detail": json.dumps(
            {"why": "every row from here on carries its signer's signature (schema 0007)"}
        ),
        "seq": int(seq) + 1, "prev_hash": str(prev),
    }  # fmt: skip
    event["row_hash"] = chain.row_hash("audit_events", event)
    conn.execute(sa.insert(audit).values(event))
    conn.execute(
        sa.update(head_table)
        .where(head_table.c.id == 1)
        .values(
            seq=event["seq"],
            head_hash=event["row_hash"],
            head_table="audit_events",
            head_id=event["id"],
        )
    )


def downgrade() -> None:
    for table in _SIGNED:
        op.drop_column(table, "signature")
    op.drop_column("users", "signing_key")
