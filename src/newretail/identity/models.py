"""OneID tables: identifier rules, links between profiles, merges (audit) and conflicts."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from newretail.core.database import Base, IdMixin, TenantMixin, UtcDateTime


class MergeReason(StrEnum):
    AUTO_LINK = "auto_link"  # identifiers seen together (events, identify, alias)
    MANUAL = "manual"  # an operator merged two members


class ConflictKind(StrEnum):
    UNIQUE_TYPE = "unique_type"  # two different values of a unique type (two phones)
    MAX_PER_MEMBER = "max_per_member"  # more identifiers of a type than allowed
    GROUP_SIZE = "group_size"  # the merged member would hold too many profiles
    SEPARATED = "separated"  # an operator undid a merge between the two sides (not recorded)


class ConflictStatus(StrEnum):
    OPEN = "open"
    DISMISSED = "dismissed"
    MERGED = "merged"  # an operator merged the two sides anyway (force)


class IdentityType(IdMixin, TenantMixin, Base):
    """An organisation's custom identifier type, or its override of a built-in type's rules."""

    __tablename__ = "identity_type"
    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    name: Mapped[str] = mapped_column(String(20))
    unique_per_member: Mapped[bool] = mapped_column(Boolean)
    max_per_member: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class IdentitySettings(IdMixin, TenantMixin, Base):
    """Per-organisation OneID settings (the bound on automatic merges)."""

    __tablename__ = "identity_settings"
    __table_args__ = (UniqueConstraint("organization_id"),)

    max_group_size: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class IdentityLink(IdMixin, TenantMixin, Base):
    """Two profiles whose identifiers were seen together (member_a < member_b)."""

    __tablename__ = "identity_link"
    __table_args__ = (
        UniqueConstraint("organization_id", "member_a", "member_b"),
        Index("ix_identity_link_member_b", "member_b"),
    )

    member_a: Mapped[uuid.UUID] = mapped_column(Uuid)
    member_b: Mapped[uuid.UUID] = mapped_column(Uuid)
    manual: Mapped[bool] = mapped_column(Boolean, default=False)
    # an undone merge separates its two sides: links across them no longer merge
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)


class IdentityMerge(IdMixin, TenantMixin, Base):
    """Audit of one merge: who, why, when, and what moved (so that it can be undone)."""

    __tablename__ = "identity_merge"
    __table_args__ = (Index("ix_identity_merge_org_survivor", "organization_id", "survivor_id"),)

    survivor_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    loser_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    reason: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(254))
    merged_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # {"profiles": [...], "orders": [...], "points_lots": [...], ...}: ids moved to the survivor
    moved: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    undone_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    undone_by: Mapped[str | None] = mapped_column(String(254), nullable=True)


class IdentityConflict(IdMixin, TenantMixin, Base):
    """A link that was not merged because a rule forbids it, kept for review."""

    __tablename__ = "identity_conflict"
    __table_args__ = (UniqueConstraint("organization_id", "member_a", "member_b"),)

    kind: Mapped[str] = mapped_column(String(20))
    identifier_type: Mapped[str | None] = mapped_column(String(20), nullable=True)
    # the two profiles of the refused link (member_a < member_b)
    member_a: Mapped[uuid.UUID] = mapped_column(Uuid)
    member_b: Mapped[uuid.UUID] = mapped_column(Uuid)
    status: Mapped[str] = mapped_column(String(12), default=ConflictStatus.OPEN, index=True)
    detail: Mapped[str] = mapped_column(String(300))
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(254), nullable=True)


class IdentityPendingMove(IdMixin, TenantMixin, Base):
    """A profile whose warehouse events must still follow a committed merge or undo.

    Written in the merge's transaction and deleted once the warehouse is updated; rows left
    by a crash in between are repaired by `IdentityResolver.repair_pending_moves`.
    """

    __tablename__ = "identity_pending_move"

    member_id: Mapped[uuid.UUID] = mapped_column(Uuid)
