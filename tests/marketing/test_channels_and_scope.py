"""Where an offer is valid (channels) and which items it covers (scope)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from decimal import Decimal

import pytest

from newretail.marketing.engine import price_basket
from newretail.marketing.errors import RefusalCode
from newretail.marketing.offers import (
    AmountOff,
    ChannelReach,
    Channels,
    CombinationClass,
    OfferTemplate,
)
from newretail.marketing.scope import ItemSelector, Scope, category_within
from newretail.marketing.worked_examples import (
    AT,
    CREAM,
    DOUBLE_11,
    LIPSTICK,
    LUMIERE,
    ONLINE,
    SERUM,
)
from newretail.tenancy.models import ChannelType

STORE, OTHER_STORE = uuid.uuid4(), uuid.uuid4()
OFFLINE_TYPES = [
    ChannelType.STORE,
    ChannelType.COUNTER,
    ChannelType.POPUP,
    ChannelType.CLOUD_SHELF,
    ChannelType.VENDING,
]


@pytest.mark.parametrize(
    ("channels", "admitted"),
    [
        (Channels(), set(ChannelType)),
        (Channels(ChannelReach.ONLINE), {ChannelType.ONLINE}),
        (Channels(ChannelReach.OFFLINE), set(OFFLINE_TYPES)),
        (
            Channels(ChannelReach.CHANNEL_TYPES, channel_types=frozenset({ChannelType.COUNTER})),
            {ChannelType.COUNTER},
        ),
    ],
)
def test_channels_admit_their_channel_types(channels: Channels, admitted: set[ChannelType]) -> None:
    assert {t for t in ChannelType if channels.admits(t, STORE)} == admitted


def test_listed_stores_admit_only_those_stores_whatever_their_type() -> None:
    channels = Channels(ChannelReach.STORES, store_ids=frozenset({STORE}))

    assert channels.admits(ChannelType.COUNTER, STORE)
    assert not channels.admits(ChannelType.COUNTER, OTHER_STORE)
    assert not channels.admits(ChannelType.ONLINE, None)


def test_an_offline_offer_applies_at_a_counter_and_not_online() -> None:
    offer = OfferTemplate(
        "COUNTER-10",
        AmountOff(Decimal(10)),
        CombinationClass.ORDER,
        channels=Channels(ChannelReach.OFFLINE),
    )
    counter = replace(ONLINE, channel_type=ChannelType.COUNTER, store_id=STORE)

    assert price_basket(DOUBLE_11, [offer], AT, counter).discount == Decimal("10.00")
    assert price_basket(DOUBLE_11, [offer], AT, ONLINE).refusal("COUNTER-10") == (
        RefusalCode.WRONG_CHANNEL
    )


@pytest.mark.parametrize(
    ("path", "ancestor", "within"),
    [
        ("Skincare/Serums", "Skincare", True),
        ("skincare / Serums", "SKINCARE", True),
        ("Skincare", "Skincare/Serums", False),
        ("Skincare-Men/Serums", "Skincare", False),
        ("Skincare", "", False),
    ],
)
def test_a_category_covers_itself_and_what_lies_beneath(
    path: str, ancestor: str, within: bool
) -> None:
    assert category_within(path, ancestor) is within


def test_a_scope_includes_then_excludes() -> None:
    lumiere_but_cream = Scope(
        include=ItemSelector(brand_ids=frozenset({LUMIERE})),
        exclude=ItemSelector(sku_ids=frozenset({CREAM.sku_id})),
    )
    skincare_but_serums = Scope(
        include=ItemSelector(category_paths=frozenset({"Skincare"})),
        exclude=ItemSelector(category_paths=frozenset({"Skincare/Serums"})),
    )
    all_but_lipstick = Scope(exclude=ItemSelector(product_ids=frozenset({LIPSTICK.product_id})))

    assert [lumiere_but_cream.covers(x) for x in (SERUM, CREAM, LIPSTICK)] == [True, False, False]
    assert [skincare_but_serums.covers(x) for x in (SERUM, CREAM, LIPSTICK)] == [
        False,
        True,
        False,
    ]
    assert [all_but_lipstick.covers(x) for x in (SERUM, CREAM, LIPSTICK)] == [True, True, False]


def test_an_amount_off_every_unit_stops_at_the_line_amount() -> None:
    offer = OfferTemplate(
        "LIPS-50-EACH",
        AmountOff(Decimal(50), per_unit=True),
        CombinationClass.PRODUCT,
        scope=Scope(include=ItemSelector(category_paths=frozenset({"Makeup"}))),
    )

    result = price_basket(DOUBLE_11, [offer], AT, ONLINE)

    assert [line.charged for line in result.lines] == [
        Decimal("300.00"),
        Decimal("100.00"),
        Decimal("0.00"),
    ]


def test_a_minimum_spend_counts_only_the_items_in_scope() -> None:
    # Skincare costs 400.00 of the basket's 520.00
    offer = OfferTemplate(
        "SKIN-450",
        AmountOff(Decimal(10)),
        CombinationClass.PRODUCT,
        scope=Scope(include=ItemSelector(category_paths=frozenset({"Skincare"}))),
        minimum_spend=Decimal(450),
    )

    assert price_basket(DOUBLE_11, [offer], AT, ONLINE).refusal("SKIN-450") == (
        RefusalCode.BELOW_MINIMUM_SPEND
    )
    lower = replace(offer, minimum_spend=Decimal(400))
    assert price_basket(DOUBLE_11, [lower], AT, ONLINE).discount == Decimal("10.00")
