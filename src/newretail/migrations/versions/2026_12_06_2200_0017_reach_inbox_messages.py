"""Reach: the member inbox and the counter screen's offers (reach_inbox_message), one per treated decision on the inbox or store_screen channel

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reach_inbox_message",
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("decision_id", sa.Uuid(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("campaign_name", sa.String(length=200), nullable=False),
        sa.Column("stage_position", sa.Integer(), nullable=False),
        sa.Column("stage_name", sa.String(length=200), nullable=False),
        sa.Column("coupon_id", sa.Uuid(), nullable=False),
        sa.Column("offer_code", sa.String(length=64), nullable=False),
        sa.Column("offer_name", sa.String(length=200), nullable=False),
        sa.Column("store_id", sa.Uuid(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
            name=op.f("fk_reach_inbox_message_campaign_id_campaign"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["reach_decision.id"],
            name=op.f("fk_reach_inbox_message_decision_id_reach_decision"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_reach_inbox_message_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reach_inbox_message")),
        sa.UniqueConstraint("decision_id", name=op.f("uq_reach_inbox_message_decision_id")),
    )
    with op.batch_alter_table("reach_inbox_message", schema=None) as batch_op:
        batch_op.create_index(
            "ix_reach_inbox_message_member",
            ["organization_id", "member_id", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_reach_inbox_message_store",
            ["organization_id", "store_id", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_reach_inbox_message_organization_id"),
            ["organization_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("reach_inbox_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reach_inbox_message_organization_id"))
        batch_op.drop_index("ix_reach_inbox_message_store")
        batch_op.drop_index("ix_reach_inbox_message_member")

    op.drop_table("reach_inbox_message")
