"""Members, consent, points ledger and tiers.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "member_settings",
        sa.Column("identifier_secret", sa.LargeBinary(length=64), nullable=False),
        sa.Column("return_window_days", sa.Integer(), nullable=False),
        sa.Column("expiry_mode", sa.String(length=20), nullable=False),
        sa.Column("expiry_days", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_member_settings_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_settings")),
        sa.UniqueConstraint("organization_id", name=op.f("uq_member_settings_organization_id")),
    )
    with op.batch_alter_table("member_settings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_member_settings_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "member_tier",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("min_spend", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_member_tier_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_tier")),
        sa.UniqueConstraint(
            "organization_id", "name", name=op.f("uq_member_tier_organization_id_name")
        ),
    )
    with op.batch_alter_table("member_tier", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_member_tier_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "earn_rule",
        sa.Column("brand_id", sa.Uuid(), nullable=False),
        sa.Column("points_per_unit", sa.Numeric(precision=12, scale=4), nullable=False),
        sa.Column("product_multipliers", sa.JSON(), nullable=False),
        sa.Column("category_multipliers", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["brand.id"], name=op.f("fk_earn_rule_brand_id_brand"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_earn_rule_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_earn_rule")),
        sa.UniqueConstraint(
            "organization_id", "brand_id", name=op.f("uq_earn_rule_organization_id_brand_id")
        ),
    )
    with op.batch_alter_table("earn_rule", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_earn_rule_brand_id"), ["brand_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_earn_rule_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "member",
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("gender", sa.String(length=10), nullable=True),
        sa.Column("birth_year", sa.Integer(), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("join_store_id", sa.Uuid(), nullable=True),
        sa.Column("join_channel", sa.String(length=20), nullable=True),
        sa.Column("join_brand_id", sa.Uuid(), nullable=True),
        sa.Column("tier_id", sa.Uuid(), nullable=True),
        sa.Column("tier_review_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("points_available", sa.Integer(), nullable=False),
        sa.Column("points_locked", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["join_brand_id"],
            ["brand.id"],
            name=op.f("fk_member_join_brand_id_brand"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["join_store_id"],
            ["store.id"],
            name=op.f("fk_member_join_store_id_store"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_member_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tier_id"],
            ["member_tier.id"],
            name=op.f("fk_member_tier_id_member_tier"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member")),
    )
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_member_city"), ["city"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_member_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_member_tier_id"), ["tier_id"], unique=False)

    op.create_table(
        "consent_change",
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("purpose", sa.String(length=30), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=254), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_consent_change_member_id_member"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_consent_change_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_change")),
    )
    with op.batch_alter_table("consent_change", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_consent_change_member_id"), ["member_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_consent_change_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "member_consent",
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("purpose", sa.String(length=30), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_member_consent_member_id_member"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_member_consent_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_consent")),
        sa.UniqueConstraint(
            "organization_id",
            "member_id",
            "purpose",
            "channel",
            name=op.f("uq_member_consent_organization_id_member_id_purpose_channel"),
        ),
    )
    with op.batch_alter_table("member_consent", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_member_consent_member_id"), ["member_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_member_consent_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "member_identifier",
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("identifier_type", sa.String(length=20), nullable=False),
        sa.Column("value_hash", sa.String(length=64), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_member_identifier_member_id_member"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_member_identifier_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_identifier")),
        sa.UniqueConstraint(
            "organization_id",
            "identifier_type",
            "value_hash",
            name=op.f("uq_member_identifier_organization_id_identifier_type_value_hash"),
        ),
    )
    with op.batch_alter_table("member_identifier", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_member_identifier_member_id"), ["member_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_member_identifier_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "member_spend",
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_member_spend_member_id_member"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_member_spend_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_spend")),
        sa.UniqueConstraint(
            "organization_id", "reference", name=op.f("uq_member_spend_organization_id_reference")
        ),
    )
    with op.batch_alter_table("member_spend", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_member_spend_member_id"), ["member_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_member_spend_occurred_at"), ["occurred_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_member_spend_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "points_award",
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("brand_id", sa.Uuid(), nullable=True),
        sa.Column("lot_id", sa.Uuid(), nullable=True),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_points_award_member_id_member"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_points_award_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_award")),
        sa.UniqueConstraint(
            "organization_id", "order_id", name=op.f("uq_points_award_organization_id_order_id")
        ),
    )
    with op.batch_alter_table("points_award", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_points_award_member_id"), ["member_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_points_award_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "points_ledger_entry",
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("available_delta", sa.Integer(), nullable=False),
        sa.Column("locked_delta", sa.Integer(), nullable=False),
        sa.Column("available_after", sa.Integer(), nullable=False),
        sa.Column("locked_after", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=True),
        sa.Column("refund_id", sa.Uuid(), nullable=True),
        sa.Column("lot_id", sa.Uuid(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=100), nullable=True),
        sa.Column("reason", sa.String(length=300), nullable=True),
        sa.Column("actor", sa.String(length=254), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_points_ledger_entry_member_id_member"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_points_ledger_entry_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_ledger_entry")),
        sa.UniqueConstraint(
            "organization_id",
            "idempotency_key",
            name=op.f("uq_points_ledger_entry_organization_id_idempotency_key"),
        ),
    )
    with op.batch_alter_table("points_ledger_entry", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_points_ledger_entry_member_id"), ["member_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_points_ledger_entry_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "points_lot",
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=True),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("remaining", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("earned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("unlock_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_points_lot_member_id_member"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_points_lot_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_lot")),
    )
    with op.batch_alter_table("points_lot", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_points_lot_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_points_lot_member_id"), ["member_id"], unique=False)
        batch_op.create_index("ix_points_lot_member_state", ["member_id", "state"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_points_lot_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_points_lot_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_points_lot_unlock_at"), ["unlock_at"], unique=False)

    op.create_table(
        "points_reversal",
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("refund_id", sa.Uuid(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("shortfall", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_points_reversal_member_id_member"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_points_reversal_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_reversal")),
        sa.UniqueConstraint(
            "organization_id",
            "refund_id",
            name=op.f("uq_points_reversal_organization_id_refund_id"),
        ),
    )
    with op.batch_alter_table("points_reversal", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_points_reversal_member_id"), ["member_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_points_reversal_organization_id"), ["organization_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("points_reversal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_points_reversal_organization_id"))
        batch_op.drop_index(batch_op.f("ix_points_reversal_member_id"))

    op.drop_table("points_reversal")
    with op.batch_alter_table("points_lot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_points_lot_unlock_at"))
        batch_op.drop_index(batch_op.f("ix_points_lot_state"))
        batch_op.drop_index(batch_op.f("ix_points_lot_organization_id"))
        batch_op.drop_index("ix_points_lot_member_state")
        batch_op.drop_index(batch_op.f("ix_points_lot_member_id"))
        batch_op.drop_index(batch_op.f("ix_points_lot_expires_at"))

    op.drop_table("points_lot")
    with op.batch_alter_table("points_ledger_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_points_ledger_entry_organization_id"))
        batch_op.drop_index(batch_op.f("ix_points_ledger_entry_member_id"))

    op.drop_table("points_ledger_entry")
    with op.batch_alter_table("points_award", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_points_award_organization_id"))
        batch_op.drop_index(batch_op.f("ix_points_award_member_id"))

    op.drop_table("points_award")
    with op.batch_alter_table("member_spend", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_spend_organization_id"))
        batch_op.drop_index(batch_op.f("ix_member_spend_occurred_at"))
        batch_op.drop_index(batch_op.f("ix_member_spend_member_id"))

    op.drop_table("member_spend")
    with op.batch_alter_table("member_identifier", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_identifier_organization_id"))
        batch_op.drop_index(batch_op.f("ix_member_identifier_member_id"))

    op.drop_table("member_identifier")
    with op.batch_alter_table("member_consent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_consent_organization_id"))
        batch_op.drop_index(batch_op.f("ix_member_consent_member_id"))

    op.drop_table("member_consent")
    with op.batch_alter_table("consent_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_change_organization_id"))
        batch_op.drop_index(batch_op.f("ix_consent_change_member_id"))

    op.drop_table("consent_change")
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_tier_id"))
        batch_op.drop_index(batch_op.f("ix_member_organization_id"))
        batch_op.drop_index(batch_op.f("ix_member_city"))

    op.drop_table("member")
    with op.batch_alter_table("earn_rule", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_earn_rule_organization_id"))
        batch_op.drop_index(batch_op.f("ix_earn_rule_brand_id"))

    op.drop_table("earn_rule")
    with op.batch_alter_table("member_tier", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_tier_organization_id"))

    op.drop_table("member_tier")
    with op.batch_alter_table("member_settings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_settings_organization_id"))

    op.drop_table("member_settings")
