"""Marketing: public claim codes with a claim limit, per-member limit slots on coupons, the reason of a ledger change

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 15:40:22.310844
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "coupon_claim_code",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("stage_key", sa.String(length=200), nullable=False),
        sa.Column("offer_id", sa.Uuid(), nullable=False),
        sa.Column("claim_limit", sa.Integer(), nullable=True),
        sa.Column("claimed", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.CheckConstraint(
            "claimed >= 0 AND (claim_limit IS NULL OR claimed <= claim_limit)",
            name=op.f("ck_coupon_claim_code_claimed_within"),
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
            name=op.f("fk_coupon_claim_code_campaign_id_campaign"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["offer.id"],
            name=op.f("fk_coupon_claim_code_offer_id_offer"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_coupon_claim_code_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coupon_claim_code")),
        sa.UniqueConstraint(
            "organization_id", "code", name=op.f("uq_coupon_claim_code_organization_id_code")
        ),
    )
    with op.batch_alter_table("coupon_claim_code", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_coupon_claim_code_campaign_id"), ["campaign_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_coupon_claim_code_organization_id"), ["organization_id"], unique=False
        )

    with op.batch_alter_table("coupon", schema=None) as batch_op:
        batch_op.add_column(sa.Column("member_slot", sa.Integer(), nullable=True))
        batch_op.drop_constraint("uq_coupon_organization_id_code_hash", type_="unique")
    # partial unique indexes: only coupons with a bearer code or a member slot are indexed
    op.create_index(
        "uq_coupon_organization_id_code_hash",
        "coupon",
        ["organization_id", "code_hash"],
        unique=True,
        postgresql_where=sa.text("code_hash IS NOT NULL"),
        sqlite_where=sa.text("code_hash IS NOT NULL"),
    )
    op.create_index(
        "uq_coupon_member_slot",
        "coupon",
        ["organization_id", "offer_id", "member_id", "member_slot"],
        unique=True,
        postgresql_where=sa.text("member_slot IS NOT NULL"),
        sqlite_where=sa.text("member_slot IS NOT NULL"),
    )

    with op.batch_alter_table("coupon_ledger", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reason", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("coupon_ledger", schema=None) as batch_op:
        batch_op.drop_column("reason")

    op.drop_index("uq_coupon_member_slot", table_name="coupon")
    op.drop_index("uq_coupon_organization_id_code_hash", table_name="coupon")
    with op.batch_alter_table("coupon", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            "uq_coupon_organization_id_code_hash", ["organization_id", "code_hash"]
        )
        batch_op.drop_column("member_slot")

    with op.batch_alter_table("coupon_claim_code", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_coupon_claim_code_organization_id"))
        batch_op.drop_index(batch_op.f("ix_coupon_claim_code_campaign_id"))

    op.drop_table("coupon_claim_code")
