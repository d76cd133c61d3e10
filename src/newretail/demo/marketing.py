"""The demo's Double 11 campaign: a 满减 offer and a gift-with-purchase, three stages (pre-sale,
main day, a 30-day offline extension) with budgets for the stage and two counters, approved,
the extension's coupons issued to 300 members (and its 满减 coupons to the newest 300), and some of
them redeemed in sales at counters, shops, a pop-up and a cloud shelf; and the extension's
counter trigger rule with its decided approaches and purchases (`demo.reach_lift`), so the
campaign's lift report has real numbers."""

from __future__ import annotations

import random
import uuid
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from newretail.core.database import utcnow
from newretail.core.localtime import today
from newretail.demo import coupon_sales
from newretail.demo.reach_lift import SeededLift, seed_lift
from newretail.marketing import campaigns, offer_library, schemas, stage_coupons
from newretail.marketing.offer_specs import OfferSpec
from newretail.members.profile_graph import Member
from newretail.tenancy import service
from newretail.tenancy.models import Role
from newretail.tenancy.permissions import Principal, PrincipalKind
from newretail.warehouse.connection import Warehouse

CAMPAIGN = "Double 11"
OFFERS = [
    {
        "code": "D11-300-40",
        "name": "Double 11: spend ¥300, save ¥40",
        "benefit": {"kind": "threshold", "spend": "300.00", "save": "40.00", "repeat": True},
        "combination_class": "order",
    },
    {
        "code": "D11-COUNTER-10",
        "name": "Counter extension: 10% off up to ¥50",
        "benefit": {"kind": "percent_off", "percent": "10", "cap": "50.00"},
        "combination_class": "product",
        "channels": {"reach": "channel_types", "channel_types": ["counter"]},
        "combines_with": ["D11-300-40"],
    },
]
ISSUED_TO = 300
LIFT_SEED = 11


def double_11_year(on: date) -> int:
    """This year's Double 11 until its offline extension ends (11 December), then next
    year's."""
    return on.year if on <= date(on.year, 12, 11) else on.year + 1


def seed_marketing(
    session: Session,
    organization_id: uuid.UUID,
    zone_name: str,
    warehouse: Warehouse | None = None,
    now: datetime | None = None,
) -> SeededLift | None:
    """The campaign, its coupons and sales; with the `warehouse` (the decision engine's
    snapshots need it) the extension's counter rule and its decided approaches and purchases
    too (`demo.reach_lift`), as of `now`."""
    owner = Principal.for_role(PrincipalKind.USER, organization_id, Role.OWNER, actor="demo")
    for offer in OFFERS:
        offer_library.create_offer(session, owner, OfferSpec.model_validate(offer))
    year = double_11_year(today(zone_name))
    counters = [service.store_by_code(session, c) for c in ("SH-JA-COUNTER", "BJ-GM-COUNTER")]
    plan = schemas.CampaignIn.model_validate(
        {
            "name": CAMPAIGN,
            "description": "Pre-sale online, the main day everywhere, 30 days at the counters.",
            "holdout_percent": 10,
            "stages": [
                {
                    "name": "Pre-sale",
                    "kind": "pre_sale",
                    "first_day": date(year, 10, 20),
                    "last_day": date(year, 10, 31),
                    "channels": {"reach": "online"},
                    "offer_codes": ["D11-300-40"],
                    "budget": {"issue_limit": 50000},
                },
                {
                    "name": "Main day",
                    "kind": "main_day",
                    "first_day": date(year, 11, 11),
                    "last_day": date(year, 11, 11),
                    "offer_codes": ["D11-300-40"],
                    "budget": {"redeem_limit": 20000, "amount_limit": "800000.00"},
                },
                {
                    "name": "30-day offline extension",
                    "kind": "offline_extension",
                    "first_day": date(year, 11, 12),
                    "last_day": date(year, 12, 11),
                    "channels": {"reach": "offline"},
                    "offer_codes": ["D11-300-40", "D11-COUNTER-10"],
                    "budget": {"issue_limit": 5000, "amount_limit": "200000.00"},
                    "store_budgets": [
                        {"store_id": str(store.id), "redeem_limit": 500} for store in counters
                    ],
                },
            ],
        }
    )
    campaign = campaigns.create_campaign(session, owner, plan)
    campaigns.change_state(session, owner, campaign.id, schemas.CampaignChange.APPROVED)
    lift = None
    if warehouse is not None:  # before the bulk issue: the approached members' coupons are
        # the ones the engine issues at their approach (valid from then)
        rng = random.Random(LIFT_SEED)  # noqa: S311 (demo data)
        lift = seed_lift(session, owner, warehouse, campaign, now or utcnow(), rng)
    members = list(session.scalars(select(Member.id).order_by(Member.created_at, Member.id)))
    extension = campaign.stages[-1]
    request = schemas.IssueRequest(offer_code="D11-COUNTER-10", member_ids=members[:ISSUED_TO])
    stage_coupons.issue_to_members(session, owner, campaign.id, extension.id, request)
    coupon_sales.redeem_in_sales(session, owner, campaign, members[-ISSUED_TO:])
    return lift
