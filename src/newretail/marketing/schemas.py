"""Pydantic shapes of the marketing API: offers, campaigns with stages and budgets, coupons.
Unknown fields are refused in every body; times are ISO 8601 with offsets, days are the
organisation's local days."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from newretail.marketing.offer_specs import ChannelsSpec, Money, OfferSpec
from newretail.tenancy.schemas import Strict

Name = Annotated[str, Field(min_length=1, max_length=200)]
Limit = Annotated[int, Field(ge=0, le=100_000_000)]
MAX_STAGES = 12
MAX_STAGE_DAYS = 366


class StageKind(StrEnum):
    PRE_SALE = "pre_sale"
    MAIN_DAY = "main_day"
    OFFLINE_EXTENSION = "offline_extension"
    OTHER = "other"


class BudgetLimits(Strict):
    """Limits of a budget (none: unlimited): coupons issued, coupons redeemed, money off."""

    issue_limit: Limit | None = None
    redeem_limit: Limit | None = None
    amount_limit: Money | None = None


class StoreBudgetIn(BudgetLimits):
    store_id: uuid.UUID


class StageIn(Strict):
    name: Name
    kind: StageKind = StageKind.OTHER
    first_day: dt.date
    last_day: dt.date
    channels: ChannelsSpec = ChannelsSpec()
    audience_ids: list[uuid.UUID] = Field(default_factory=list, max_length=20)
    offer_codes: list[str] = Field(default_factory=list, max_length=20)
    budget: BudgetLimits = BudgetLimits()
    store_budgets: list[StoreBudgetIn] = Field(default_factory=list, max_length=1000)

    @model_validator(mode="after")
    def _days(self) -> StageIn:
        if self.last_day < self.first_day:
            raise ValueError("last_day: comes before first_day")
        if (self.last_day - self.first_day).days >= MAX_STAGE_DAYS:
            raise ValueError(f"last_day: a stage lasts at most {MAX_STAGE_DAYS} days")
        if len({b.store_id for b in self.store_budgets}) != len(self.store_budgets):
            raise ValueError("store_budgets: one budget per store")
        return self


class CampaignIn(Strict):
    """A campaign plan: its stages in order, each with its days, audiences, offers, channels
    and budget. Only a draft can be changed."""

    name: Name
    brand_id: uuid.UUID | None = None
    description: Annotated[str, Field(max_length=2000)] = ""
    holdout_percent: Annotated[int, Field(ge=0, le=50)] = 0
    stages: Annotated[list[StageIn], Field(min_length=1, max_length=MAX_STAGES)]

    @model_validator(mode="after")
    def _stages_in_order(self) -> CampaignIn:
        names = [s.name for s in self.stages]
        if len(set(names)) != len(names):
            raise ValueError("stages: two stages have the same name")
        for before, after in zip(self.stages, self.stages[1:], strict=False):
            if after.first_day <= before.last_day:
                raise ValueError(
                    f"stages: '{after.name}' starts before '{before.name}' ends"
                    " (stages follow each other)"
                )
        return self


class BudgetRead(BaseModel):
    store_id: uuid.UUID | None
    store_name: str | None
    issue_limit: int | None
    redeem_limit: int | None
    amount_limit: Decimal | None
    issued: int
    redeemed: int
    discounted: Decimal


class StageRead(BaseModel):
    id: uuid.UUID
    position: int
    name: str
    kind: str
    first_day: dt.date
    last_day: dt.date
    channels: dict[str, Any]
    audience_ids: list[uuid.UUID]
    offer_codes: list[str]
    budgets: list[BudgetRead]


class CampaignRead(BaseModel):
    id: uuid.UUID
    name: str
    brand_id: uuid.UUID | None
    description: str
    holdout_percent: int
    state: str = Field(description="draft, scheduled, running, paused or ended, as of now")
    time_zone: str
    approved_by: str | None
    approved_at: dt.datetime | None
    created_at: dt.datetime
    stages: list[StageRead]


class CampaignChange(StrEnum):
    CREATED = "created"
    REPLANNED = "replanned"
    APPROVED = "approved"
    WITHDRAWN = "withdrawn"  # back to draft before it started
    PAUSED = "paused"
    RESUMED = "resumed"
    ENDED = "ended"


class StateChange(Strict):
    """Move a campaign: `approved` (an administrator), `withdrawn` (back to draft before it
    starts), `paused`, `resumed` or `ended`."""

    change: Literal["approved", "withdrawn", "paused", "resumed", "ended"]


class AuditRead(BaseModel):
    change: str
    actor: str
    at: dt.datetime
    detail: dict[str, Any]


class OfferRead(BaseModel):
    id: uuid.UUID
    code: str
    name: str
    spec: OfferSpec
    created_at: dt.datetime
    updated_at: dt.datetime | None


class IssueRequest(Strict):
    """Issue one coupon of an offer of the stage to each member (again: nothing more)."""

    offer_code: Annotated[str, Field(min_length=1, max_length=64)]
    member_ids: Annotated[list[uuid.UUID], Field(min_length=1, max_length=10_000)]
    store_id: uuid.UUID | None = Field(None, description="Where they were issued (store budget)")


class IssueReport(BaseModel):
    """Coupons issued, members who held theirs already, members refused: beyond the stage's
    budget (`budget_spent`) or at the offer's per-member limit (`member_limit`)."""

    issued: int
    already_held: int
    no_consent: int = Field(
        0, description="Members without marketing consent now: left out, never sent one"
    )
    held_out: int = Field(0, description="Members in the campaign's holdout: never sent one")
    refused_budget: int
    refused_member_limit: int = 0
    refused: dict[str, int] = Field(default_factory=dict, description="Refused members by code")


class CouponRead(BaseModel):
    id: uuid.UUID
    offer_code: str | None
    offer_name: str | None
    campaign_name: str | None
    stage_name: str | None
    member_id: uuid.UUID | None
    state: str
    valid_from: dt.datetime
    valid_until: dt.datetime
    order_ref: str | None
    discount: Decimal | None
    redeemed_at: dt.datetime | None


class CouponChangeRead(BaseModel):
    """One line of a coupon's ledger: issued, reserved, redeemed, returned, voided…"""

    model_config = ConfigDict(from_attributes=True)

    coupon_id: uuid.UUID
    change: str
    order_ref: str | None
    store_id: uuid.UUID | None
    discount: Decimal | None
    actor: str
    reason: str | None
    created_at: dt.datetime


ClaimCodeText = Annotated[str, Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_ -]+$")]


class ClaimCodeIn(Strict):
    """A public code (DOUBLE11) for an offer of the stage, claimed at most `claim_limit`
    times in all (none: no limit); typed in any case, with or without dashes and spaces."""

    code: ClaimCodeText
    offer_code: Annotated[str, Field(min_length=1, max_length=64)]
    claim_limit: Limit | None = None


class ClaimCodeRead(BaseModel):
    code: str
    campaign_name: str
    stage_name: str | None
    offer_code: str | None
    claim_limit: int | None
    claimed: int
    created_at: dt.datetime


class ClaimIn(Strict):
    """A member claims a public code (at a store, where given)."""

    code: ClaimCodeText
    member_id: uuid.UUID
    store_id: uuid.UUID | None = None


class ClaimRead(BaseModel):
    new: bool = Field(description="True when this claim issued the coupon")
    coupon: CouponRead


class AudienceIssueRequest(Strict):
    """Issue one coupon of an offer of the stage to every stored member of an audience (none
    named: the stage's own audiences), in the background; again: nothing more."""

    offer_code: Annotated[str, Field(min_length=1, max_length=64)]
    audience_id: uuid.UUID | None = None
    store_id: uuid.UUID | None = Field(None, description="Where they were issued (store budget)")


class BulkIssueRead(BaseModel):
    """A bulk issue's progress: members done of the total, coupons issued, members who held
    theirs already, members refused (by code)."""

    id: str
    campaign: str
    stage: str
    offer_code: str
    audience_ids: list[uuid.UUID]
    total: int
    done: int
    status: str = Field(description="running, done or failed")
    error: str | None
    issued: int
    already_held: int
    no_consent: int = Field(
        0, description="Members without marketing consent now: left out, never sent one"
    )
    held_out: int = Field(0, description="Members in the campaign's holdout: never sent one")
    refused_budget: int
    refused_member_limit: int
    refused: dict[str, int]
    started_at: dt.datetime
    finished_at: dt.datetime | None
