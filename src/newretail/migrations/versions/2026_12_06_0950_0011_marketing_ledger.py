"""Marketing ledger: budgets per campaign stage (and store), coupons, the coupon ledger, late
redemption conflicts

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 09:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "coupon",
        sa.Column("offer_id", sa.Uuid(), nullable=False),
        sa.Column("stage_key", sa.String(length=200), nullable=True),
        sa.Column("member_id", sa.Uuid(), nullable=True),
        sa.Column("issue_key", sa.String(length=200), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reservation", sa.String(length=200), nullable=True),
        sa.Column("reserved_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("order_ref", sa.String(length=200), nullable=True),
        sa.Column("store_id", sa.Uuid(), nullable=True),
        sa.Column("discount", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("redeemed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_coupon_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coupon")),
        sa.UniqueConstraint(
            "organization_id", "code_hash", name=op.f("uq_coupon_organization_id_code_hash")
        ),
        sa.UniqueConstraint(
            "organization_id", "issue_key", name=op.f("uq_coupon_organization_id_issue_key")
        ),
    )
    with op.batch_alter_table("coupon", schema=None) as batch_op:
        batch_op.create_index(
            "ix_coupon_org_member_state", ["organization_id", "member_id", "state"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_coupon_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "coupon_ledger",
        sa.Column("coupon_id", sa.Uuid(), nullable=False),
        sa.Column("change", sa.String(length=20), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=True),
        sa.Column("order_ref", sa.String(length=200), nullable=True),
        sa.Column("store_id", sa.Uuid(), nullable=True),
        sa.Column("discount", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("actor", sa.String(length=254), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["coupon_id"],
            ["coupon.id"],
            name=op.f("fk_coupon_ledger_coupon_id_coupon"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_coupon_ledger_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coupon_ledger")),
    )
    with op.batch_alter_table("coupon_ledger", schema=None) as batch_op:
        batch_op.create_index("ix_coupon_ledger_coupon", ["coupon_id", "created_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_coupon_ledger_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "coupon_redemption_conflict",
        sa.Column("coupon_id", sa.Uuid(), nullable=False),
        sa.Column("order_ref", sa.String(length=200), nullable=False),
        sa.Column("store_id", sa.Uuid(), nullable=True),
        sa.Column("discount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("sold_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_by_order_ref", sa.String(length=200), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution", sa.String(length=500), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["coupon_id"],
            ["coupon.id"],
            name=op.f("fk_coupon_redemption_conflict_coupon_id_coupon"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_coupon_redemption_conflict_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coupon_redemption_conflict")),
        sa.UniqueConstraint(
            "organization_id",
            "coupon_id",
            "order_ref",
            name=op.f("uq_coupon_redemption_conflict_organization_id_coupon_id_order_ref"),
        ),
    )
    with op.batch_alter_table("coupon_redemption_conflict", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_coupon_redemption_conflict_coupon_id"), ["coupon_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_coupon_redemption_conflict_organization_id"),
            ["organization_id"],
            unique=False,
        )

    op.create_table(
        "marketing_budget",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("stage_key", sa.String(length=200), nullable=False),
        sa.Column("store_id", sa.Uuid(), nullable=True),
        sa.Column("issue_limit", sa.Integer(), nullable=True),
        sa.Column("redeem_limit", sa.Integer(), nullable=True),
        sa.Column("amount_limit", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("issued", sa.Integer(), nullable=False),
        sa.Column("redeemed", sa.Integer(), nullable=False),
        sa.Column("discounted", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "amount_limit IS NULL OR discounted <= amount_limit",
            name=op.f("ck_marketing_budget_discounted_within"),
        ),
        sa.CheckConstraint(
            "issue_limit IS NULL OR issued <= issue_limit",
            name=op.f("ck_marketing_budget_issued_within"),
        ),
        sa.CheckConstraint(
            "issued >= 0 AND redeemed >= 0 AND discounted >= 0",
            name=op.f("ck_marketing_budget_not_negative"),
        ),
        sa.CheckConstraint(
            "redeem_limit IS NULL OR redeemed <= redeem_limit",
            name=op.f("ck_marketing_budget_redeemed_within"),
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_marketing_budget_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["store.id"],
            name=op.f("fk_marketing_budget_store_id_store"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_marketing_budget")),
        sa.UniqueConstraint(
            "organization_id", "name", name=op.f("uq_marketing_budget_organization_id_name")
        ),
    )
    with op.batch_alter_table("marketing_budget", schema=None) as batch_op:
        batch_op.create_index(
            "ix_marketing_budget_org_stage", ["organization_id", "stage_key"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_marketing_budget_organization_id"), ["organization_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("marketing_budget", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_marketing_budget_organization_id"))
        batch_op.drop_index("ix_marketing_budget_org_stage")

    op.drop_table("marketing_budget")
    with op.batch_alter_table("coupon_redemption_conflict", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coupon_redemption_conflict_organization_id"))
        batch_op.drop_index(batch_op.f("ix_coupon_redemption_conflict_coupon_id"))

    op.drop_table("coupon_redemption_conflict")
    with op.batch_alter_table("coupon_ledger", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coupon_ledger_organization_id"))
        batch_op.drop_index("ix_coupon_ledger_coupon")

    op.drop_table("coupon_ledger")
    with op.batch_alter_table("coupon", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coupon_organization_id"))
        batch_op.drop_index("ix_coupon_org_member_state")

    op.drop_table("coupon")
