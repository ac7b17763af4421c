"""Initial schema: users, chained records, amendments, audit events, the chain head

Revision ID: 0001
Revises:
Create Date: 2026-11-25 20:02:50.786857
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    chain_head = op.create_table(
        "chain_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(chain_head, [{"id": 1, "seq": 0, "head_hash": "0" * 64}])
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("password_hash", sa.String(length=300), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=True),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("last_login_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )
    op.create_table(
        "records",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("signed_at", sa.DateTime(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("signer_username", sa.String(length=80), nullable=False),
        sa.Column("signer_full_name", sa.String(length=200), nullable=False),
        sa.Column("signer_role", sa.String(length=20), nullable=False),
        sa.Column("signature_meaning", sa.String(length=300), nullable=False),
        sa.Column("prepared_by", sa.String(length=80), nullable=True),
        sa.Column("workstation", sa.String(length=200), nullable=False),
        sa.Column("app_version", sa.String(length=40), nullable=False),
        sa.Column("patient_name", sa.String(length=200), nullable=False),
        sa.Column("patient_name_key", sa.String(length=200), nullable=False),
        sa.Column("patient_date_of_birth", sa.Date(), nullable=False),
        sa.Column("counselled_on", sa.Date(), nullable=False),
        sa.Column("rule_set", sa.String(length=40), nullable=False),
        sa.Column("medicine", sa.String(length=200), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("outcome_reason", sa.Text(), nullable=False),
        sa.Column("dispense", sa.String(length=20), nullable=False),
        sa.Column("knowledge_base_version", sa.String(length=40), nullable=False),
        sa.Column("rules_version", sa.String(length=80), nullable=False),
        sa.Column("rules_effective_from", sa.Date(), nullable=False),
        sa.Column("case_json", sa.Text(), nullable=False),
        sa.Column("assessment_json", sa.Text(), nullable=False),
        sa.Column("handout_sha256", sa.String(length=64), nullable=False),
        sa.Column("handout_template_version", sa.String(length=80), nullable=False),
        sa.Column("handout_language", sa.String(length=10), nullable=False),
        sa.Column("handout_large_print", sa.Boolean(), nullable=False),
        sa.Column("handout_paper", sa.String(length=20), nullable=False),
        sa.Column("handout_source", sa.String(length=20), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("row_hash", sa.String(length=64), nullable=False),
        sa.Column("handout_pdf", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("seq"),
    )
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_records_counselled_on"), ["counselled_on"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_records_outcome"), ["outcome"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_records_patient_date_of_birth"), ["patient_date_of_birth"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_records_patient_name_key"), ["patient_name_key"], unique=False
        )
        batch_op.create_index(
            "ix_records_pharmacist_signed", ["signer_username", "signed_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_records_signed_at"), ["signed_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_records_signer_full_name"), ["signer_full_name"], unique=False
        )

    op.create_table(
        "amendments",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("amended_at", sa.DateTime(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("signer_username", sa.String(length=80), nullable=False),
        sa.Column("signer_full_name", sa.String(length=200), nullable=False),
        sa.Column("signer_role", sa.String(length=20), nullable=False),
        sa.Column("signature_meaning", sa.String(length=300), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("workstation", sa.String(length=200), nullable=False),
        sa.Column("app_version", sa.String(length=40), nullable=False),
        sa.Column("patient_name", sa.String(length=200), nullable=False),
        sa.Column("patient_date_of_birth", sa.Date(), nullable=False),
        sa.Column("counselled_on", sa.Date(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("outcome_reason", sa.Text(), nullable=False),
        sa.Column("knowledge_base_version", sa.String(length=40), nullable=False),
        sa.Column("rules_version", sa.String(length=80), nullable=False),
        sa.Column("case_json", sa.Text(), nullable=False),
        sa.Column("assessment_json", sa.Text(), nullable=False),
        sa.Column("handout_sha256", sa.String(length=64), nullable=False),
        sa.Column("handout_template_version", sa.String(length=80), nullable=False),
        sa.Column("handout_language", sa.String(length=10), nullable=False),
        sa.Column("handout_large_print", sa.Boolean(), nullable=False),
        sa.Column("handout_paper", sa.String(length=20), nullable=False),
        sa.Column("handout_source", sa.String(length=20), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("row_hash", sa.String(length=64), nullable=False),
        sa.Column("handout_pdf", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["records.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("seq"),
    )
    with op.batch_alter_table("amendments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_amendments_record_id"), ["record_id"], unique=False)

    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("username", sa.String(length=80), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.Column("amendment_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("workstation", sa.String(length=200), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("row_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["amendment_id"],
            ["amendments.id"],
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["records.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("seq"),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_events_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_record_id"), ["record_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_record_id"))
        batch_op.drop_index(batch_op.f("ix_audit_events_at"))
        batch_op.drop_index(batch_op.f("ix_audit_events_action"))

    op.drop_table("audit_events")
    with op.batch_alter_table("amendments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_amendments_record_id"))

    op.drop_table("amendments")
    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_records_signer_full_name"))
        batch_op.drop_index(batch_op.f("ix_records_signed_at"))
        batch_op.drop_index("ix_records_pharmacist_signed")
        batch_op.drop_index(batch_op.f("ix_records_patient_name_key"))
        batch_op.drop_index(batch_op.f("ix_records_patient_date_of_birth"))
        batch_op.drop_index(batch_op.f("ix_records_outcome"))
        batch_op.drop_index(batch_op.f("ix_records_counselled_on"))

    op.drop_table("records")
    op.drop_table("users")
    op.drop_table("chain_head")
