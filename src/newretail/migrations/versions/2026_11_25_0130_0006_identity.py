"""OneID identity graph: anonymous and merged members, identifier rules, links, merges, conflicts

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 01:30:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
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


def _org_index(table: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f(f"ix_{table}_organization_id"), ["organization_id"], unique=False
        )


def upgrade() -> None:
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("anonymous", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("merged_into_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("canonical_id", sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_member_merged_into_id_member"),
            "member",
            ["merged_into_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index(batch_op.f("ix_member_merged_into_id"), ["merged_into_id"])
        batch_op.create_index(batch_op.f("ix_member_canonical_id"), ["canonical_id"])

    op.create_table(
        "identity_type",
        sa.Column("name", sa.String(length=20), nullable=False),
        sa.Column("unique_per_member", sa.Boolean(), nullable=False),
        sa.Column("max_per_member", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        *_tenant_columns("identity_type"),
        sa.UniqueConstraint(
            "organization_id", "name", name=op.f("uq_identity_type_organization_id_name")
        ),
    )
    _org_index("identity_type")

    op.create_table(
        "identity_settings",
        sa.Column("max_group_size", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        *_tenant_columns("identity_settings"),
        sa.UniqueConstraint("organization_id", name=op.f("uq_identity_settings_organization_id")),
    )
    _org_index("identity_settings")

    op.create_table(
        "identity_link",
        sa.Column("member_a", sa.Uuid(), nullable=False),
        sa.Column("member_b", sa.Uuid(), nullable=False),
        sa.Column("manual", sa.Boolean(), nullable=False),
        sa.Column("blocked", sa.Boolean(), nullable=False),
        *_tenant_columns("identity_link"),
        sa.UniqueConstraint(
            "organization_id",
            "member_a",
            "member_b",
            name=op.f("uq_identity_link_organization_id_member_a_member_b"),
        ),
    )
    _org_index("identity_link")
    op.create_index("ix_identity_link_member_b", "identity_link", ["member_b"], unique=False)

    op.create_table(
        "identity_merge",
        sa.Column("survivor_id", sa.Uuid(), nullable=False),
        sa.Column("loser_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=254), nullable=False),
        sa.Column("merged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("moved", sa.JSON(), nullable=False),
        sa.Column("undone_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("undone_by", sa.String(length=254), nullable=True),
        *_tenant_columns("identity_merge"),
    )
    _org_index("identity_merge")
    op.create_index(
        "ix_identity_merge_org_survivor",
        "identity_merge",
        ["organization_id", "survivor_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_identity_merge_loser_id"), "identity_merge", ["loser_id"], unique=False
    )

    op.create_table(
        "identity_conflict",
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("identifier_type", sa.String(length=20), nullable=True),
        sa.Column("member_a", sa.Uuid(), nullable=False),
        sa.Column("member_b", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("detail", sa.String(length=300), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=254), nullable=True),
        *_tenant_columns("identity_conflict"),
        sa.UniqueConstraint(
            "organization_id",
            "member_a",
            "member_b",
            name=op.f("uq_identity_conflict_organization_id_member_a_member_b"),
        ),
    )
    _org_index("identity_conflict")
    op.create_index(
        op.f("ix_identity_conflict_status"), "identity_conflict", ["status"], unique=False
    )


def downgrade() -> None:
    for table in (
        "identity_conflict",
        "identity_merge",
        "identity_link",
        "identity_settings",
        "identity_type",
    ):
        op.drop_table(table)
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_canonical_id"))
        batch_op.drop_index(batch_op.f("ix_member_merged_into_id"))
        batch_op.drop_constraint(batch_op.f("fk_member_merged_into_id_member"), type_="foreignkey")
        batch_op.drop_column("canonical_id")
        batch_op.drop_column("merged_into_id")
        batch_op.drop_column("anonymous")
