"""Marketing bulk issue: fewer index entries and foreign-key checks per coupon issued. The
organisation-only indexes of coupon, coupon_ledger and outbox_message go (no query reads them
by organisation alone; the coupon's is the prefix of its issue key's unique index), and a
ledger row's two foreign keys (its coupon, its organisation) become one to the coupon of the
same organisation (coupon's new unique index on id and organization_id)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 05:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("coupon", "coupon_ledger", "outbox_message")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_organization_id"))
    op.create_index("uq_coupon_id_organization", "coupon", ["id", "organization_id"], unique=True)
    with op.batch_alter_table("coupon_ledger", schema=None) as batch_op:
        batch_op.drop_constraint("fk_coupon_ledger_coupon_id_coupon", type_="foreignkey")
        batch_op.drop_constraint(
            "fk_coupon_ledger_organization_id_organization", type_="foreignkey"
        )
        batch_op.create_foreign_key(
            "fk_coupon_ledger_coupon_id_coupon",
            "coupon",
            ["coupon_id", "organization_id"],
            ["id", "organization_id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    with op.batch_alter_table("coupon_ledger", schema=None) as batch_op:
        batch_op.drop_constraint("fk_coupon_ledger_coupon_id_coupon", type_="foreignkey")
        batch_op.create_foreign_key(
            "fk_coupon_ledger_coupon_id_coupon", "coupon", ["coupon_id"], ["id"], ondelete="CASCADE"
        )
        batch_op.create_foreign_key(
            "fk_coupon_ledger_organization_id_organization",
            "organization",
            ["organization_id"],
            ["id"],
            ondelete="CASCADE",
        )
    op.drop_index("uq_coupon_id_organization", table_name="coupon")
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(
                batch_op.f(f"ix_{table}_organization_id"), ["organization_id"], unique=False
            )
