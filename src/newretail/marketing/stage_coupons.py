"""Coupons of a campaign stage: issue an offer of the stage to members (one coupon per stage,
offer and member, however often it runs), valid over the stage's local days or the offer's
own validity, within the stage's budgets."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from newretail.core.database import utcnow
from newretail.core.errors import Conflict, InvalidInput
from newretail.core.localtime import local_days_bounds
from newretail.marketing import campaigns, coupons, offer_library, schemas
from newretail.marketing.errors import BudgetSpent
from newretail.marketing.models import CampaignStage, CampaignState
from newretail.marketing.offer_specs import OfferSpec, to_template
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


def issue_to_members(
    session: Session,
    principal: Principal,
    campaign_id: uuid.UUID,
    stage_id: uuid.UUID,
    request: schemas.IssueRequest,
    now: datetime | None = None,
) -> schemas.IssueReport:
    principal.require(Permission.MANAGE_MARKETING)
    campaign = campaigns.get_campaign(session, campaign_id)
    now = now or utcnow()
    zone_name = campaigns.zone_of(session, principal)
    state = campaigns.state_at(campaign, zone_name, now)
    if state not in ISSUING:
        raise Conflict(f"a campaign that is {state} issues no coupons", field="state")
    stage = campaigns.stage_of(campaign, stage_id)
    offer = offer_library.get_offer(session, request.offer_code)
    if str(offer.id) not in stage.offer_ids:
        raise InvalidInput("the offer is not one of the stage's offers", field="offer_code")
    valid_from, valid_until = validity(stage, offer_library.spec_of(offer), zone_name, now)
    issued = held = refused = 0
    for member_id in dict.fromkeys(request.member_ids):
        key = f"{stage.stage_key}:{offer.code}:{member_id}"
        request_one = coupons.Issue(
            offer_id=offer.id,
            issue_key=key,
            valid_from=valid_from,
            valid_until=valid_until,
            member_id=member_id,
            stage_key=stage.stage_key,
            store_id=request.store_id,
        )
        if coupons.find_by_key(session, key) is not None:
            held += 1
            continue
        try:
            coupons.issue(session, principal.organization_id, request_one, principal.actor)
        except BudgetSpent:
            refused += 1
            continue
        issued += 1
    return schemas.IssueReport(issued=issued, already_held=held, refused_budget=refused)
