"""An offer template in the API's shape (JSON, as stored in `offer.spec`) and its conversion
to the engine's `OfferTemplate`, which checks it (`InvalidOffer` names the field)."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from newretail.marketing import offers
from newretail.marketing.scope import ItemSelector, Scope
from newretail.tenancy.models import ChannelType

Money = Annotated[Decimal, Field(max_digits=18, decimal_places=2)]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AmountOffSpec(_Spec):
    kind: Literal["amount_off"]
    amount: Money
    per_unit: bool = False


class PercentOffSpec(_Spec):
    kind: Literal["percent_off"]
    percent: Annotated[Decimal, Field(max_digits=5, decimal_places=2)]
    cap: Money | None = None


class ThresholdSpec(_Spec):
    kind: Literal["threshold"]
    spend: Money
    save: Money
    repeat: bool = False
    max_repeats: int | None = None


class BuyXGetYSpec(_Spec):
    kind: Literal["buy_x_get_y"]
    buy: int
    get: int
    max_free_quantity: int | None = None
    percent_off: Annotated[Decimal, Field(max_digits=5, decimal_places=2)] = Decimal(100)


class FreeGiftSpec(_Spec):
    kind: Literal["free_gift"]
    sku_id: uuid.UUID
    quantity: int = 1


BenefitSpec = Annotated[
    AmountOffSpec | PercentOffSpec | ThresholdSpec | BuyXGetYSpec | FreeGiftSpec,
    Field(discriminator="kind"),
]


class SelectorSpec(_Spec):
    brand_ids: list[uuid.UUID] = []
    category_paths: list[str] = []
    product_ids: list[uuid.UUID] = []
    sku_ids: list[uuid.UUID] = []


class ScopeSpec(_Spec):
    include: SelectorSpec = SelectorSpec()
    exclude: SelectorSpec = SelectorSpec()


class ChannelsSpec(_Spec):
    reach: offers.ChannelReach = offers.ChannelReach.EVERYWHERE
    channel_types: list[ChannelType] = []
    store_ids: list[uuid.UUID] = []


class ValiditySpec(_Spec):
    first_day: date | None = None
    last_day: date | None = None
    # at most ten years (a larger count overflowed the date of the coupon's last day)
    days_after_issue: int | None = Field(default=None, le=3660)


class OfferSpec(_Spec):
    """What a marketer defines: the benefit, the items, the channels, the local days, and
    how it stacks (combination class and the codes of the offers it combines with)."""

    code: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    brand_id: uuid.UUID | None = None
    benefit: BenefitSpec
    combination_class: offers.CombinationClass
    combines_with: list[str] = []
    scope: ScopeSpec = ScopeSpec()
    channels: ChannelsSpec = ChannelsSpec()
    validity: ValiditySpec = ValiditySpec()
    minimum_spend: Money = Decimal(0)
    priority: int = 100
    per_member_limit: int | None = None
    refund_rule: offers.RefundRule = offers.RefundRule.RESTORE


def _selector(spec: SelectorSpec) -> ItemSelector:
    return ItemSelector(
        brand_ids=frozenset(spec.brand_ids),
        category_paths=frozenset(spec.category_paths),
        product_ids=frozenset(spec.product_ids),
        sku_ids=frozenset(spec.sku_ids),
    )


def _benefit(spec: BenefitSpec) -> offers.Benefit:
    values = spec.model_dump(exclude={"kind"})
    if isinstance(spec, AmountOffSpec):
        return offers.AmountOff(**values)
    if isinstance(spec, PercentOffSpec):
        return offers.PercentOff(**values)
    if isinstance(spec, ThresholdSpec):
        return offers.Threshold(**values)
    if isinstance(spec, BuyXGetYSpec):
        return offers.BuyXGetY(**values)
    return offers.FreeGift(**values)


def to_template(spec: OfferSpec) -> offers.OfferTemplate:
    """The engine's template (raises `InvalidOffer` naming the field at fault)."""
    return offers.OfferTemplate(
        code=spec.code,
        name=spec.name,
        benefit=_benefit(spec.benefit),
        combination_class=spec.combination_class,
        combines_with=frozenset(spec.combines_with),
        brand_id=spec.brand_id,
        scope=Scope(include=_selector(spec.scope.include), exclude=_selector(spec.scope.exclude)),
        channels=offers.Channels(
            reach=spec.channels.reach,
            channel_types=frozenset(spec.channels.channel_types),
            store_ids=frozenset(spec.channels.store_ids),
        ),
        validity=offers.Validity(**spec.validity.model_dump()),
        minimum_spend=spec.minimum_spend,
        priority=spec.priority,
        per_member_limit=spec.per_member_limit,
        refund_rule=spec.refund_rule,
    )
