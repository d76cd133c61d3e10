"""Shared set-up of the bulk issue and claim tests: an offer and an approved Double 11 campaign
whose stages (main day 2027-11-11, then one day each after it) all carry the offer."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from newretail.marketing import bulk_issue, campaigns, offer_library, schemas, stage_coupons
from newretail.marketing.models import Campaign, Offer
from newretail.marketing.offer_specs import OfferSpec
from newretail.tenancy.models import Role
from newretail.tenancy.permissions import Principal, PrincipalKind

OFFER_NAME = "Double 11: spend 300 save 40"
MAIN_DAY = date(2027, 11, 11)


@dataclass
class Plan:
    owner: Principal
    campaign: Campaign
    offer: Offer

    def stage(self, session: Session, position: int = 1, **options: Any) -> bulk_issue.BulkPlan:
        """The bulk plan of the offer at the stage (1 = main day)."""
        stage_id = self.campaign.stages[position - 1].id
        return stage_coupons.stage_plan(
            session, self.owner, self.campaign.id, stage_id, self.offer.code, **options
        )


def owner_of(org_id: uuid.UUID) -> Principal:
    return Principal.for_role(PrincipalKind.USER, org_id, Role.OWNER, actor="test")


def a_campaign(
    session: Session,
    org_id: uuid.UUID,
    *,
    stages: int = 1,
    issue_limit: int | None = None,
    per_member_limit: int | None = None,
    store_budgets: list[schemas.StoreBudgetIn] | None = None,
    holdout_percent: int = 0,
) -> Plan:
    """An offer (with its per-member limit) and an approved campaign of `stages` stages,
    each with an issue budget of `issue_limit` (store budgets on the first)."""
    owner = owner_of(org_id)
    spec: dict[str, Any] = {
        "code": "D11",
        "name": OFFER_NAME,
        "benefit": {"kind": "threshold", "spend": "300.00", "save": "40.00"},
        "combination_class": "order",
        "per_member_limit": per_member_limit,
    }
    offer = offer_library.create_offer(session, owner, OfferSpec.model_validate(spec))
    planned = [
        schemas.StageIn(
            name="Main day" if n == 0 else f"Day {n + 1}",
            first_day=MAIN_DAY + timedelta(days=n),
            last_day=MAIN_DAY + timedelta(days=n),
            offer_codes=[offer.code],
            budget=schemas.BudgetLimits(issue_limit=issue_limit),
            store_budgets=(store_budgets or []) if n == 0 else [],
        )
        for n in range(stages)
    ]
    campaign = campaigns.create_campaign(
        session,
        owner,
        schemas.CampaignIn(name="Double 11", stages=planned, holdout_percent=holdout_percent),
    )
    campaigns.change_state(session, owner, campaign.id, schemas.CampaignChange.APPROVED)
    return Plan(owner, campaign, offer)


def members(count: int) -> list[uuid.UUID]:
    """Member ids in id order (a budget grants the first ones by id)."""
    return sorted(uuid.uuid4() for _ in range(count))
