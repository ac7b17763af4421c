"""Append-only triggers on the chained tables; the chain head names its newest entry

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 20:10:00

- UPDATE and DELETE on records, amendments and audit_events are refused by the database itself.
- chain_head.head_table / head_id: which row is the newest, so that ``verify`` can name it if
  it is removed (filled in by the next append; NULL until then is harmless).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from pharmacist_tool.records.guards import (
    install_append_only_guards,
    remove_append_only_guards,
)

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("chain_head", schema=None) as batch_op:
        batch_op.add_column(sa.Column("head_table", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("head_id", sa.Integer(), nullable=True))
    install_append_only_guards(op.get_bind())


def downgrade() -> None:
    remove_append_only_guards(op.get_bind())
    with op.batch_alter_table("chain_head", schema=None) as batch_op:
        batch_op.drop_column("head_id")
        batch_op.drop_column("head_table")
