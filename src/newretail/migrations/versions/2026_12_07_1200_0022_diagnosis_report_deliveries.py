"""Diagnosis: the weekly store reports the server's schedule e-mailed
(diagnosis_report_delivery), one per store, week and recipient

Revision ID: 0022
Revises: 0020
Create Date: 2026-12-07 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "diagnosis_report_delivery",
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("week_first", sa.Date(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("locale", sa.String(length=10), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_diagnosis_report_delivery_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["store.id"],
            name=op.f("fk_diagnosis_report_delivery_store_id_store"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_diagnosis_report_delivery")),
        sa.UniqueConstraint(
            "organization_id",
            "store_id",
            "week_first",
            "email",
            name="uq_diagnosis_report_delivery_week_email",
        ),
    )
    with op.batch_alter_table("diagnosis_report_delivery", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_diagnosis_report_delivery_store_id"), ["store_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("diagnosis_report_delivery", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_diagnosis_report_delivery_store_id"))
    op.drop_table("diagnosis_report_delivery")
