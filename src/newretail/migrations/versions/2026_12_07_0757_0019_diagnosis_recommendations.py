"""Diagnosis: the recommendations of a store's diagnosis (diagnosis_recommendation), one per
store, period, base period and kind, with what became of them

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 07:57:27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "diagnosis_recommendation",
        sa.Column("store_id", sa.Uuid(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("base_first_day", sa.Date(), nullable=False),
        sa.Column("base_last_day", sa.Date(), nullable=False),
        sa.Column("factor", sa.String(length=20), nullable=False),
        sa.Column("cause", sa.String(length=20), nullable=False),
        sa.Column("cause_key", sa.String(length=64), nullable=True),
        sa.Column("cause_label", sa.String(length=200), nullable=True),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("factor_amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("created_objects", sa.JSON(), nullable=False),
        sa.Column("acted_by", sa.String(length=254), nullable=True),
        sa.Column("acted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_diagnosis_recommendation_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["store.id"],
            name=op.f("fk_diagnosis_recommendation_store_id_store"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_diagnosis_recommendation")),
        sa.UniqueConstraint(
            "organization_id",
            "store_id",
            "first_day",
            "last_day",
            "base_first_day",
            "base_last_day",
            "kind",
            name="uq_diagnosis_recommendation_period_kind",
        ),
    )
    with op.batch_alter_table("diagnosis_recommendation", schema=None) as batch_op:
        batch_op.create_index(
            "ix_diagnosis_recommendation_store",
            ["organization_id", "store_id", "last_day"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("diagnosis_recommendation", schema=None) as batch_op:
        batch_op.drop_index("ix_diagnosis_recommendation_store")
    op.drop_table("diagnosis_recommendation")
