"""Users in the chain: administrator rights beside the role, user changes chained, no DELETE

Revision ID: 0003_users_in_chain
Revises: 0002
Create Date: 2026-12-01 20:30:00

- users.is_admin: administrator rights beside the role (role ``admin`` has them). A database
  with no administrator gives them to its first active pharmacist (else its first active user),
  so that the pharmacy can still add and unlock users.
- audit_events.subject_user_id: the user a change is about (NULL for every other event, which
  keeps the hashes of older events valid).
- One chained ``user-recorded`` event per existing user, carrying the digest of its row as
  found: from here on ``verify`` and every log-in check each user row against the chain.
- DELETE on users is refused by the database.
- First the database as found is verified (records and audit events chained, each user row as
  the events of its era describe it): a tampered one is refused, not adopted.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from pharmacist_tool.records import chain
from pharmacist_tool.records.guards import (
    install_append_only_guards,
    install_user_guards,
    remove_user_guards,
)
from pharmacist_tool.records.upgrade_check import refuse_unless_verified

revision: str = "0003_users_in_chain"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATE = ("id", "username", "full_name", "role", "is_admin", "password_hash", "active")

_STATE_TYPES: dict[str, sa.types.TypeEngine[Any]] = {
    "id": sa.Integer(),
    "is_admin": sa.Boolean(),
    "active": sa.Boolean(),
}
# Typed, so that SQLite's 0 and 1 come back as booleans: the digest must be the one the tool
# computes from the same row later (``chain.user_state_digest`` of the ORM's values).
users = sa.table(
    "users",
    *(sa.column(name, _STATE_TYPES.get(name, sa.String())) for name in _STATE),
    sa.column("locked_until", sa.DateTime()),
)
audit = sa.table(
    "audit_events",
    sa.column("id", sa.Integer()),
    sa.column("at", sa.DateTime()),
    sa.column("action", sa.String()),
    sa.column("username", sa.String()),
    sa.column("user_id", sa.Integer()),
    sa.column("record_id", sa.Integer()),
    sa.column("amendment_id", sa.Integer()),
    sa.column("detail", sa.Text()),
    sa.column("workstation", sa.String()),
    sa.column("subject_user_id", sa.Integer()),
    sa.column("seq", sa.Integer()),
    sa.column("prev_hash", sa.String()),
    sa.column("row_hash", sa.String()),
)
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
    # Users adopted "as found" must be as the events of their era left them.
    refuse_unless_verified(conn, revision)
    # In place, not as a batch copy: on SQLite a copy drops the users table that records and
    # audit events refer to, which the foreign keys refuse (a database made by the 2026-11-25
    # version failed here: "FOREIGN KEY constraint failed" at DROP TABLE users).
    op.add_column(
        "users", sa.Column("is_admin", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subject_user_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_audit_events_subject_user_id_users", "users", ["subject_user_id"], ["id"]
        )
        batch_op.create_index(
            batch_op.f("ix_audit_events_subject_user_id"), ["subject_user_id"], unique=False
        )
    if conn.dialect.name == "sqlite":  # the batch copy of audit_events lost its triggers
        install_append_only_guards(conn)
    install_user_guards(conn)

    conn.execute(sa.update(users).where(users.c.role == "admin").values(is_admin=True))
    granted = _give_an_orphaned_database_an_admin(conn)
    _record_every_user(conn, granted)


def _give_an_orphaned_database_an_admin(conn: sa.Connection) -> int | None:
    active = users.c.active == sa.true()
    if conn.execute(sa.select(users.c.id).where(active, users.c.is_admin == sa.true())).first():
        return None
    for condition in (users.c.role == "pharmacist", sa.true()):
        first = conn.execute(
            sa.select(users.c.id).where(active, condition).order_by(users.c.id).limit(1)
        ).scalar_one_or_none()
        if first is not None:
            conn.execute(sa.update(users).where(users.c.id == first).values(is_admin=True))
            return int(first)
    return None


def _record_every_user(conn: sa.Connection, granted: int | None) -> None:
    head = conn.execute(
        sa.select(head_table.c.seq, head_table.c.head_hash).where(head_table.c.id == 1)
    ).one()
    seq, prev = int(head[0]), str(head[1])
    next_id = int(conn.execute(sa.select(sa.func.max(audit.c.id))).scalar_one() or 0) + 1
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    try:
        workstation = socket.gethostname()[:200] or "unknown"
    except OSError:
        workstation = "unknown"
    rows = conn.execute(sa.select(users).order_by(users.c.id)).mappings().all()
    last_id: int | None = None
    for row in rows:
        values = dict(row)
        state = {k: v for k, v in chain.user_state(values).items() if k != "password_hash"}
        detail: dict[str, object] = {
            "why": "users are in the chain from this schema on: the row as found",
            "user": values["username"],
            "state": state,
            "state_sha256": chain.user_state_digest(values),
        }
        if granted == values["id"]:
            detail["admin_rights"] = "given: the database had no administrator"
        seq += 1
        event = {
            "id": next_id, "at": now, "action": "user-recorded", "username": values["username"],
            "user_id": values["id"], "record_id": None, "amendment_id": None,
            "detail": json.dumps(detail, sort_keys=True, ensure_ascii=False),
            "workstation": workstation, "subject_user_id": values["id"], "seq": seq,
            "prev_hash": prev,
        }  # fmt: skip
        event["row_hash"] = prev = chain.row_hash("audit_events", event)
        conn.execute(sa.insert(audit).values(event))
        last_id = next_id
        next_id += 1
    if last_id is not None:
        conn.execute(
            sa.update(head_table)
            .where(head_table.c.id == 1)
            .values(seq=seq, head_hash=prev, head_table="audit_events", head_id=last_id)
        )


def downgrade() -> None:
    remove_user_guards(op.get_bind())
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_subject_user_id"))
        batch_op.drop_constraint("fk_audit_events_subject_user_id_users", type_="foreignkey")
        batch_op.drop_column("subject_user_id")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("is_admin")
