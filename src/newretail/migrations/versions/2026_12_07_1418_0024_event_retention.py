"""Events: the organisation's retention (event_retention: default days, days per event
type, failed events' days) and what each run deleted (event_retention_run)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 14:18:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "event_retention",
        sa.Column("default_days", sa.Integer(), nullable=True),
        sa.Column("type_days", sa.JSON(), nullable=False),
        sa.Column("failed_days", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_event_retention_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_retention")),
        sa.UniqueConstraint("organization_id", name=op.f("uq_event_retention_organization_id")),
    )
    op.create_table(
        "event_retention_run",
        sa.Column("trigger", sa.String(length=10), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("events_deleted", sa.JSON(), nullable=False),
        sa.Column("failed_deleted", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_event_retention_run_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_retention_run")),
    )
    with op.batch_alter_table("event_retention_run", schema=None) as batch_op:
        batch_op.create_index(
            "ix_event_retention_run_org_started", ["organization_id", "started_at"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("event_retention_run", schema=None) as batch_op:
        batch_op.drop_index("ix_event_retention_run_org_started")

    op.drop_table("event_retention_run")
    op.drop_table("event_retention")
