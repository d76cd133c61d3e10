"""Reading an audience's stored members: pages of them, and whether one member is in."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from newretail.audiences import privacy, queries, realtime
from newretail.audiences.crowd_settings import min_crowd_size
from newretail.audiences.errors import BelowPrivacyFloor
from newretail.audiences.models import Audience
from newretail.audiences.service import audience_row
from newretail.audiences.tables import open_warehouse
from newretail.core.errors import Conflict
from newretail.tenancy.permissions import Permission, Principal
from newretail.warehouse.connection import Warehouse


def refreshed_version(audience: Audience) -> str:
    """The audience's stored version (refused before its first refresh)."""
    if audience.version is None:
        raise Conflict("the audience has not been refreshed yet", field="audience_id")
    return audience.version


def require_above_floor(session: Session, audience: Audience) -> None:
    """Refuse an audience smaller than the minimum crowd size."""
    floor = min_crowd_size(session)
    if privacy.below_floor(audience.size or 0, floor):
        raise BelowPrivacyFloor(
            f"the audience has fewer members than the minimum crowd size ({floor})",
            field="audience_id",
        )


@dataclass(frozen=True)
class StoredMembers:
    """A refreshed audience, its stored version and that version's members (Ibis)."""

    audience: Audience
    version: str
    members: Any


@contextmanager
def open_stored_members(
    session: Session, principal: Principal, warehouse: Warehouse, audience_id: uuid.UUID
) -> Iterator[StoredMembers]:
    """The stored members of an audience for activation, with the warehouse open: refused
    before its first refresh and below the privacy floor."""
    principal.require(Permission.MANAGE_MARKETING)
    audience = audience_row(session, audience_id)
    version = refreshed_version(audience)
    require_above_floor(session, audience)
    with open_warehouse(warehouse) as con:
        org, key = str(principal.organization_id), str(audience.id)
        yield StoredMembers(audience, version, queries.stored_members(con, org, key, version))


def member_ids(
    session: Session, principal: Principal, warehouse: Warehouse, audience_id: uuid.UUID
) -> list[uuid.UUID]:
    """Every stored member of an audience, for a bulk issue of coupons (refused before its
    first refresh and below the privacy floor)."""
    with open_stored_members(session, principal, warehouse, audience_id) as stored:
        column = stored.members.select("member_id").to_pyarrow().column("member_id")
    return [uuid.UUID(str(value)) for value in column.to_pylist()]


def members_page(
    session: Session,
    principal: Principal,
    warehouse: Warehouse,
    audience_id: uuid.UUID,
    limit: int = 1000,
    offset: int = 0,
) -> dict[str, Any]:
    """A page of the stored members (refused below the privacy floor)."""
    with open_stored_members(session, principal, warehouse, audience_id) as stored:
        members = stored.members.order_by("member_id").limit(limit, offset=offset)
        page = members.to_pyarrow().to_pylist()
    return {
        "audience_id": stored.audience.id,
        "version": stored.version,
        "size": stored.audience.size,
        "members": page,
    }


@dataclass(frozen=True)
class Membership:
    """One audience a member is in, as its latest refresh stored it."""

    audience_id: uuid.UUID
    audience_name: str
    version: str
    since: datetime


def member_audiences(
    session: Session, principal: Principal, warehouse: Warehouse, member_id: uuid.UUID
) -> list[Membership]:
    """The audiences whose current stored version holds the member, by name (one member's
    own memberships: no crowd floor applies, nobody else is counted)."""
    principal.require(Permission.READ)
    audiences = {
        str(a.id): a for a in session.scalars(select(Audience).where(Audience.version.is_not(None)))
    }
    if not audiences:
        return []
    with open_warehouse(warehouse) as con:
        org = str(principal.organization_id)
        rows = queries.member_memberships(con, org, str(member_id)).to_pyarrow().to_pylist()
    found = [
        Membership(
            audience_id=uuid.UUID(row["audience_id"]),
            audience_name=audiences[row["audience_id"]].name,
            version=row["version"],
            since=row["since"].astimezone(UTC),
        )
        for row in rows
        if row["audience_id"] in audiences
        and audiences[row["audience_id"]].version == row["version"]
    ]
    return sorted(found, key=lambda m: (m.audience_name, str(m.audience_id)))


def is_member(
    session: Session,
    principal: Principal,
    warehouse: Warehouse,
    audience_id: uuid.UUID,
    member_id: str,
) -> bool:
    """Whether a member is in the audience's stored members (the realtime index)."""
    principal.require(Permission.READ)
    audience = audience_row(session, audience_id)
    if audience.version is None:
        return False
    org, key = str(principal.organization_id), str(audience.id)
    index = realtime.index_for(warehouse)
    if index.version(org, key) != audience.version:
        with open_warehouse(warehouse) as con:
            index.ensure(con, org, key, audience.version)
    return index.contains(org, key, member_id)
