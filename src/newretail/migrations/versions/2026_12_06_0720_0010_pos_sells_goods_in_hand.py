"""Stock: a POS sale of goods in hand may take on-hand below zero (the discrepancy is listed
for the store manager); online orders and reservations stay strict through guarded updates

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 07:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("stock_level") as batch:
        batch.drop_constraint(op.f("ck_stock_level_on_hand_not_negative"), type_="check")
        batch.drop_constraint(op.f("ck_stock_level_available_not_negative"), type_="check")


def downgrade() -> None:
    with op.batch_alter_table("stock_level") as batch:
        batch.create_check_constraint(op.f("ck_stock_level_on_hand_not_negative"), "on_hand >= 0")
        batch.create_check_constraint(
            op.f("ck_stock_level_available_not_negative"), "on_hand - allocated - reserved >= 0"
        )
