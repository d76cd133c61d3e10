"""Pydantic shapes of the identity API. Unknown fields are refused everywhere."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import Field

from newretail.tenancy.schemas import Read, Strict

TypeName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,19}$", description="a-z, 0-9, _")]


class MergeCreate(Strict):
    member_id: uuid.UUID
    other_member_id: uuid.UUID
    force: bool = Field(
        default=False,
        description="Owners and admins only: lift the maximums and the group size (never "
        "the unique rule: two different phones are never merged)",
    )


class MergeRead(Read):
    id: uuid.UUID
    survivor_id: uuid.UUID
    loser_id: uuid.UUID
    reason: str
    actor: str
    merged_at: datetime
    moved: dict[str, Any]
    undone_at: datetime | None
    undone_by: str | None
    created_at: datetime


class ConflictRead(Read):
    id: uuid.UUID
    kind: str
    identifier_type: str | None
    member_a: uuid.UUID
    member_b: uuid.UUID
    status: str
    detail: str
    resolved_at: datetime | None
    resolved_by: str | None
    created_at: datetime


class TypeRuleIn(Strict):
    name: TypeName
    unique_per_member: bool = False
    max_per_member: int | None = Field(default=None, ge=1, le=1000)


class TypeRuleRead(Read):
    name: str
    builtin: bool
    unique_per_member: bool
    max_per_member: int | None


class TypesUpdate(Strict):
    types: list[TypeRuleIn] = Field(
        default_factory=list,
        max_length=100,
        description="Custom types and overrides of built-in rules; replaces the previous list",
    )
    max_group_size: int | None = Field(default=None, ge=2, le=10000)


class TypesRead(Read):
    types: list[TypeRuleRead]
    max_group_size: int


class IdentifierCount(Read):
    type: str
    count: int


class IdentifierHeld(Read):
    """One identifier as OneID holds it: the HMAC-SHA256 of its normalised value with the
    organisation's secret, never the value, on one profile of the member's group."""

    profile_id: uuid.UUID
    type: str
    value_hash: str
    created_at: datetime


class MemberIdentities(Read):
    member_id: uuid.UUID
    canonical_id: uuid.UUID
    merged_into_id: uuid.UUID | None
    anonymous: bool
    profiles: int
    identifiers: list[IdentifierCount]
    merged_from: list[MergeRead]
