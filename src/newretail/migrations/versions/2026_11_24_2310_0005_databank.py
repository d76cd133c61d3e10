"""Data Bank settings per organisation (AIPL windows and event mapping).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 23:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "databank_settings",
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_databank_settings_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_databank_settings")),
        sa.UniqueConstraint("organization_id", name=op.f("uq_databank_settings_organization_id")),
    )
    with op.batch_alter_table("databank_settings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_databank_settings_organization_id"), ["organization_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("databank_settings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_databank_settings_organization_id"))
    op.drop_table("databank_settings")
