"""Pydantic shapes of the members API. Unknown fields are refused everywhere."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from newretail.members.models import (
    ConsentChannel,
    ConsentPurpose,
    ConsentSource,
    ExpiryMode,
    Gender,
    MemberStatus,
)
from newretail.tenancy.models import ChannelType
from newretail.tenancy.schemas import NotNull, Read, Strict

Name = Annotated[str, Field(min_length=1, max_length=200)]
BirthYear = Annotated[int, Field(ge=1900, le=2100)]
Multiplier = Annotated[Decimal, Field(ge=0, le=100)]


# ---------------------------------------------------------------- members
class _MemberFields(Strict):
    name: Name | None = None
    gender: Gender | None = None
    birth_year: BirthYear | None = None
    city: str | None = Field(default=None, max_length=100)
    email: str | None = Field(default=None, max_length=254)
    member_card: str | None = Field(default=None, max_length=100)
    account_id: str | None = Field(default=None, max_length=100)


class MemberCreate(_MemberFields):
    phone: str | None = Field(default=None, max_length=32, description="Any format; +86 default")
    join_store_id: uuid.UUID | None = None
    join_channel: ChannelType | None = None
    join_brand_id: uuid.UUID | None = None
    joined_at: datetime | None = None


class MemberUpdate(_MemberFields):
    phone: str | None = Field(default=None, max_length=32)
    status: Annotated[MemberStatus | None, NotNull] = None


class MemberRead(Read):
    id: uuid.UUID
    name: str | None
    gender: str | None
    birth_year: int | None
    city: str | None
    phone: str | None
    email: str | None
    status: str
    joined_at: datetime
    join_store_id: uuid.UUID | None
    join_channel: str | None
    join_brand_id: uuid.UUID | None
    tier_id: uuid.UUID | None
    tier_review_at: datetime | None
    points_available: int
    points_locked: int
    created_at: datetime
    updated_at: datetime | None


# ---------------------------------------------------------------- consent
class ConsentItem(Strict):
    purpose: ConsentPurpose = ConsentPurpose.MARKETING
    channel: ConsentChannel
    granted: bool


class ConsentUpdate(Strict):
    consents: list[ConsentItem] = Field(min_length=1, max_length=20)
    source: Literal[ConsentSource.API, ConsentSource.POS] = ConsentSource.API


class ConsentState(Read):
    purpose: str
    channel: str
    granted: bool
    source: str
    updated_at: datetime


class ConsentChangeRead(Read):
    purpose: str
    channel: str
    granted: bool
    source: str
    actor: str
    changed_at: datetime


class ConsentRead(BaseModel):
    consents: list[ConsentState]
    history: list[ConsentChangeRead]


# ---------------------------------------------------------------- points
class PointsBalance(BaseModel):
    member_id: uuid.UUID
    available: int
    locked: int
    next_expiry_at: datetime | None
    next_expiry_points: int


class LedgerChange(Read):
    """A change of a member's points: a written ledger entry or a pending one."""

    id: uuid.UUID
    kind: str
    available_delta: int
    locked_delta: int
    occurred_at: datetime
    order_id: uuid.UUID | None
    refund_id: uuid.UUID | None
    reason: str | None
    actor: str
    created_at: datetime
    pending: bool = Field(
        default=False, description="An unlock or expiry that came due, not yet written"
    )


class LedgerEntryRead(LedgerChange):
    """A ledger row with the member's balances after it."""

    available_after: int
    locked_after: int


# the most points one adjustment or redemption moves (a larger number overflowed the
# store's integer column with a 500)
MAX_POINTS_CHANGE = 1_000_000_000


class PointsAdjust(Strict):
    points: int = Field(
        ge=-MAX_POINTS_CHANGE,
        le=MAX_POINTS_CHANGE,
        description="Positive adds available points; negative removes them (at most 1e9)",
    )
    reason: str = Field(min_length=1, max_length=300)


class PointsRedeem(Strict):
    points: int = Field(gt=0, le=MAX_POINTS_CHANGE)
    reference: str | None = Field(
        default=None, max_length=80, description="Redeems once per reference (e.g. an order id)"
    )
    reason: str | None = Field(default=None, max_length=300)


class OrderLine(Strict):
    """A paid order line as the points rules see it."""

    line_id: str = Field(min_length=1, max_length=80)
    product_id: str | None = Field(default=None, max_length=80)
    category: str | None = Field(default=None, max_length=100)
    amount: Decimal = Field(ge=0)


class RefundedLine(Strict):
    line_id: str = Field(min_length=1, max_length=80)
    amount: Decimal = Field(ge=0, description="Refunded amount of this line")


# ---------------------------------------------------------------- rules, tiers, settings
class EarnRuleCreate(Strict):
    brand_id: uuid.UUID
    points_per_unit: Decimal = Field(ge=0, le=1000)
    product_multipliers: dict[str, Multiplier] = Field(default_factory=dict)
    category_multipliers: dict[str, Multiplier] = Field(default_factory=dict)
    active: bool = True


class EarnRuleUpdate(Strict):
    points_per_unit: Annotated[Decimal | None, NotNull] = Field(default=None, ge=0, le=1000)
    product_multipliers: Annotated[dict[str, Multiplier] | None, NotNull] = None
    category_multipliers: Annotated[dict[str, Multiplier] | None, NotNull] = None
    active: Annotated[bool | None, NotNull] = None


class EarnRuleRead(Read):
    id: uuid.UUID
    brand_id: uuid.UUID
    points_per_unit: Decimal
    product_multipliers: dict[str, Decimal]
    category_multipliers: dict[str, Decimal]
    active: bool
    created_at: datetime
    updated_at: datetime | None


class TierCreate(Strict):
    name: Name
    min_spend: Decimal = Field(ge=0, max_digits=18, decimal_places=2)


class TierUpdate(Strict):
    name: Annotated[Name | None, NotNull] = None
    min_spend: Annotated[Decimal | None, NotNull] = Field(
        default=None, ge=0, max_digits=18, decimal_places=2
    )


class TierRead(Read):
    id: uuid.UUID
    name: str
    min_spend: Decimal
    created_at: datetime
    updated_at: datetime | None


class SettingsUpdate(Strict):
    return_window_days: Annotated[int | None, NotNull] = Field(default=None, ge=0, le=365)
    expiry_mode: Annotated[ExpiryMode | None, NotNull] = None
    expiry_days: Annotated[int | None, NotNull] = Field(default=None, ge=1, le=3650)


class SettingsRead(Read):
    return_window_days: int
    expiry_mode: str
    expiry_days: int
