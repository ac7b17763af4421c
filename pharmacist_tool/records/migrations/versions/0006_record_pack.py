"""Each record names the medicine pack it was assessed with, and what its hash covers

Revision ID: 0006_record_pack
Revises: 0005_course
Create Date: 2026-12-02 01:40:00

- records.pack: the pack (``knowledge_base.medicine`` of the signed assessment), filled here for
  the records already stored; its version was already a column (``knowledge_base_version``).
- records.chain_format: what the row's hash covers. NULL for the records signed before this
  schema, whose hash was taken without ``pack``: it stays valid, and ``verify`` checks their
  ``pack`` against the signed assessment instead. Records signed from here on carry format 2,
  whose hash covers ``pack`` too.
The append-only guards are lifted for the fill and put back in the same transaction, after the
database as found verifies (else it is refused, unchanged).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from pharmacist_tool.records.guards import install_append_only_guards, remove_append_only_guards
from pharmacist_tool.records.upgrade_check import refuse_unless_verified

revision: str = "0006_record_pack"
down_revision: str | None = "0005_course"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FILL = {
    "sqlite": (
        "UPDATE records SET pack = json_extract(assessment_json, '$.knowledge_base.medicine')"
    ),
    "postgresql": (
        "UPDATE records SET pack = (assessment_json::jsonb #>> '{knowledge_base,medicine}')"
    ),
}


def upgrade() -> None:
    conn = op.get_bind()
    refuse_unless_verified(conn, revision)  # the pack is filled from signed data that verifies
    op.add_column("records", sa.Column("pack", sa.String(length=40), nullable=True))
    op.add_column("records", sa.Column("chain_format", sa.Integer(), nullable=True))
    op.create_index("ix_records_pack", "records", ["pack"])
    remove_append_only_guards(conn)
    conn.exec_driver_sql(_FILL[conn.dialect.name])
    install_append_only_guards(conn)


def downgrade() -> None:
    op.drop_index("ix_records_pack", table_name="records")
    op.drop_column("records", "chain_format")  # in place (SQLite 3.35+): the triggers stay
    op.drop_column("records", "pack")
