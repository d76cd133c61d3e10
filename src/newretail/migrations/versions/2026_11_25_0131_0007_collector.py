"""Event collector: custom event types, Segment track-name mappings, failed events.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 01:31:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _tenant_columns(table: str) -> list[Any]:
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f(f"fk_{table}_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def upgrade() -> None:
    op.create_table(
        "custom_event_type",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("schema", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        *_tenant_columns("custom_event_type"),
        sa.UniqueConstraint(
            "organization_id", "name", name=op.f("uq_custom_event_type_organization_id_name")
        ),
    )
    op.create_table(
        "event_name_mapping",
        sa.Column("source_id", sa.Uuid(), nullable=False),
        sa.Column("event_name", sa.String(length=200), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        *_tenant_columns("event_name_mapping"),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["source.id"],
            name=op.f("fk_event_name_mapping_source_id_source"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "organization_id",
            "source_id",
            "event_name",
            name=op.f("uq_event_name_mapping_organization_id_source_id_event_name"),
        ),
    )
    op.create_table(
        "failed_event",
        sa.Column("source_id", sa.Uuid(), nullable=True),
        sa.Column("api", sa.String(length=20), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("message_id", sa.String(length=100), nullable=True),
        sa.Column("event_type", sa.String(length=64), nullable=True),
        sa.Column("field", sa.String(length=300), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        *_tenant_columns("failed_event"),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["source.id"],
            name=op.f("fk_failed_event_source_id_source"),
            ondelete="SET NULL",
        ),
    )
    for table in ("custom_event_type", "event_name_mapping", "failed_event"):
        op.create_index(op.f(f"ix_{table}_organization_id"), table, ["organization_id"])
    op.create_index(op.f("ix_event_name_mapping_source_id"), "event_name_mapping", ["source_id"])
    op.create_index("ix_failed_event_org_status", "failed_event", ["organization_id", "status"])


def downgrade() -> None:
    op.drop_table("failed_event")
    op.drop_table("event_name_mapping")
    op.drop_table("custom_event_type")
