"""Audiences: definitions, size history, export audit log, settings

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 01:32:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _tenant(name: str) -> list[Any]:
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f(f"fk_{name}_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
    ]


def _index(table: str, column: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=False)


def upgrade() -> None:
    op.create_table(
        "audience_settings",
        sa.Column("min_crowd_size", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        *_tenant("audience_settings"),
        sa.UniqueConstraint("organization_id", name=op.f("uq_audience_settings_organization_id")),
    )
    _index("audience_settings", "organization_id")
    op.create_table(
        "audience",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("template", sa.String(length=64), nullable=True),
        sa.Column("refresh_hours", sa.Integer(), nullable=True),
        sa.Column("version", sa.String(length=64), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("as_of", sa.Date(), nullable=True),
        sa.Column("next_refresh_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=254), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        *_tenant("audience"),
        sa.UniqueConstraint(
            "organization_id", "name", name=op.f("uq_audience_organization_id_name")
        ),
    )
    _index("audience", "organization_id")
    _index("audience", "next_refresh_at")
    op.create_table(
        "audience_size",
        sa.Column("audience_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("joined", sa.Integer(), nullable=False),
        sa.Column("left", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        *_tenant("audience_size"),
        sa.ForeignKeyConstraint(
            ["audience_id"],
            ["audience.id"],
            name=op.f("fk_audience_size_audience_id_audience"),
            ondelete="CASCADE",
        ),
    )
    _index("audience_size", "organization_id")
    _index("audience_size", "audience_id")
    op.create_table(
        "audience_export",
        sa.Column("audience_id", sa.Uuid(), nullable=True),
        sa.Column("audience_name", sa.String(length=200), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=254), nullable=False),
        sa.Column("file_format", sa.String(length=10), nullable=False),
        sa.Column("identifier_types", sa.JSON(), nullable=False),
        sa.Column("consent_channel", sa.String(length=20), nullable=True),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column("exported_members", sa.Integer(), nullable=False),
        sa.Column("excluded_members", sa.Integer(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("exported_at", sa.DateTime(timezone=True), nullable=False),
        *_tenant("audience_export"),
        sa.ForeignKeyConstraint(
            ["audience_id"],
            ["audience.id"],
            name=op.f("fk_audience_export_audience_id_audience"),
            ondelete="SET NULL",
        ),
    )
    _index("audience_export", "organization_id")
    _index("audience_export", "audience_id")


def downgrade() -> None:
    for table, columns in (
        ("audience_export", ("audience_id", "organization_id")),
        ("audience_size", ("audience_id", "organization_id")),
        ("audience", ("next_refresh_at", "organization_id")),
        ("audience_settings", ("organization_id",)),
    ):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.drop_index(batch_op.f(f"ix_{table}_{column}"))
        op.drop_table(table)
