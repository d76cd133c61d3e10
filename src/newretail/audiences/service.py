"""Audience use cases: estimate a rule tree, save, change, delete, list and read audiences.

Definitions, size history and the export audit log live in the operational store; members
live in the warehouse (`audience_member`, one stored version per refresh; see
`refreshing`), so that rules over other saved audiences compile into the same warehouse
query. Every count leaves through `privacy` (the organisation's minimum crowd size).
"""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from newretail.audiences import compiler, dimensions, privacy, realtime
from newretail.audiences import rules as r
from newretail.audiences.compile_scope import compile_scope
from newretail.audiences.conditions import SavedAudience
from newretail.audiences.crowd_settings import min_crowd_size
from newretail.audiences.models import Audience, AudienceExport, AudienceSize
from newretail.audiences.schemas import AudienceCreate, AudienceUpdate, EstimateRequest
from newretail.audiences.tables import (
    AUDIENCE_MEMBER_TABLE,
    DELETING_ENGINES,
    count_rows,
    open_warehouse,
)
from newretail.audiences.validation import validate_rules
from newretail.core.database import utcnow
from newretail.core.errors import Conflict, InvalidInput, NotFound
from newretail.tenancy.permissions import Permission, Principal
from newretail.warehouse.connection import Warehouse
from newretail.warehouse.sql import run_sql


def estimate(
    session: Session, principal: Principal, warehouse: Warehouse, data: EstimateRequest
) -> dict[str, Any]:
    """Count a rule tree's members without storing them (below the floor: null)."""
    principal.require(Permission.MANAGE_MARKETING)
    scope = compile_scope(session, principal, data.as_of)
    node = validate_rules(session, scope, data.rules)
    floor = min_crowd_size(session)
    with open_warehouse(warehouse) as con:
        dimensions.sync_member_dim(session, con, scope.organization_id)
        size = count_rows(compiler.audience_members(con, node, scope.context))
    return {
        "size": privacy.shown(size, floor),
        "suppressed": privacy.below_floor(size, floor),
        "min_crowd_size": floor,
        "as_of": scope.context.as_of,
        "rules": r.dump(node),
    }


def audience_row(session: Session, audience_id: uuid.UUID, *, lock: bool = False) -> Audience:
    """The audience row of the organisation (optionally locked for update)."""
    statement = select(Audience).where(Audience.id == audience_id)
    if lock:
        statement = statement.with_for_update()
    audience = session.scalars(statement).one_or_none()
    if audience is None:
        raise NotFound("audience not found", field="audience_id")
    return audience


# an audience's log in the operational store: its refreshes' sizes, its exports
LogRow = TypeVar("LogRow", AudienceSize, AudienceExport)


def audience_log(
    session: Session,
    principal: Principal,
    audience_id: uuid.UUID,
    model: type[LogRow],
    *order_by: Any,
) -> tuple[list[LogRow], int]:
    """One of an audience's logs in the order given, with the privacy floor it is shown under."""
    principal.require(Permission.READ)
    audience = audience_row(session, audience_id)
    rows = session.scalars(
        select(model).where(model.audience_id == audience.id).order_by(*order_by)
    )
    return list(rows), min_crowd_size(session)


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
    scope = compile_scope(session, principal, None)
    node = validate_rules(session, scope, data.rules)
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
        scope = compile_scope(session, principal, None)
        audience.rules = r.dump(validate_rules(session, scope, data.rules, str(audience.id)))
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
            if isinstance(condition, SavedAudience) and condition.audience_id == str(audience_id):
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
            run_sql(
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
