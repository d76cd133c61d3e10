"""Campaign plans: stages with local days, audiences, offers, channels and budgets; the states
draft → scheduled (approved by an administrator) → running → paused → ended; every change
audited with who, when and the plan after it.

`running` is never stored: a scheduled campaign runs from the local midnight its first stage
starts to the local midnight after its last stage ends (`state_at`), so the state is the same
in every process at every moment without a job moving it.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from datetime import datetime
from functools import partial

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from newretail.core.database import by_id_or_name, flush_unique, get_or_not_found, utcnow
from newretail.core.errors import Conflict, InvalidInput, NotFound
from newretail.core.localtime import local_days_bounds
from newretail.marketing import budgets, offer_library, schemas
from newretail.marketing.models import (
    Budget,
    Campaign,
    CampaignAudit,
    CampaignStage,
    CampaignState,
    Offer,
)
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.models import Brand, Store
from newretail.tenancy.permissions import Permission, Principal

Change = schemas.CampaignChange
# who may move a campaign from one stored state to another, and which change it is
TRANSITIONS: dict[Change, tuple[frozenset[CampaignState], CampaignState, Permission]] = {
    Change.APPROVED: (
        frozenset({CampaignState.DRAFT}),
        CampaignState.SCHEDULED,
        Permission.MANAGE_ORGANIZATION,  # an administrator's act, not the planner's
    ),
    Change.WITHDRAWN: (
        frozenset({CampaignState.SCHEDULED}),
        CampaignState.DRAFT,
        Permission.MANAGE_MARKETING,
    ),
    Change.PAUSED: (
        frozenset({CampaignState.SCHEDULED}),
        CampaignState.PAUSED,
        Permission.MANAGE_MARKETING,
    ),
    Change.RESUMED: (
        frozenset({CampaignState.PAUSED}),
        CampaignState.SCHEDULED,
        Permission.MANAGE_MARKETING,
    ),
    Change.ENDED: (
        frozenset({CampaignState.DRAFT, CampaignState.SCHEDULED, CampaignState.PAUSED}),
        CampaignState.ENDED,
        Permission.MANAGE_MARKETING,
    ),
}
# a stage's fields stored as the plan gives them (channels, audiences and offers become JSON)
STORED_AS_PLANNED = {"name", "kind", "first_day", "last_day"}


def period(campaign: Campaign, zone_name: str) -> tuple[datetime, datetime]:
    """From the local midnight the first stage starts to the one after the last ends."""
    return local_days_bounds(campaign.stages[0].first_day, campaign.stages[-1].last_day, zone_name)


def state_at(campaign: Campaign, zone_name: str, now: datetime) -> CampaignState:
    """The state as of `now`: a scheduled campaign inside its days is running, after them
    ended."""
    stored = CampaignState(campaign.state)
    if stored in (CampaignState.SCHEDULED, CampaignState.PAUSED):
        start, end = period(campaign, zone_name)
        if now >= end:
            return CampaignState.ENDED
        if stored is CampaignState.SCHEDULED and now >= start:
            return CampaignState.RUNNING
    return stored


def _audit(
    session: Session, principal: Principal, campaign: Campaign, change: Change, **detail: object
) -> None:
    session.add(
        CampaignAudit(
            organization_id=principal.organization_id,
            campaign_id=campaign.id,
            change=change,
            actor=principal.actor,
            detail={"state": campaign.state, **detail},
        )
    )


def _check_references(session: Session, body: schemas.CampaignIn) -> dict[uuid.UUID, str]:
    """Refuse a brand or store of another organisation; the names of the budgets' stores."""
    if body.brand_id is not None and session.get(Brand, body.brand_id) is None:
        raise InvalidInput("no such brand in this organisation", field="brand_id")
    store_ids = {b.store_id for stage in body.stages for b in stage.store_budgets}
    names: dict[uuid.UUID, str] = {}
    if store_ids:
        names = dict(
            session.execute(select(Store.id, Store.name).where(Store.id.in_(store_ids))).all()
        )
        if store_ids - set(names):
            raise InvalidInput("no such store in this organisation", field="store_budgets")
    return names


def _plan_stages(
    session: Session,
    principal: Principal,
    campaign: Campaign,
    body: schemas.CampaignIn,
    store_names: dict[uuid.UUID, str],
) -> None:
    """Replace the campaign's stages and their budgets by the plan's."""
    for stage in campaign.stages:
        session.execute(delete(Budget).where(Budget.stage_key == stage.stage_key))
    campaign.stages.clear()
    session.flush()
    for position, planned in enumerate(body.stages, start=1):
        stage = CampaignStage(
            organization_id=principal.organization_id,
            campaign_id=campaign.id,
            position=position,
            **planned.model_dump(include=STORED_AS_PLANNED),
            channels=planned.channels.model_dump(mode="json"),
            audience_ids=[str(a) for a in planned.audience_ids],
            offer_ids=[str(o) for o in offer_library.offer_ids(session, planned.offer_codes)],
        )
        campaign.stages.append(stage)
        label = f"{body.name} · {planned.name}"
        budgets.create_budget(
            session,
            principal.organization_id,
            name=label,
            stage_key=stage.stage_key,
            **planned.budget.model_dump(),
        )
        for store_budget in planned.store_budgets:
            limits = store_budget.model_dump(exclude={"store_id"})
            budgets.create_budget(
                session,
                principal.organization_id,
                name=f"{label} · {store_names[store_budget.store_id]}",
                stage_key=stage.stage_key,
                store_id=store_budget.store_id,
                **limits,
            )


def _write_plan(
    session: Session,
    principal: Principal,
    campaign: Campaign,
    body: schemas.CampaignIn,
    change: Change,
) -> Campaign:
    """Give the campaign the plan's name, brand, description, holdout, stages and budgets,
    audited as `change` with the plan."""
    store_names = _check_references(session, body)
    campaign.name, campaign.brand_id = body.name, body.brand_id
    campaign.description, campaign.holdout_percent = body.description, body.holdout_percent
    session.add(campaign)
    flush_unique(session, "name", f"a campaign named {body.name!r} exists")
    _plan_stages(session, principal, campaign, body, store_names)
    _audit(session, principal, campaign, change, plan=body.model_dump(mode="json"))
    session.flush()
    return campaign


def create_campaign(session: Session, principal: Principal, body: schemas.CampaignIn) -> Campaign:
    principal.require(Permission.MANAGE_MARKETING)
    campaign = Campaign(
        id=uuid.uuid4(), organization_id=principal.organization_id, state=CampaignState.DRAFT
    )
    return _write_plan(session, principal, campaign, body, Change.CREATED)


def replan_campaign(
    session: Session, principal: Principal, campaign_id: uuid.UUID, body: schemas.CampaignIn
) -> Campaign:
    """Replace a draft's plan (an approved campaign is withdrawn to draft first)."""
    principal.require(Permission.MANAGE_MARKETING)
    campaign = get_campaign(session, campaign_id)
    if campaign.state != CampaignState.DRAFT:
        raise Conflict("only a draft can be changed; withdraw it first", field="state")
    campaign.updated_at = utcnow()
    return _write_plan(session, principal, campaign, body, Change.REPLANNED)


def _refusal(current: CampaignState, change: Change) -> str | None:
    """Why a campaign in this state (as of now) cannot make the change (None: it can)."""
    if current is CampaignState.RUNNING:
        if change is Change.WITHDRAWN:
            return "a running campaign cannot go back to draft"
        current = CampaignState.SCHEDULED  # running is scheduled inside its days
    if current not in TRANSITIONS[change][0]:
        return f"a campaign that is {current} cannot be {change}"
    return None


def allowed_changes(principal: Principal, current: CampaignState) -> list[Change]:
    """The changes this principal may make to a campaign in this state, in `TRANSITIONS`
    order (what the console offers as buttons)."""
    return [
        change
        for change, (_, _, permission) in TRANSITIONS.items()
        if _refusal(current, change) is None and principal.can(permission)
    ]


def change_state(
    session: Session,
    principal: Principal,
    campaign_id: uuid.UUID,
    change: Change,
    now: datetime | None = None,
) -> Campaign:
    """Approve, withdraw, pause, resume or end, as `TRANSITIONS` allows from the state now."""
    if change not in TRANSITIONS:
        raise InvalidInput(f"{change} is not a state change", field="change")
    _, target, permission = TRANSITIONS[change]
    principal.require(permission)
    now = now or utcnow()
    campaign = get_campaign(session, campaign_id)
    zone_name = tenancy_service.organisation_zone(session, principal.organization_id)
    refused = _refusal(state_at(campaign, zone_name, now), change)
    if refused is not None:
        raise Conflict(refused, field="state")
    if change is Change.APPROVED:
        campaign.approved_by, campaign.approved_at = principal.actor, now
    campaign.state = target
    campaign.updated_at = now
    _audit(session, principal, campaign, change)
    session.flush()
    return campaign


def get_campaign(session: Session, campaign_id: uuid.UUID) -> Campaign:
    return get_or_not_found(session, Campaign, campaign_id, "campaign", field="campaign_id")


def campaign_by_ref(session: Session, ref: str) -> Campaign:
    """A campaign by id or by its name, as an operator types it (`field="campaign"`)."""
    return by_id_or_name(
        session,
        Campaign,
        ref,
        partial(get_campaign, session),
        lambda: InvalidInput(f"no campaign named {ref!r}", field="campaign"),
    )


def list_campaigns(session: Session) -> Sequence[Campaign]:
    return session.scalars(select(Campaign).order_by(Campaign.created_at.desc())).all()


def audit_of(session: Session, campaign_id: uuid.UUID) -> Sequence[CampaignAudit]:
    get_campaign(session, campaign_id)
    return session.scalars(
        select(CampaignAudit)
        .where(CampaignAudit.campaign_id == campaign_id)
        .order_by(CampaignAudit.created_at, CampaignAudit.id)
    ).all()


def stage_of(campaign: Campaign, stage_id: uuid.UUID) -> CampaignStage:
    for stage in campaign.stages:
        if stage.id == stage_id:
            return stage
    raise NotFound("the campaign has no such stage", field="stage_id")


def stage_offer(
    session: Session, campaign_id: uuid.UUID, stage_id: uuid.UUID, offer_code: str
) -> tuple[Campaign, CampaignStage, Offer]:
    """The campaign, its stage and the offer by code, refused unless the offer is one of the
    stage's (what a stage's coupons and claim codes are issued from)."""
    campaign = get_campaign(session, campaign_id)
    stage = stage_of(campaign, stage_id)
    offer = offer_library.get_offer(session, offer_code)
    if str(offer.id) not in stage.offer_ids:
        raise InvalidInput("the offer is not one of the stage's offers", field="offer_code")
    return campaign, stage, offer


def held_out(campaign_id: uuid.UUID, member_id: uuid.UUID, percent: int) -> bool:
    """Whether the member is in the campaign's holdout, never sent its coupons, to measure the
    lift: the first 8 hex digits of SHA-256 of "campaign id:member id", as a number, modulo
    100, below the percent. Stable for a campaign whatever the audience, batch or rerun, and
    independent between campaigns."""
    if percent <= 0:
        return False
    digest = hashlib.sha256(f"{campaign_id}:{member_id}".encode()).hexdigest()
    return int(digest[:8], 16) % 100 < percent
