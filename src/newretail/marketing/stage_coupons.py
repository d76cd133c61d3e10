"""Coupons of a campaign stage: issue an offer of the stage to members (one coupon per stage,
offer and member, however often it runs), valid over the stage's local days or the offer's
own validity, within the stage's budgets."""

from __future__ import annotations

import functools
import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from newretail.core.database import utcnow
from newretail.core.errors import Conflict, InvalidInput
from newretail.core.localtime import local_days_bounds
from newretail.core.reads import read_of
from newretail.marketing import bulk_issue, campaigns, coupon_facts, offer_library, schemas
from newretail.marketing.models import Campaign, CampaignStage, CampaignState, Offer
from newretail.marketing.offer_specs import OfferSpec, to_template
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.models import Store
from newretail.tenancy.permissions import Permission, Principal

ISSUING = (CampaignState.SCHEDULED, CampaignState.RUNNING)


def validity(
    stage: CampaignStage, spec: OfferSpec, zone_name: str, issued_at: datetime
) -> tuple[datetime, datetime]:
    """When a coupon issued now is valid: the offer's own window (`Validity.window`) within
    the stage's local days where the offer leaves a side open."""
    start, end = to_template(spec).validity.window(zone_name, issued_at)
    stage_start, stage_end = local_days_bounds(stage.first_day, stage.last_day, zone_name)
    return start or stage_start, end or stage_end


def check_store(session: Session, principal: Principal, store_id: uuid.UUID | None) -> None:
    """Refuse a store the principal may not act for or of another organisation (None: the
    coupon is issued at no store)."""
    if store_id is not None:
        principal.require_store(store_id)
        if session.get(Store, store_id) is None:
            raise InvalidInput("no such store in this organisation", field="store_id")


def stage_plan(
    session: Session,
    principal: Principal,
    campaign_id: uuid.UUID,
    stage_id: uuid.UUID,
    offer_code: str,
    *,
    store_id: uuid.UUID | None = None,
    now: datetime | None = None,
) -> bulk_issue.BulkPlan:
    """What a coupon of this stage's offer issued now is (refused unless the campaign is
    scheduled or running and the offer is one of the stage's)."""
    principal.require(Permission.MANAGE_MARKETING)
    check_store(session, principal, store_id)
    campaign, stage, offer = campaigns.stage_offer(session, campaign_id, stage_id, offer_code)
    return plan_of(session, principal, campaign, stage, offer, store_id=store_id, now=now)


def plan_of(
    session: Session,
    principal: Principal,
    campaign: Campaign,
    stage: CampaignStage,
    offer: Offer,
    *,
    store_id: uuid.UUID | None = None,
    now: datetime | None = None,
) -> bulk_issue.BulkPlan:
    """The plan of coupons of the stage's offer issued now (the caller checked who asks)."""
    now = now or utcnow()
    zone_name = tenancy_service.organisation_zone(session, principal.organization_id)
    state = campaigns.state_at(campaign, zone_name, now)
    if state not in ISSUING:
        raise Conflict(f"a campaign that is {state} issues no coupons", field="state")
    spec = offer_library.spec_of(offer)
    valid_from, valid_until = validity(stage, spec, zone_name, now)
    return bulk_issue.BulkPlan(
        organization_id=principal.organization_id,
        offer_id=offer.id,
        offer_code=offer.code,
        stage_key=stage.stage_key,
        valid_from=valid_from,
        valid_until=valid_until,
        actor=principal.actor,
        names=coupon_facts.names_of(session, offer.id, stage.stage_key),
        store_id=store_id,
        member_limit=spec.per_member_limit,
        held_out=functools.partial(
            campaigns.held_out, campaign.id, percent=campaign.holdout_percent
        ),
    )


def report_of(report: bulk_issue.BulkReport) -> schemas.IssueReport:
    return read_of(schemas.IssueReport, report, refused=report.refusals())


def issue_to_members(
    session: Session,
    principal: Principal,
    campaign_id: uuid.UUID,
    stage_id: uuid.UUID,
    request: schemas.IssueRequest,
    now: datetime | None = None,
) -> schemas.IssueReport:
    """One coupon of the stage's offer to each member, set-based in the caller's transaction
    (`bulk_issue.issue_batch`)."""
    plan = stage_plan(
        session,
        principal,
        campaign_id,
        stage_id,
        request.offer_code,
        store_id=request.store_id,
        now=now,
    )
    return report_of(bulk_issue.issue_batch(session, plan, request.member_ids, now))
