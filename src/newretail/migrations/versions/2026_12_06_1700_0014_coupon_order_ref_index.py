"""Marketing: the coupons an order used found by an index (order page, refunds)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_coupon_order_ref",
        "coupon",
        ["organization_id", "order_ref"],
        unique=False,
        postgresql_where=sa.text("order_ref IS NOT NULL"),
        sqlite_where=sa.text("order_ref IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_coupon_order_ref",
        table_name="coupon",
        postgresql_where=sa.text("order_ref IS NOT NULL"),
        sqlite_where=sa.text("order_ref IS NOT NULL"),
    )
