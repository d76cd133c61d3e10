"""Refreshing an audience: its members stored as a new warehouse version, its size recorded."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from newretail.audiences import compiler, dimensions, privacy, queries, realtime
from newretail.audiences import rules as r
from newretail.audiences.compile_scope import compile_scope
from newretail.audiences.crowd_settings import min_crowd_size
from newretail.audiences.models import AudienceSize
from newretail.audiences.service import audience_log, audience_row, read
from newretail.audiences.tables import (
    AUDIENCE_MEMBER_TABLE,
    DELETING_ENGINES,
    count_rows,
    open_warehouse,
)
from newretail.core.database import utcnow
from newretail.tenancy.permissions import Permission, Principal
from newretail.warehouse.connection import Warehouse
from newretail.warehouse.sql import run_sql


def refresh_audience(
    session: Session,
    principal: Principal,
    warehouse: Warehouse,
    audience_id: uuid.UUID,
    as_of: date | None = None,
    trigger: str = "manual",
) -> dict[str, Any]:
    """Store the audience's current members as a new version and record its size."""
    principal.require(Permission.MANAGE_MARKETING)
    audience = audience_row(session, audience_id, lock=True)
    scope = compile_scope(session, principal, as_of)
    node = r.parse_rules(audience.rules)
    org, key = scope.organization_id, str(audience.id)
    version = uuid.uuid4().hex
    now = utcnow()
    with open_warehouse(warehouse) as con:
        dimensions.sync_member_dim(session, con, org)
        members = compiler.audience_members(con, node, scope.context)
        size, kept = store_version(con, members, org, key, audience.version, version, now)
        realtime.index_for(warehouse).load(con, org, key, version)
    joined, left = size - kept, (audience.size or 0) - kept
    audience.version = version
    audience.size = size
    audience.as_of = scope.context.as_of
    audience.refreshed_at = now
    if audience.refresh_hours:
        audience.next_refresh_at = now + timedelta(hours=audience.refresh_hours)
    session.add(
        AudienceSize(
            organization_id=principal.organization_id,
            audience_id=audience.id,
            version=version,
            size=size,
            joined=joined,
            left=left,
            as_of=scope.context.as_of,
            refreshed_at=now,
            trigger=trigger,
        )
    )
    session.flush()
    return read(audience, min_crowd_size(session))


def store_version(
    con: Any,
    members: Any,
    organization_id: str,
    audience_id: str,
    previous_version: str | None,
    version: str,
    now: datetime,
) -> tuple[int, int]:
    """Write the members as a new version (one INSERT … SELECT); returns (size, kept).

    `kept` counts members already in the previous version (they keep their `since`). The
    previous version stays until the next refresh (this transaction may roll back); older
    ones are deleted where the engine deletes.
    """
    org, key = organization_id, audience_id
    previous = queries.stored_members(con, org, key, previous_version) if previous_version else None
    rows = queries.refreshed_rows(members, previous, org, key, version, now)
    con._run_pre_execute_hooks(rows)  # registers memtables the SQL may refer to
    run_sql(con, f"INSERT INTO {AUDIENCE_MEMBER_TABLE} {con.compile(rows)}")
    stored = queries.stored_members(con, org, key, version)
    size = count_rows(stored)
    kept = 0
    if previous is not None:
        old = previous.select(p_member="member_id")
        kept = count_rows(stored.semi_join(old, stored.member_id == old.p_member))
    if con.name in DELETING_ENGINES:
        keep = [version] + ([previous_version] if previous_version else [])
        listed = ", ".join(f"'{uuid.UUID(v).hex}'" for v in keep)  # hex ids only
        run_sql(
            con,
            f"DELETE FROM {AUDIENCE_MEMBER_TABLE} WHERE organization_id = '{org}' "  # noqa: S608
            f"AND audience_id = '{key}' AND version NOT IN ({listed})",
        )
    return size, kept


def size_history(
    session: Session, principal: Principal, audience_id: uuid.UUID
) -> list[dict[str, Any]]:
    """The size of each refresh, oldest first (below the floor: null)."""
    history, floor = audience_log(
        session, principal, audience_id, AudienceSize, AudienceSize.refreshed_at, AudienceSize.id
    )
    result = []
    for entry in history:
        joined, left = privacy.shown_together([entry.joined, entry.left], floor)
        result.append(
            {
                "version": entry.version,
                "size": privacy.shown(entry.size, floor),
                "joined": joined,
                "left": left,
                "suppressed": privacy.below_floor(entry.size, floor) or joined is None,
                "as_of": entry.as_of,
                "refreshed_at": entry.refreshed_at,
                "trigger": entry.trigger,
            }
        )
    return result


def sync_members(
    session: Session, principal: Principal, warehouse: Warehouse, *, force: bool = True
) -> dict[str, Any]:
    """Copy the members' attributes to the warehouse's member dimension now."""
    principal.require(Permission.MANAGE_MARKETING)
    with open_warehouse(warehouse) as con:
        result = dimensions.sync_member_dim(
            session, con, str(principal.organization_id), force=force
        )
    rows = privacy.shown(result.rows, min_crowd_size(session))
    return {"rows": rows, "synced": result.synced}
