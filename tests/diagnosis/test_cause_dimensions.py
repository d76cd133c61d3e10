"""The traffic source and the campaign of a store's orders, and the channel type of the
organisation's stores, as dimensions of the cause search (docs/diagnosis.md, "Why it moved"),
on hand-built ledgers: exact cents, names not ids, en and zh-CN; DuckDB and PostgreSQL read
the same figures."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from fastapi.testclient import TestClient

from newretail.bootstrap import Container
from newretail.core.database import session_scope
from newretail.core.i18n import translator
from newretail.diagnosis import cause_reads, cause_schemas, causes, org_causes
from newretail.diagnosis.adtributor import Dimension, js_surprise
from newretail.diagnosis.decomposition import Factor, PeriodTotals
from newretail.diagnosis.service import Period
from newretail.tenancy import schemas as tenancy_schemas
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.models import ChannelType
from tests.conftest import Org
from tests.diagnosis.test_causes import BASE, CAUSE_PARAMS, NOV3, NOV10, NOW
from tests.diagnosis.test_gmv_change import _owner
from tests.diagnosis.test_metrics import _event, _load
from tests.diagnosis.test_metrics import duck as duck
from tests.diagnosis.test_metrics import pg_warehouse as pg_warehouse
from tests.diagnosis.test_metrics import warehouse as warehouse

NOV2, NOV5 = "2026-11-02T04:00", "2026-11-05T04:00"
NOV9, NOV11 = "2026-11-09T04:00", "2026-11-11T04:00"
OCT1 = "2026-10-01T04:00"  # more than 30 days before the base period's purchases
CAMPAIGN = str(uuid.UUID(int=7))
CAMPAIGN_NAME = "Double 11 warm-up"


def ledger(org: str, shop: str) -> list[dict[str, Any]]:
    """1,000 entries in each period, every order ¥100.00. Base: 20 members who came from a
    WeChat link (Segment's context.campaign.source), 15 of them with a coupon of the campaign;
    10 members whose last interest was a product view online; 3 after an ad click; 20
    unidentified walk-ins. Comparison: 5 of the WeChat members (the purchase names the source
    itself, over a later online view), the 10, the 3, the 20 walk-ins, no coupon."""
    events: list[dict[str, Any]] = []

    def buy(at: str, member: str | None, **properties: Any) -> str:
        order = f"o-{uuid.uuid4()}"
        events.append(
            _event(
                org,
                "purchase",
                at,
                shop,
                member=member,
                amount="100.00",
                order_id=order,
                **properties,
            )
        )
        return order

    def touch(kind: str, at: str, member: str, **properties: Any) -> None:
        events.append(_event(org, kind, at, None, member=member, channel="online", **properties))

    wechat = {"context": {"campaign": {"source": "WeChat", "medium": "social"}}}
    for at, first, second in ((NOV3, NOV2, OCT1), (NOV10, NOV9, NOV5)):
        events.append(_event(org, "footfall", at, shop, count=1000))
        for n in range(21, 31):
            touch("page_view", second, f"m{n}", utm_source="baidu")  # older, or too old
            touch("product_view", first, f"m{n}", product_id="p1")
            buy(at, f"m{n}")
        for n in range(31, 34):
            touch("ad_click", first, f"m{n}", campaign="banner")
            buy(at, f"m{n}")
        for _ in range(20):
            buy(at, None)
    touch("ad_click", NOV11, "m21", campaign="banner")  # after the purchase: not its source
    for n in range(1, 21):
        touch("page_view", NOV2, f"m{n}", **wechat)
        order = buy(NOV3, f"m{n}")
        if n <= 15:
            events.append(
                _event(
                    org,
                    "coupon_redeemed",
                    NOV3,
                    shop,
                    member=f"m{n}",
                    amount="10.00",
                    coupon_id=f"c{n}",
                    campaign_id=CAMPAIGN,
                    campaign=CAMPAIGN_NAME,
                    order_ref=order,
                )
            )
    for n in range(1, 6):
        touch("product_view", NOV9, f"m{n}", product_id="p1")
        buy(NOV10, f"m{n}", utm_source="WeChat")
    return events


def _load_ledger(container: Container, org: Org) -> None:
    with container.warehouse.lock:
        _load(container.warehouse.connection(), ledger(str(org.id), str(org.store_ids[0])))


def test_the_campaign_and_the_traffic_source_explain_the_conversion(
    container: Container, org: Org
) -> None:
    _load_ledger(container, org)
    with session_scope(container.sessions, org.id) as session:
        found = causes.store_causes(session, _owner(org), container.warehouse, "S0", *NOW, *BASE)
    split = found.decomposition
    assert (split.base, split.comparison) == (
        PeriodTotals(1000, 53, Decimal("5300.00")),
        PeriodTotals(1000, 38, Decimal("3800.00")),
    )
    assert dict(split.parts) == {
        Factor.VISITORS: Decimal("0.00"),
        Factor.CONVERSION: Decimal("-1500.00"),
        Factor.ORDER_VALUE: Decimal("0.00"),
    }
    # the campaign's 15 orders (¥1,500.00 of ¥5,300.00) went to none: surprise ½ p log₂ 2
    campaign_surprise = js_surprise(Fraction(1500, 5300), Fraction(0))
    assert campaign_surprise == pytest.approx(0.5 * 1500 / 5300)
    # WeChat's share of GMV went from 2,000/5,300 to 500/3,800
    wechat_surprise = js_surprise(Fraction(2000, 5300), Fraction(500, 3800))
    assert campaign_surprise > wechat_surprise
    explained = found.explanations[Factor.CONVERSION]
    assert [(e.dimension, e.surprise) for e in explained] == [
        (Dimension.CAMPAIGN, campaign_surprise),
        (Dimension.TRAFFIC_SOURCE, wechat_surprise),
    ]
    (by_source,) = explained[1].candidates
    # 20 of 1,000 visitors bought ¥100.00 each, then 5: conversion −¥1,500.00, nothing else
    assert (by_source.value.key, by_source.value.label, by_source.amount) == (
        "utm:wechat",
        "wechat",
        Decimal("-1500.00"),
    )
    assert by_source.explanatory_power == 1
    # the causes: the most surprising dimension's values, the campaign by its name
    assert [(c.factor, c.dimension, c.key, c.label, c.amount) for c in found.causes] == [
        (Factor.CONVERSION, Dimension.CAMPAIGN, CAMPAIGN, CAMPAIGN_NAME, Decimal("-1500.00"))
    ]
    english = cause_schemas.store_causes_read(found, translator("en"))
    assert english.causes[0].text == (
        "conversion at Store 0, orders of campaign Double 11 warm-up: −¥1,500.00"
    )
    chinese = cause_schemas.store_causes_read(found, translator("zh-CN"))
    assert chinese.causes[0].text == "Store 0的转化率：活动「Double 11 warm-up」的订单：−¥1,500.00"


def test_every_order_has_one_traffic_source_and_campaign_on_both_warehouses(
    warehouse: Any,
) -> None:
    org, shop = str(uuid.uuid4()), str(uuid.uuid4())
    events = ledger(org, shop)
    # a refund of a comparison order takes its order's source; one of an order paid before
    # the period has none (the dimensions' remainder)
    order = next(
        json.loads(e["properties"])["order_id"]
        for e in events
        if e["type"] == "purchase" and "utm_source" in json.loads(e["properties"])
    )
    events.append(_event(org, "order_refunded", NOV11, shop, amount="100.00", order_id=order))
    events.append(_event(org, "order_refunded", NOV11, shop, amount="30.00", order_id="o-old"))
    _load(warehouse, events)
    zone = "Asia/Shanghai"
    base = cause_reads.read_period(warehouse, org, shop, zone, Period(*BASE))
    now = cause_reads.read_period(warehouse, org, shop, zone, Period(*NOW))
    assert base.by(1) == {
        "utm:wechat": (20, Decimal("2000.00")),
        "channel:online": (10, Decimal("1000.00")),
        "ad": (3, Decimal("300.00")),
        "direct": (20, Decimal("2000.00")),
    }
    mark = f"{CAMPAIGN}|{CAMPAIGN_NAME}"
    assert base.by(2) == {mark: (15, Decimal("1500.00")), "": (38, Decimal("3800.00"))}
    assert now.by(1) == {
        "utm:wechat": (5, Decimal("400.00")),
        "channel:online": (10, Decimal("1000.00")),
        "ad": (3, Decimal("300.00")),
        "direct": (20, Decimal("2000.00")),
        None: (0, Decimal("-30.00")),
    }
    assert now.by(2) == {"": (38, Decimal("3700.00")), None: (0, Decimal("-30.00"))}
    # hours: the purchases at noon, the refunds at noon of the 11th (local)
    assert now.hours == {12: (38, Decimal("3670.00"))}


def test_the_labels_of_traffic_sources_and_channel_types_are_translated() -> None:
    def label(dimension: Dimension, key: str, locale: str) -> str:
        return cause_schemas.value_label(dimension, key, key, translator(locale))

    assert [
        label(Dimension.TRAFFIC_SOURCE, key, "en")
        for key in ("utm:wechat", "channel:counter", "ad", "direct", "channel:pos")
    ] == [
        "utm:wechat",
        "Counter (last interest)",
        "an ad click",
        "direct (no earlier touch)",
        "pos (last interest)",
    ]
    assert [
        label(Dimension.TRAFFIC_SOURCE, key, "zh-CN") for key in ("channel:online", "ad", "direct")
    ] == ["线上（最近兴趣）", "广告点击", "直接访问（无先前触点）"]
    assert label(Dimension.CHANNEL, "popup", "zh-CN") == "快闪店"


def _two_shops_and_a_counter(container: Container, org: Org) -> uuid.UUID:
    with session_scope(container.sessions, org.id) as session:
        store = tenancy_service.create_store(
            session,
            _owner(org),
            tenancy_schemas.StoreCreate(
                code="S2",
                name="Store 2",
                channel_type=ChannelType.STORE,
                brand_id=org.brand_id,
                city="Shanghai",
            ),
        )
        return store.id


def test_the_organisation_is_searched_by_channel_type(
    client: TestClient, container: Container, org: Org
) -> None:
    """Two shops each lose 10 of 50 buyers of ¥100.00 (of 1,000 entries), the counter keeps
    its 50: the shops as a channel type explain the whole conversion part, each shop half."""
    second_shop = _two_shops_and_a_counter(container, org)
    shop, counter = (str(s) for s in org.store_ids)
    org_id = str(org.id)
    events = []
    for store, before, after in ((shop, 50, 40), (str(second_shop), 50, 40), (counter, 50, 50)):
        for at, count in ((NOV3, before), (NOV10, after)):
            events.append(_event(org_id, "footfall", at, store, count=1000))
            events += [
                _event(org_id, "purchase", at, store, amount="100.00", order_id=f"o-{uuid.uuid4()}")
                for _ in range(count)
            ]
    with container.warehouse.lock:
        _load(container.warehouse.connection(), events)
    with session_scope(container.sessions, org.id) as session:
        found = org_causes.organisation_causes(
            session, _owner(org), container.warehouse, *NOW, *BASE
        )
    assert dict(found.decomposition.parts) == {
        Factor.VISITORS: Decimal("0.00"),
        Factor.CONVERSION: Decimal("-2000.00"),
        Factor.ORDER_VALUE: Decimal("0.00"),
    }
    assert [(c.dimension, c.key, c.label, c.amount) for c in found.causes] == [
        (Dimension.CHANNEL, "store", "store", Decimal("-2000.00")),
        (Dimension.STORE, shop, "Store 0", Decimal("-1000.00")),
        (Dimension.STORE, str(second_shop), "Store 2", Decimal("-1000.00")),
    ]
    by_channel = found.causes[0]
    assert by_channel.explanatory_power == 1
    # the shops' share of GMV: 10,000/15,000 → 8,000/13,000
    assert by_channel.surprise == pytest.approx(
        js_surprise(Fraction(2, 3), Fraction(8, 13)), rel=1e-12
    )
    english = client.get("/api/v1/diagnosis/causes", params=CAUSE_PARAMS, headers=org.auth())
    assert [c["text"] for c in english.json()["causes"]] == [
        "conversion at Shop (channel type): −¥2,000.00",
        "conversion at Store 0: −¥1,000.00",
        "conversion at Store 2: −¥1,000.00",
    ]
    chinese = client.get(
        "/api/v1/diagnosis/causes",
        params=CAUSE_PARAMS,
        headers={**org.auth(), "Accept-Language": "zh-CN"},
    ).json()
    assert chinese["causes"][0]["text"] == "门店（渠道类型）的转化率：−¥2,000.00"
    assert chinese["causes"][0]["label"] == "门店"
