"""Properties of the offer engine over generated baskets and offers: the discount never
exceeds the basket, no line goes below zero, each offer's line discounts sum to its
discount, and the order the offers are given in does not matter."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from random import Random

from hypothesis import given, settings
from hypothesis import strategies as st

from newretail.core.localtime import zone
from newretail.marketing.allocation import allocate
from newretail.marketing.basket import Basket, BasketLine, PricedBasket, SaleContext
from newretail.marketing.engine import price_basket
from newretail.marketing.errors import RefusalCode
from newretail.marketing.offers import (
    ALLOWED_CLASSES,
    AmountOff,
    Benefit,
    BuyXGetY,
    ChannelReach,
    Channels,
    CombinationClass,
    FreeGift,
    OfferTemplate,
    PercentOff,
    Threshold,
    Validity,
)
from newretail.marketing.scope import ItemSelector, Scope
from newretail.tenancy.models import ChannelType

BRANDS = [uuid.UUID(int=n) for n in range(1, 4)]
CATEGORIES = ["Skincare/Serums", "Skincare/Creams", "Makeup/Lips", "Fragrance"]
CODES = [f"OFFER-{n}" for n in range(8)]
FIRST_DAY = date(2026, 11, 1)
SHANGHAI = zone("Asia/Shanghai")
CHANNELS = [Channels(), Channels(), Channels(ChannelReach.ONLINE), Channels(ChannelReach.OFFLINE)]

cents = st.integers(min_value=0, max_value=50_000).map(lambda n: Decimal(n) / 100)
positive_cents = st.integers(min_value=1, max_value=50_000).map(lambda n: Decimal(n) / 100)


@st.composite
def basket_lines(draw: st.DrawFn) -> BasketLine:
    product = uuid.UUID(int=draw(st.integers(100, 106)))
    return BasketLine(
        sku_id=uuid.UUID(int=product.int + 1000),
        product_id=product,
        brand_id=draw(st.sampled_from(BRANDS)),
        quantity=draw(st.integers(1, 9)),
        unit_price=draw(cents),
        category_path=draw(st.sampled_from(CATEGORIES)),
    )


baskets = st.builds(
    Basket, lines=st.lists(basket_lines(), min_size=1, max_size=6).map(tuple), shipping_fee=cents
)

benefits: st.SearchStrategy[Benefit] = st.one_of(
    st.builds(AmountOff, amount=positive_cents, per_unit=st.booleans()),
    st.builds(
        PercentOff,
        percent=st.integers(1, 100).map(Decimal),
        cap=st.none() | positive_cents,
    ),
    st.builds(
        Threshold,
        spend=positive_cents,
        save=positive_cents,
        repeat=st.booleans(),
        max_repeats=st.none() | st.integers(1, 5),
    ),
    st.builds(
        BuyXGetY,
        buy=st.integers(1, 4),
        get=st.integers(1, 3),
        max_free_quantity=st.none() | st.integers(1, 6),
    ),
    st.builds(FreeGift, sku_id=st.just(uuid.UUID(int=9)), quantity=st.integers(1, 3)),
)

scopes = st.builds(
    Scope,
    include=st.builds(
        ItemSelector,
        brand_ids=st.frozensets(st.sampled_from(BRANDS), max_size=2),
        category_paths=st.frozensets(st.sampled_from(["Skincare", "Makeup/Lips"]), max_size=1),
    ),
    exclude=st.builds(
        ItemSelector, category_paths=st.frozensets(st.sampled_from(CATEGORIES), max_size=1)
    ),
)


@st.composite
def offer_templates(draw: st.DrawFn, code: str) -> OfferTemplate:
    benefit = draw(benefits)
    classes = sorted(ALLOWED_CLASSES[type(benefit)])
    if isinstance(benefit, AmountOff) and benefit.per_unit:
        classes = [CombinationClass.PRODUCT]
    first = draw(st.integers(0, 20))
    fixed_days = Validity(
        first_day=FIRST_DAY + timedelta(days=first),
        last_day=FIRST_DAY + timedelta(days=first + draw(st.integers(0, 10))),
    )
    return OfferTemplate(
        code=code,
        benefit=benefit,
        combination_class=draw(st.sampled_from(classes)),
        # (mostly combinable, everywhere and always valid, so several offers meet)
        combines_with=draw(st.just(frozenset(CODES)) | st.frozensets(st.sampled_from(CODES))),
        scope=draw(scopes),
        channels=draw(st.sampled_from(CHANNELS)),
        validity=draw(st.sampled_from([Validity(), Validity(), Validity(), fixed_days])),
        minimum_spend=draw(st.sampled_from([Decimal(0), Decimal(0), Decimal(100), Decimal(500)])),
        priority=draw(st.sampled_from([50, 100])),
    )


@st.composite
def offer_lists(draw: st.DrawFn) -> list[OfferTemplate]:
    codes = draw(st.lists(st.sampled_from(CODES), unique=True, max_size=len(CODES)))
    offers = [draw(offer_templates(code)) for code in codes]
    # (a till may send one coupon twice)
    repeated = draw(st.lists(st.sampled_from(offers), max_size=2)) if offers else []
    return offers + repeated


moments = st.integers(0, 30 * 24).map(
    lambda hours: datetime(2026, 11, 1, tzinfo=SHANGHAI) + timedelta(hours=hours)
)
contexts = st.builds(
    SaleContext,
    zone_name=st.just("Asia/Shanghai"),
    channel_type=st.sampled_from([ChannelType.ONLINE, ChannelType.STORE, ChannelType.VENDING]),
)


def check_invariants(basket: Basket, result: PricedBasket) -> None:
    assert Decimal(0) <= result.discount <= result.subtotal + basket.shipping_fee
    assert Decimal(0) <= result.shipping_discount <= basket.shipping_fee
    for priced in result.lines:
        assert priced.charged >= 0
        assert all(
            d.amount > 0 and d.amount == d.amount.quantize(Decimal("0.01"))
            for d in priced.discounts
        )
    shipping_codes = {a.code for a in result.applied if a.combination_class == "shipping"}
    for applied in result.applied:
        on_lines = sum(
            (d.amount for p in result.lines for d in p.discounts if d.offer_code == applied.code),
            Decimal(0),
        )
        if applied.code in shipping_codes:
            assert on_lines == 0
        else:
            assert on_lines == applied.discount
    assert sum((a.discount for a in result.applied), Decimal(0)) == result.discount
    applied_codes = [a.code for a in result.applied]
    assert len(applied_codes) == len(set(applied_codes))


@settings(max_examples=200, deadline=None)
@given(baskets, offer_lists(), moments, contexts, st.randoms(use_true_random=False))
def test_discounts_stay_within_the_basket_and_do_not_depend_on_the_offer_order(
    basket: Basket,
    offers: list[OfferTemplate],
    at: datetime,
    context: SaleContext,
    random: Random,
) -> None:
    result = price_basket(basket, offers, at, context)

    check_invariants(basket, result)
    shuffled = list(offers)
    random.shuffle(shuffled)
    assert price_basket(basket, shuffled, at, context) == result
    assert price_basket(basket, reversed(offers), at, context) == result


@settings(max_examples=200, deadline=None)
@given(baskets, offer_lists(), moments, contexts)
def test_every_offer_is_either_applied_or_refused_once(
    basket: Basket, offers: list[OfferTemplate], at: datetime, context: SaleContext
) -> None:
    result = price_basket(basket, offers, at, context)

    assert sorted([a.code for a in result.applied] + [r.code for r in result.refused]) == sorted(
        offer.code for offer in offers
    )
    duplicates = len(offers) - len({offer.code for offer in offers})
    assert [r.reason for r in result.refused].count(RefusalCode.DUPLICATE) == duplicates


@given(
    st.lists(st.integers(0, 1_000_000), min_size=1, max_size=8),
    st.floats(min_value=0, max_value=1),
)
def test_allocation_sums_exactly_and_never_exceeds_a_weight(
    weight_cents: list[int], fraction: float
) -> None:
    weights = [Decimal(w) / 100 for w in weight_cents]
    total = Decimal(int(sum(weight_cents) * fraction)) / 100

    shares = allocate(total, weights)

    assert sum(shares, Decimal(0)) == (total if sum(weight_cents) else 0)
    assert all(Decimal(0) <= share <= weight for share, weight in zip(shares, weights, strict=True))
