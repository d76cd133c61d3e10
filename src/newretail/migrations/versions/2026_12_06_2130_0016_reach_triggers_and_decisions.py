"""Reach: trigger rules on campaign stages, reach settings (quiet hours, global cap), every decision with its reason, contact counters (caps, re-entry)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 21:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reach_contact_counter",
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("period", sa.String(length=12), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_reach_contact_counter_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reach_contact_counter")),
        sa.UniqueConstraint(
            "organization_id",
            "member_id",
            "scope",
            "period",
            name=op.f("uq_reach_contact_counter_organization_id_member_id_scope_period"),
        ),
    )
    with op.batch_alter_table("reach_contact_counter", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reach_contact_counter_organization_id"),
            ["organization_id"],
            unique=False,
        )

    op.create_table(
        "reach_settings",
        sa.Column("quiet_start", sa.String(length=5), nullable=True),
        sa.Column("quiet_end", sa.String(length=5), nullable=True),
        sa.Column("global_daily_cap", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_reach_settings_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reach_settings")),
        sa.UniqueConstraint("organization_id", name=op.f("uq_reach_settings_organization_id")),
    )
    with op.batch_alter_table("reach_settings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reach_settings_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "reach_trigger_rule",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("stage_position", sa.Integer(), nullable=False),
        sa.Column("event_types", sa.JSON(), nullable=False),
        sa.Column("property_filters", sa.JSON(), nullable=False),
        sa.Column("store_ids", sa.JSON(), nullable=False),
        sa.Column("cities", sa.JSON(), nullable=False),
        sa.Column("districts", sa.JSON(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("offer_id", sa.Uuid(), nullable=False),
        sa.Column("sku_ids", sa.JSON(), nullable=False),
        sa.Column("reentry_minutes", sa.Integer(), nullable=False),
        sa.Column("daily_cap", sa.Integer(), nullable=True),
        sa.Column("weekly_cap", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
            name=op.f("fk_reach_trigger_rule_campaign_id_campaign"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["offer.id"],
            name=op.f("fk_reach_trigger_rule_offer_id_offer"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_reach_trigger_rule_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reach_trigger_rule")),
        sa.UniqueConstraint(
            "organization_id", "name", name=op.f("uq_reach_trigger_rule_organization_id_name")
        ),
    )
    with op.batch_alter_table("reach_trigger_rule", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reach_trigger_rule_campaign_id"), ["campaign_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_reach_trigger_rule_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "reach_decision",
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("stage_position", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("store_id", sa.Uuid(), nullable=True),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=30), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("local_day", sa.Date(), nullable=False),
        sa.Column("coupon_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
            name=op.f("fk_reach_decision_campaign_id_campaign"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_reach_decision_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["reach_trigger_rule.id"],
            name=op.f("fk_reach_decision_rule_id_reach_trigger_rule"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reach_decision")),
        sa.UniqueConstraint(
            "organization_id",
            "rule_id",
            "event_id",
            name=op.f("uq_reach_decision_organization_id_rule_id_event_id"),
        ),
    )
    with op.batch_alter_table("reach_decision", schema=None) as batch_op:
        batch_op.create_index(
            "ix_reach_decision_campaign",
            ["organization_id", "campaign_id", "decided_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_reach_decision_member",
            ["organization_id", "member_id", "campaign_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_reach_decision_organization_id"), ["organization_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("reach_decision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reach_decision_organization_id"))
        batch_op.drop_index("ix_reach_decision_member")
        batch_op.drop_index("ix_reach_decision_campaign")

    op.drop_table("reach_decision")
    with op.batch_alter_table("reach_trigger_rule", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reach_trigger_rule_organization_id"))
        batch_op.drop_index(batch_op.f("ix_reach_trigger_rule_campaign_id"))

    op.drop_table("reach_trigger_rule")
    with op.batch_alter_table("reach_settings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reach_settings_organization_id"))

    op.drop_table("reach_settings")
    with op.batch_alter_table("reach_contact_counter", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reach_contact_counter_organization_id"))

    op.drop_table("reach_contact_counter")
