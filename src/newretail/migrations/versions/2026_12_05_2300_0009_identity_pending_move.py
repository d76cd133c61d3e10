"""OneID: profiles whose warehouse events must still follow a committed merge

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "identity_pending_move",
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_identity_pending_move_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_pending_move")),
    )
    with op.batch_alter_table("identity_pending_move", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_identity_pending_move_organization_id"),
            ["organization_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("identity_pending_move", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_pending_move_organization_id"))
    op.drop_table("identity_pending_move")
