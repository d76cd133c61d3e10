"""Audience use cases: validate, estimate, save, refresh, read members, insight, settings.

Definitions, size history and the export audit log live in the operational store; members
live in the warehouse (`audience_member`, one stored version per refresh), so that rules
over other saved audiences compile into the same warehouse query. Every count leaves
through `privacy` (the organisation's minimum crowd size).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from newretail.audiences import dimensions, privacy, queries, realtime
from newretail.audiences import rules as r
from newretail.audiences.models import (
    DEFAULT_MIN_CROWD_SIZE,
    Audience,
    AudienceSettings,
    AudienceSize,
)
from newretail.audiences.schemas import (
    AudienceCreate,
    AudienceUpdate,
    EstimateRequest,
    SettingsUpdate,
    TemplateApply,
)
from newretail.audiences.tables import (
    AUDIENCE_MEMBER_TABLE,
    DELETING_ENGINES,
    ensure_audience_tables,
    execute,
)
from newretail.audiences.templates import TEMPLATES, TemplateParameters, get_template
from newretail.core.database import utcnow
from newretail.core.errors import Conflict, InvalidInput, NotFound
from newretail.databank import service as databank_service
from newretail.databank.tables import ensure_databank_tables
from newretail.tenancy.permissions import Permission, Principal
from newretail.warehouse.connection import Warehouse

BELOW_FLOOR = "below_privacy_floor"


class BelowPrivacyFloor(Conflict):
    code = BELOW_FLOOR


def today_utc() -> date:
    return datetime.now(UTC).date()


# ---------------------------------------------------------------- settings
def min_crowd_size(session: Session) -> int:
    """The organisation's privacy floor (default 50)."""
    row = session.scalars(select(AudienceSettings)).one_or_none()
    return DEFAULT_MIN_CROWD_SIZE if row is None else row.min_crowd_size


def get_settings(session: Session, principal: Principal) -> dict[str, int]:
    """The organisation's audience settings."""
    principal.require(Permission.READ)
    return {"min_crowd_size": min_crowd_size(session)}


def update_settings(session: Session, principal: Principal, data: SettingsUpdate) -> dict[str, int]:
    """Change the minimum crowd size below which no count is shown."""
    principal.require(Permission.MANAGE_MARKETING)
    row = session.scalars(select(AudienceSettings)).one_or_none()
    if row is None:
        row = AudienceSettings(organization_id=principal.organization_id)
        session.add(row)
    row.min_crowd_size = data.min_crowd_size
    row.updated_at = utcnow()
    session.flush()
    return {"min_crowd_size": row.min_crowd_size}


# ---------------------------------------------------------------- compiling context
@dataclass(frozen=True)
class Scope:
    organization_id: str
    brands: list[str]
    context: queries.CompileContext


def _scope(session: Session, principal: Principal, as_of: date | None) -> Scope:
    databank = databank_service.scope_of(session, principal)
    versions = {
        str(a_id): version
        for a_id, version in session.execute(select(Audience.id, Audience.version))
    }
    context = queries.CompileContext(
        organization_id=databank.organization_id,
        brands=databank.brands,
        as_of=as_of or today_utc(),
        config=databank.config,
        versions=versions,
    )
    return Scope(databank.organization_id, databank.brands, context)


def validate_rules(
    scope: Scope, raw: Any, audience_id: str | None = None, path: str = "rules"
) -> r.Node:
    """Parse a rule tree and check what it refers to: the organisation's brands and audiences."""
    node = r.parse_rules(raw, path)
    for located in r.conditions(node, path):
        condition = located.condition
        brand = getattr(condition, "brand_id", None)
        if brand is not None and brand not in scope.brands:
            raise r.RuleError(f"{located.path}.brand_id", "no such brand")
        if isinstance(condition, r.SavedAudience):
            if condition.audience_id == audience_id:
                raise r.RuleError(
                    f"{located.path}.audience_id", "an audience cannot contain itself"
                )
            if condition.audience_id not in scope.context.versions:
                raise r.RuleError(f"{located.path}.audience_id", "no such audience")
    return node


@contextmanager
def open_warehouse(warehouse: Warehouse) -> Iterator[Any]:
    con = warehouse.connection()
    with warehouse.lock:
        ensure_databank_tables(con)
        ensure_audience_tables(con)
        yield con


def _count(expr: Any) -> int:
    return int(expr.count().execute())


# ---------------------------------------------------------------- estimate
def estimate(
    session: Session, principal: Principal, warehouse: Warehouse, data: EstimateRequest
) -> dict[str, Any]:
    """Count a rule tree's members without storing them (below the floor: null)."""
    principal.require(Permission.MANAGE_MARKETING)
    scope = _scope(session, principal, data.as_of)
    node = validate_rules(scope, data.rules)
    floor = min_crowd_size(session)
    with open_warehouse(warehouse) as con:
        dimensions.sync_member_dim(session, con, scope.organization_id)
        size = _count(queries.audience_members(con, node, scope.context))
    return {
        "size": privacy.shown(size, floor),
        "suppressed": privacy.below_floor(size, floor),
        "min_crowd_size": floor,
        "as_of": scope.context.as_of,
        "rules": r.dump(node),
    }


# ---------------------------------------------------------------- saving
def audience_row(session: Session, audience_id: uuid.UUID, *, lock: bool = False) -> Audience:
    statement = select(Audience).where(Audience.id == audience_id)
    if lock:
        statement = statement.with_for_update()
    audience = session.scalars(statement).one_or_none()
    if audience is None:
        raise NotFound("audience not found", field="audience_id")
    return audience


def _check_name(session: Session, name: str, audience_id: uuid.UUID | None = None) -> None:
    clash = session.scalars(select(Audience.id).where(Audience.name == name)).first()
    if clash is not None and clash != audience_id:
        raise Conflict(f"an audience named {name!r} exists", field="name")


def read(audience: Audience, floor: int) -> dict[str, Any]:
    """An audience as the API shows it (its size under the privacy floor)."""
    return {
        "id": audience.id,
        "name": audience.name,
        "description": audience.description,
        "rules": audience.rules,
        "template": audience.template,
        "refresh_hours": audience.refresh_hours,
        "size": privacy.shown(audience.size, floor),
        "size_suppressed": audience.size is not None and privacy.below_floor(audience.size, floor),
        "as_of": audience.as_of,
        "refreshed_at": audience.refreshed_at,
        "next_refresh_at": audience.next_refresh_at,
        "created_by": audience.created_by,
        "created_at": audience.created_at,
        "updated_at": audience.updated_at,
    }


def create_audience(
    session: Session, principal: Principal, data: AudienceCreate, template: str | None = None
) -> dict[str, Any]:
    """Save a validated rule tree as an audience (not refreshed yet)."""
    principal.require(Permission.MANAGE_MARKETING)
    scope = _scope(session, principal, None)
    node = validate_rules(scope, data.rules)
    _check_name(session, data.name)
    now = utcnow()
    audience = Audience(
        organization_id=principal.organization_id,
        name=data.name,
        description=data.description,
        rules=r.dump(node),
        template=template,
        refresh_hours=data.refresh_hours,
        next_refresh_at=now if data.refresh_hours else None,
        created_by=principal.actor,
        created_at=now,
    )
    session.add(audience)
    session.flush()
    return read(audience, min_crowd_size(session))


def update_audience(
    session: Session, principal: Principal, audience_id: uuid.UUID, data: AudienceUpdate
) -> dict[str, Any]:
    """Change a saved audience's name, description, rules or schedule."""
    principal.require(Permission.MANAGE_MARKETING)
    audience = audience_row(session, audience_id)
    given = data.model_fields_set
    if "name" in given:
        if data.name is None:
            raise InvalidInput("name cannot be empty", field="name")
        _check_name(session, data.name, audience.id)
        audience.name = data.name
    if "description" in given:
        audience.description = data.description
    if "rules" in given:
        if data.rules is None:
            raise InvalidInput("rules cannot be null", field="rules")
        scope = _scope(session, principal, None)
        audience.rules = r.dump(validate_rules(scope, data.rules, str(audience.id)))
    if "refresh_hours" in given:
        audience.refresh_hours = data.refresh_hours
        audience.next_refresh_at = utcnow() if data.refresh_hours else None
    audience.updated_at = utcnow()
    session.flush()
    return read(audience, min_crowd_size(session))


def _referrers(session: Session, audience_id: uuid.UUID) -> list[str]:
    names = []
    for other in session.scalars(select(Audience).where(Audience.id != audience_id)):
        for located in r.conditions(r.parse_rules(other.rules)):
            condition = located.condition
            if isinstance(condition, r.SavedAudience) and condition.audience_id == str(audience_id):
                names.append(other.name)
                break
    return names


def delete_audience(
    session: Session, principal: Principal, warehouse: Warehouse, audience_id: uuid.UUID
) -> None:
    """Delete an audience and its stored members (refused while another refers to it)."""
    principal.require(Permission.MANAGE_MARKETING)
    audience = audience_row(session, audience_id)
    users = _referrers(session, audience.id)
    if users:
        raise Conflict(f"used by the audience {users[0]!r}", field="audience_id")
    organization_id = str(principal.organization_id)
    with open_warehouse(warehouse) as con:
        if con.name in DELETING_ENGINES:
            execute(
                con,
                f"DELETE FROM {AUDIENCE_MEMBER_TABLE} WHERE organization_id = "  # noqa: S608
                f"'{organization_id}' AND audience_id = '{audience.id}'",
            )
    realtime.index_for(warehouse).drop(organization_id, str(audience.id))
    session.execute(delete(AudienceSize).where(AudienceSize.audience_id == audience.id))
    session.delete(audience)
    session.flush()


def list_audiences(session: Session, principal: Principal) -> list[dict[str, Any]]:
    """Every audience of the organisation, by name."""
    principal.require(Permission.READ)
    floor = min_crowd_size(session)
    return [read(a, floor) for a in session.scalars(select(Audience).order_by(Audience.name))]


def get_audience(session: Session, principal: Principal, audience_id: uuid.UUID) -> dict[str, Any]:
    """One audience."""
    principal.require(Permission.READ)
    return read(audience_row(session, audience_id), min_crowd_size(session))


# ---------------------------------------------------------------- refreshing
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
    scope = _scope(session, principal, as_of)
    node = r.parse_rules(audience.rules)
    org, key = scope.organization_id, str(audience.id)
    version = uuid.uuid4().hex
    now = utcnow()
    with open_warehouse(warehouse) as con:
        dimensions.sync_member_dim(session, con, org)
        members = queries.audience_members(con, node, scope.context)
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
    execute(con, f"INSERT INTO {AUDIENCE_MEMBER_TABLE} {con.compile(rows)}")
    stored = queries.stored_members(con, org, key, version)
    size = _count(stored)
    kept = 0
    if previous is not None:
        old = previous.select(p_member="member_id")
        kept = _count(stored.semi_join(old, stored.member_id == old.p_member))
    if con.name in DELETING_ENGINES:
        keep = [version] + ([previous_version] if previous_version else [])
        listed = ", ".join(f"'{uuid.UUID(v).hex}'" for v in keep)  # hex ids only
        execute(
            con,
            f"DELETE FROM {AUDIENCE_MEMBER_TABLE} WHERE organization_id = '{org}' "  # noqa: S608
            f"AND audience_id = '{key}' AND version NOT IN ({listed})",
        )
    return size, kept


def size_history(
    session: Session, principal: Principal, audience_id: uuid.UUID
) -> list[dict[str, Any]]:
    """The size of each refresh, oldest first (below the floor: null)."""
    principal.require(Permission.READ)
    audience = audience_row(session, audience_id)
    floor = min_crowd_size(session)
    history = session.scalars(
        select(AudienceSize)
        .where(AudienceSize.audience_id == audience.id)
        .order_by(AudienceSize.refreshed_at, AudienceSize.id)
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


def refreshed_version(audience: Audience) -> str:
    if audience.version is None:
        raise Conflict("the audience has not been refreshed yet", field="audience_id")
    return audience.version


def require_above_floor(session: Session, audience: Audience) -> None:
    floor = min_crowd_size(session)
    if privacy.below_floor(audience.size or 0, floor):
        raise BelowPrivacyFloor(
            f"the audience has fewer members than the minimum crowd size ({floor})",
            field="audience_id",
        )


def members_page(
    session: Session,
    principal: Principal,
    warehouse: Warehouse,
    audience_id: uuid.UUID,
    limit: int = 1000,
    offset: int = 0,
) -> dict[str, Any]:
    """A page of the stored members (refused below the privacy floor)."""
    principal.require(Permission.MANAGE_MARKETING)
    audience = audience_row(session, audience_id)
    version = refreshed_version(audience)
    require_above_floor(session, audience)
    with open_warehouse(warehouse) as con:
        stored = queries.stored_members(
            con, str(principal.organization_id), str(audience.id), version
        )
        page = stored.order_by("member_id").limit(limit, offset=offset).to_pyarrow().to_pylist()
    return {
        "audience_id": audience.id,
        "version": version,
        "size": audience.size,
        "members": page,
    }


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


# ---------------------------------------------------------------- insight
def insight_cells(rows: list[dict[str, Any]], floor: int) -> dict[str, Any]:
    """Cells above the floor; the small ones hidden together (and more, until the hidden
    total is itself at least the floor, so no subtraction gives a small cell away)."""
    ordered = sorted(
        ((row["value"], int(row["members"])) for row in rows),
        key=lambda cell: (-cell[1], "" if cell[0] is None else str(cell[0])),
    )
    visible = [c for c in ordered if not privacy.below_floor(c[1], floor)]
    hidden = [c for c in ordered if privacy.below_floor(c[1], floor)]
    while hidden and 0 < sum(c[1] for c in hidden) < floor and visible:
        hidden.append(visible.pop())
    total = sum(c[1] for c in hidden)
    return {
        "cells": [{"value": value, "members": count} for value, count in visible],
        "suppressed": {"cells": len(hidden), "members": privacy.shown(total, floor)},
    }


def insight(
    session: Session,
    principal: Principal,
    warehouse: Warehouse,
    audience_id: uuid.UUID,
    brand_id: str | None = None,
) -> dict[str, Any]:
    """The stored members by city, gender, age band, tier, preferred channel and AIPL stage."""
    principal.require(Permission.READ)
    audience = audience_row(session, audience_id)
    floor = min_crowd_size(session)
    scope = _scope(session, principal, audience.as_of)
    if brand_id is not None and brand_id not in scope.brands:
        raise NotFound("brand not found", field="brand_id")
    brand = brand_id or (scope.brands[0] if scope.brands else None)
    report: dict[str, Any] = {
        "audience_id": audience.id,
        "as_of": audience.as_of,
        "size": privacy.shown(audience.size, floor),
        "suppressed": audience.size is None or privacy.below_floor(audience.size, floor),
        "min_crowd_size": floor,
        "brand_id": brand,
        "dimensions": {},
    }
    if report["suppressed"] or audience.version is None:
        return report
    with open_warehouse(warehouse) as con:
        members = queries.stored_members(
            con, scope.organization_id, str(audience.id), audience.version
        )
        for dimension in queries.INSIGHT_DIMENSIONS:
            rows = queries.insight_rows(con, members, scope.context, dimension, brand)
            report["dimensions"][dimension] = insight_cells(rows.to_pyarrow().to_pylist(), floor)
    return report


# ---------------------------------------------------------------- templates
def list_templates(session: Session, principal: Principal) -> list[dict[str, Any]]:
    """The ready-made audiences with their rules for today's date."""
    principal.require(Permission.READ)
    config = databank_service.get_config(session, principal)
    parameters = TemplateParameters(as_of=today_utc(), config=config)
    return [
        {
            "key": t.key,
            "name": t.name,
            "description": t.description,
            "parameters": list(t.parameters),
            "rules": t.build(parameters),
        }
        for t in TEMPLATES.values()
    ]


def apply_template(
    session: Session, principal: Principal, key: str, data: TemplateApply
) -> dict[str, Any]:
    """Create an audience from a template and its parameters."""
    principal.require(Permission.MANAGE_MARKETING)
    template = get_template(key)
    given = data.model_fields_set - {"name", "refresh_hours"}
    unused = sorted(given - set(template.parameters))
    if unused:
        raise InvalidInput(f"the template {key} takes no {unused[0]}", field=unused[0])
    config = databank_service.get_config(session, principal)
    parameters = TemplateParameters(
        as_of=today_utc(),
        brand_id=None if data.brand_id is None else str(data.brand_id),
        start=data.start,
        end=data.end,
        days=data.days,
        config=config,
    )
    body = AudienceCreate(
        name=data.name or template.name,
        rules=template.build(parameters),
        refresh_hours=data.refresh_hours,
    )
    return create_audience(session, principal, body, template=key)


# ---------------------------------------------------------------- the member dimension
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
