"""Trigger rules on campaign stages and the organisation's reach settings: create, change,
list and delete (a change in this process refreshes its snapshots at once, other processes'
within their check period, `reach.snapshot`), and the recorded decisions."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from newretail.core.database import flush_unique, get_or_not_found, utcnow
from newretail.core.errors import InvalidInput
from newretail.core.localtime import zone as _zone
from newretail.core.reads import read_of
from newretail.marketing import campaigns, offer_library
from newretail.marketing.models import Campaign, Offer
from newretail.reach import snapshot
from newretail.reach import trigger_schemas as schemas
from newretail.reach.decide import Channel, Reason
from newretail.reach.models import ReachDecision, ReachSettings, TriggerRule
from newretail.tenancy.models import Store
from newretail.tenancy.permissions import Permission, Principal

MAX_DECISIONS = 1000


def _checked(session: Session, body: schemas.TriggerRuleIn) -> dict[str, object]:
    """The rule's stored columns, refusing a stage, offer or store the organisation lacks."""
    campaign = campaigns.get_campaign(session, body.campaign_id)
    stage = next((s for s in campaign.stages if s.position == body.stage_position), None)
    if stage is None:
        raise InvalidInput("the campaign has no stage at this position", field="stage_position")
    offer = offer_library.get_offer(session, body.offer_code)
    if str(offer.id) not in stage.offer_ids:
        raise InvalidInput("the offer is not one of the stage's offers", field="offer_code")
    if body.store_ids:
        found = set(session.scalars(select(Store.id).where(Store.id.in_(body.store_ids))))
        if set(body.store_ids) - found:
            raise InvalidInput("no such store in this organisation", field="store_ids")
    return {
        "name": body.name,
        "campaign_id": campaign.id,
        "stage_position": body.stage_position,
        "event_types": sorted(set(body.event_types)),
        "property_filters": [f.model_dump(exclude_defaults=True) for f in body.property_filters],
        "store_ids": [str(s) for s in body.store_ids],
        "cities": list(body.cities),
        "districts": list(body.districts),
        "channel": body.channel,
        "offer_id": offer.id,
        "sku_ids": [str(s) for s in body.sku_ids],
        "reentry_minutes": body.reentry_minutes,
        "daily_cap": body.daily_cap,
        "weekly_cap": body.weekly_cap,
        "active": body.active,
    }


def create_rule(session: Session, principal: Principal, body: schemas.TriggerRuleIn) -> TriggerRule:
    """Add a trigger rule to a campaign stage."""
    principal.require(Permission.MANAGE_MARKETING)
    rule = TriggerRule(organization_id=principal.organization_id, **_checked(session, body))
    session.add(rule)
    flush_unique(session, "name", f"a trigger rule named {body.name!r} exists")
    snapshot.changed_after_commit(session, principal.organization_id)
    return rule


def update_rule(
    session: Session, principal: Principal, rule_id: uuid.UUID, body: schemas.TriggerRuleIn
) -> TriggerRule:
    """Replace a trigger rule (its decisions so far stay as they were taken)."""
    principal.require(Permission.MANAGE_MARKETING)
    rule = get_rule(session, rule_id)
    for name, value in _checked(session, body).items():
        setattr(rule, name, value)
    rule.updated_at = utcnow()
    flush_unique(session, "name", f"a trigger rule named {body.name!r} exists")
    snapshot.changed_after_commit(session, principal.organization_id)
    return rule


def delete_rule(session: Session, principal: Principal, rule_id: uuid.UUID) -> None:
    """Delete a trigger rule with its decisions (deactivate it to keep them)."""
    principal.require(Permission.MANAGE_MARKETING)
    session.delete(get_rule(session, rule_id))
    session.flush()
    snapshot.changed_after_commit(session, principal.organization_id)


def get_rule(session: Session, rule_id: uuid.UUID) -> TriggerRule:
    return get_or_not_found(session, TriggerRule, rule_id, "trigger rule", field="rule_id")


def list_rules(session: Session, campaign_id: uuid.UUID | None = None) -> Sequence[TriggerRule]:
    statement = select(TriggerRule).order_by(TriggerRule.name)
    if campaign_id is not None:
        statement = statement.where(TriggerRule.campaign_id == campaign_id)
    return session.scalars(statement).all()


def rule_read(session: Session, rule: TriggerRule) -> schemas.TriggerRuleRead:
    """A rule as the API shows it: its campaign, stage and offer by name."""
    campaign = campaigns.get_campaign(session, rule.campaign_id)
    stage = next((s for s in campaign.stages if s.position == rule.stage_position), None)
    offer = get_or_not_found(session, Offer, rule.offer_id, "offer", field="offer_id")
    return schemas.TriggerRuleRead(
        id=rule.id,
        name=rule.name,
        campaign_id=campaign.id,
        campaign_name=campaign.name,
        stage_position=rule.stage_position,
        stage_name=None if stage is None else stage.name,
        event_types=rule.event_types,
        property_filters=rule.property_filters,
        store_ids=[uuid.UUID(s) for s in rule.store_ids],
        cities=rule.cities,
        districts=rule.districts,
        channel=Channel(rule.channel),
        offer_code=offer.code,
        offer_name=offer.name,
        sku_ids=[uuid.UUID(s) for s in rule.sku_ids],
        reentry_minutes=rule.reentry_minutes,
        daily_cap=rule.daily_cap,
        weekly_cap=rule.weekly_cap,
        active=rule.active,
    )


def settings_of(session: Session) -> schemas.ReachSettingsRead:
    """The organisation's quiet hours and global cap (none set: neither applies)."""
    row = session.scalar(select(ReachSettings))
    if row is None:
        return schemas.ReachSettingsRead(quiet_start=None, quiet_end=None, global_daily_cap=None)
    return schemas.ReachSettingsRead.model_validate(row, from_attributes=True)


def set_settings(
    session: Session, principal: Principal, body: schemas.ReachSettingsIn
) -> schemas.ReachSettingsRead:
    """Set the organisation's quiet hours and global daily cap."""
    principal.require(Permission.MANAGE_MARKETING)
    row = session.scalar(select(ReachSettings))
    if row is None:
        row = ReachSettings(organization_id=principal.organization_id)
        session.add(row)
    row.quiet_start, row.quiet_end = body.quiet_start, body.quiet_end
    row.global_daily_cap = body.global_daily_cap
    row.updated_at = utcnow()
    session.flush()
    snapshot.changed_after_commit(session, principal.organization_id)
    return settings_of(session)


def list_decisions(
    session: Session,
    *,
    campaign_id: uuid.UUID | None = None,
    reason: Reason | None = None,
    since: datetime | None = None,
    limit: int | None = 100,
    member_id: uuid.UUID | None = None,
) -> list[schemas.DecisionRead]:
    """The latest decisions, newest first, with their campaign, rule and store by name
    (`limit=None`: all of them, for one member's export only)."""
    statement = (
        select(ReachDecision, Campaign.name, TriggerRule.name, Store.name)
        .join(Campaign, Campaign.id == ReachDecision.campaign_id)
        .join(TriggerRule, TriggerRule.id == ReachDecision.rule_id)
        .outerjoin(Store, Store.id == ReachDecision.store_id)
        .order_by(ReachDecision.decided_at.desc(), ReachDecision.id)
    )
    if limit is not None:
        statement = statement.limit(min(limit, MAX_DECISIONS))
    if member_id is not None:
        statement = statement.where(ReachDecision.member_id == member_id)
    elif limit is None:
        raise ValueError("every decision of the organisation at once: give a member")
    if campaign_id is not None:
        statement = statement.where(ReachDecision.campaign_id == campaign_id)
    if reason is not None:
        statement = statement.where(ReachDecision.reason == reason)
    if since is not None:
        statement = statement.where(ReachDecision.decided_at >= since)
    return [
        read_of(
            schemas.DecisionRead,
            d,
            campaign_name=campaign_name,
            rule_name=rule_name,
            store_name=store_name,
            occurred_at=d.occurred_at.astimezone(_zone(d.time_zone)),
            decided_at=d.decided_at.astimezone(_zone(d.time_zone)),
        )
        for d, campaign_name, rule_name, store_name in session.execute(statement)
    ]
