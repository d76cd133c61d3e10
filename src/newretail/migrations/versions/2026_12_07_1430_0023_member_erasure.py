"""Privacy: erasure and correction requests in the audit (member_data_request): the state
of an erasure's warehouse step and when it finished

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 14:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("member_data_request", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("member_data_request", schema=None) as batch_op:
        batch_op.drop_column("finished_at")
        batch_op.drop_column("status")
