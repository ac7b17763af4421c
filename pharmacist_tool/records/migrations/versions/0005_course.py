"""The course across visits: the read model of fills (programme id indexed) and what falls due

Revision ID: 0005_course
Revises: 0003_users_in_chain
Create Date: 2026-12-01 20:40:00

- course_fills: one row a signed record, its fill as last amended (patient identity: programme
  id, folded name + date of birth; dose, days' supply, outcome, dates due).
- course_due: what falls due for each patient's course (next fill, tests, reversals).
Both are derived from the signed JSON, outside the hash chain; the upgrade builds them for the
records already stored, once the database as found verifies (else it is refused, unchanged).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

from pharmacist_tool.records.upgrade_check import refuse_unless_verified

revision: str = "0005_course"
down_revision: str | None = "0003_users_in_chain"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    refuse_unless_verified(op.get_bind(), revision)  # derived from records that verify, only
    op.create_table(
        "course_fills",
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("amendment_id", sa.Integer(), nullable=True),
        sa.Column("programme_id", sa.String(length=200), nullable=True),
        sa.Column("patient_name", sa.String(length=200), nullable=False),
        sa.Column("patient_name_key", sa.String(length=200), nullable=False),
        sa.Column("patient_date_of_birth", sa.Date(), nullable=False),
        sa.Column("can_get_pregnant", sa.Boolean(), nullable=False),
        sa.Column("weight_kg", sa.Float(), nullable=False),
        sa.Column("counselled_on", sa.Date(), nullable=False),
        sa.Column("rule_set", sa.String(length=40), nullable=False),
        sa.Column("medicine", sa.String(length=200), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("daily_dose_mg", sa.Float(), nullable=False),
        sa.Column("days_supply", sa.Integer(), nullable=False),
        sa.Column("fill_number", sa.Integer(), nullable=True),
        sa.Column("cumulative_mg_before", sa.Float(), nullable=True),
        sa.Column("last_fill", sa.Boolean(), nullable=False),
        sa.Column("next_pregnancy_test_due", sa.Date(), nullable=True),
        sa.Column("after_course_test_due", sa.Date(), nullable=True),
        sa.Column("pick_up_by", sa.Date(), nullable=True),
        sa.Column("authorization_number", sa.String(length=200), nullable=True),
        sa.Column("authorization_reversed_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("record_id"),
    )
    op.create_index("ix_course_fills_programme_id", "course_fills", ["programme_id"])
    op.create_index(
        "ix_course_fills_name_born", "course_fills", ["patient_name_key", "patient_date_of_birth"]
    )
    op.create_index("ix_course_fills_born", "course_fills", ["patient_date_of_birth"])
    op.create_table(
        "course_due",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_key", sa.String(length=220), nullable=False),
        sa.Column("what", sa.String(length=40), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("shown_until", sa.Date(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("patient_name", sa.String(length=200), nullable=False),
        sa.Column("patient_date_of_birth", sa.Date(), nullable=False),
        sa.Column("programme_id", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_course_due_patient_key", "course_due", ["patient_key"])
    op.create_index("ix_course_due_record_id", "course_due", ["record_id"])
    op.create_index("ix_course_due_due_on", "course_due", ["due_on", "shown_until"])

    from pharmacist_tool.records.course import rebuild_course_index

    rebuild_course_index(Session(bind=op.get_bind()))


def downgrade() -> None:
    op.drop_table("course_due")
    op.drop_table("course_fills")
