"""REST API of trigger rules, reach settings and the decisions taken (docs/reach.md)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response

from newretail.reach import trigger_schemas as schemas
from newretail.reach import triggers
from newretail.reach.decide import Reason
from newretail.tenancy.dependencies import CurrentPrincipal, SessionDep
from newretail.tenancy.permissions import Permission

router = APIRouter(prefix="/api/v1/reach", tags=["reach"])


@router.get("/rules", response_model=list[schemas.TriggerRuleRead])
def list_rules(
    session: SessionDep, principal: CurrentPrincipal, campaign_id: uuid.UUID | None = None
) -> object:
    """Trigger rules by name (of one campaign when given)."""
    principal.require(Permission.READ)
    return [triggers.rule_read(session, r) for r in triggers.list_rules(session, campaign_id)]


@router.post("/rules", response_model=schemas.TriggerRuleRead, status_code=201)
def create_rule(
    session: SessionDep, principal: CurrentPrincipal, body: schemas.TriggerRuleIn
) -> object:
    """Add a trigger rule to a campaign stage."""
    return triggers.rule_read(session, triggers.create_rule(session, principal, body))


@router.get("/rules/{rule_id}", response_model=schemas.TriggerRuleRead)
def read_rule(session: SessionDep, principal: CurrentPrincipal, rule_id: uuid.UUID) -> object:
    """One trigger rule."""
    principal.require(Permission.READ)
    return triggers.rule_read(session, triggers.get_rule(session, rule_id))


@router.put("/rules/{rule_id}", response_model=schemas.TriggerRuleRead)
def replace_rule(
    session: SessionDep,
    principal: CurrentPrincipal,
    rule_id: uuid.UUID,
    body: schemas.TriggerRuleIn,
) -> object:
    """Replace a trigger rule (decisions taken stay as they were)."""
    return triggers.rule_read(session, triggers.update_rule(session, principal, rule_id, body))


@router.delete("/rules/{rule_id}", status_code=204)
def delete_rule(session: SessionDep, principal: CurrentPrincipal, rule_id: uuid.UUID) -> Response:
    """Delete a trigger rule and its decisions (deactivate it to keep them)."""
    triggers.delete_rule(session, principal, rule_id)
    return Response(status_code=204)


@router.get("/settings", response_model=schemas.ReachSettingsRead)
def read_settings(session: SessionDep, principal: CurrentPrincipal) -> object:
    """Quiet hours and the global daily cap."""
    principal.require(Permission.READ)
    return triggers.settings_of(session)


@router.put("/settings", response_model=schemas.ReachSettingsRead)
def replace_settings(
    session: SessionDep, principal: CurrentPrincipal, body: schemas.ReachSettingsIn
) -> object:
    """Set the quiet hours and the global daily cap."""
    return triggers.set_settings(session, principal, body)


@router.get("/decisions", response_model=list[schemas.DecisionRead])
def list_decisions(
    session: SessionDep,
    principal: CurrentPrincipal,
    campaign_id: uuid.UUID | None = None,
    reason: Reason | None = None,
    since: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=triggers.MAX_DECISIONS)] = 100,
) -> object:
    """The latest decisions, newest first, each with its one reason."""
    principal.require(Permission.READ)
    return triggers.list_decisions(
        session, campaign_id=campaign_id, reason=reason, since=since, limit=limit
    )
