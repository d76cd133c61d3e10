"""Privacy: the audit of requests about a member's personal information (member_data_request)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 11:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "member_data_request",
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("file_format", sa.String(length=10), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("actor", sa.String(length=254), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rows", sa.JSON(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_member_data_request_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_data_request")),
    )
    with op.batch_alter_table("member_data_request", schema=None) as batch_op:
        batch_op.create_index(
            "ix_member_data_request_member",
            ["organization_id", "member_id", "requested_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("member_data_request", schema=None) as batch_op:
        batch_op.drop_index("ix_member_data_request_member")
    op.drop_table("member_data_request")
