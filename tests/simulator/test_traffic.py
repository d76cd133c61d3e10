"""The traffic model: deterministic, anonymous first, identified later, inside the period and
the opening hours, purchases only where they are possible."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from newretail.simulator.traffic import Plan, plan_traffic
from tests.simulator.world import SKUS, STORES, small_world

END = datetime(2026, 11, 20, 6, 30, tzinfo=UTC)  # 14:30 in Shanghai
PHONES = tuple(f"+8613800{i:06d}" for i in range(30))
KNOWN = ("phone", "account_id", "member_card", "email")
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def plan() -> Plan:
    return plan_traffic(small_world(PHONES), 14, 40, 2026, END)


def test_exact_traffic_for_a_seed(plan: Plan) -> None:
    assert (plan.shoppers, plan.sessions, plan.identified) == (353, 583, 109)
    assert plan.by_type() == {
        "add_to_cart": 73,
        "category_search": 68,
        "counter_approach": 130,
        "coupon_claim": 36,
        "district_enter": 151,
        "favorite": 59,
        "follow": 11,
        "identify": 116,
        "product_view": 566,
        "review": 8,
        "screen_exposure": 122,
        "share": 1,
        "shelf_browse": 91,
        "store_visit": 205,
        "trial_claim": 48,
    }
    assert len(plan.events) == 1685
    assert Counter(s.kind for s in plan.sales) == {"pos": 94, "checkout": 26}
    again = plan_traffic(small_world(PHONES), 14, 40, 2026, END)
    assert again.events == plan.events and again.sales == plan.sales
    other = plan_traffic(small_world(PHONES), 14, 40, 2027, END)
    assert other.events[0]["message_id"].startswith("sim-2027-20261120063000-")
    assert {e["message_id"] for e in other.events}.isdisjoint(e["message_id"] for e in plan.events)
    # another end: other ids, so a later run is never taken for a resend of this one
    later = plan_traffic(small_world(PHONES), 14, 40, 2026, END + timedelta(seconds=1))
    assert {e["message_id"] for e in later.events}.isdisjoint(e["message_id"] for e in plan.events)
    assert {s.external_order_id for s in later.sales}.isdisjoint(
        s.external_order_id for s in plan.sales
    )


def test_events_fall_in_the_period_and_the_opening_hours(plan: Plan) -> None:
    stores = {s.id: s for s in STORES}
    times = [datetime.fromisoformat(e["ts"]) for e in plan.events]
    assert times == sorted(times)
    assert min(times) >= END - timedelta(days=14)
    assert max(times) <= END - timedelta(minutes=2)
    ids = [e["message_id"] for e in plan.events]
    assert len(set(ids)) == len(ids) and all(len(i) <= 100 for i in ids)
    for event, at in zip(plan.events, times, strict=True):
        store = stores[event["store_id"]]
        assert event["channel"] == store.channel_type
        assert at.utcoffset() == timedelta(hours=8)  # sent with the store's local offset
        if store.channel_type in ("store", "counter", "popup", "cloud_shelf"):
            assert 10 <= at.astimezone(SHANGHAI).hour < 22, event
        if store.brand_id:
            assert event["brand_id"] == store.brand_id
    for sale in plan.sales:
        if sale.kind == "pos":
            assert sale.at is not None and END - timedelta(days=14) <= sale.at <= END
            if stores[sale.store_id].channel_type != "vending":
                assert 10 <= sale.at.astimezone(SHANGHAI).hour < 22


def test_shoppers_start_anonymous_and_are_identified_in_one_event(plan: Plan) -> None:
    identified: dict[str, dict[str, str]] = {}
    for event in plan.events:
        shopper = event["message_id"].rsplit("-", 1)[0]
        ids = event["identifiers"]
        if event["type"] == "identify":
            assert len(ids) >= 2 and event["properties"]["method"] in (
                "member_code",
                "login",
            )
            assert ids.keys() & {"device_id", "anonymous_id"}
            assert ids.keys() & {"phone", "account_id"}
            identified.setdefault(shopper, {}).update(ids)
        elif event["type"] not in ("review", "share"):
            known = {k: v for k, v in ids.items() if k in KNOWN}
            # before identification nothing but device and cookie ids
            assert not known or shopper in identified, event
            assert all(identified[shopper].get(k) == v for k, v in known.items())
    phones = {ids["phone"] for ids in identified.values() if "phone" in ids}
    assert len(phones & set(PHONES)) == 5  # existing members identified at a till
    assert len(identified) == plan.identified


def test_purchases_only_where_possible(plan: Plan) -> None:
    stores = {s.id: s for s in STORES}
    skus = {s.id: s for s in SKUS}
    carts: dict[int, set[str]] = {}
    for event in plan.events:
        if event["type"] == "add_to_cart":
            number = int(event["message_id"].split("-")[3])
            carts.setdefault(number, set()).add(event["properties"]["sku"])
    members = {e["identifiers"].get("phone") for e in plan.events if e["type"] == "identify"}
    for sale in plan.sales:
        store = stores[sale.store_id]
        assert all(skus[sku].sold_at(store) for sku, _ in sale.lines)
        assert 1 <= len(sale.lines) <= 2 and all(q in (1, 2) for _, q in sale.lines)
        assert sale.external_order_id.startswith(f"sim-2026-20261120063000-{store.code}-")
        if sale.kind == "pos":
            assert store.channel_type in ("store", "counter", "popup", "vending")
            assert all(
                (sale.store_id, sku) != ("store-sh-shop", "sku-SERUM-4") for sku, _ in sale.lines
            )
            if sale.member and sale.member[0] == "phone":
                assert sale.member[1] in members
        else:
            # checkouts pay for a cart (the orders API places them at the time of the call)
            assert store.channel_type in ("online", "cloud_shelf")
            assert skus[sale.lines[0][0]].code in carts[sale.shopper]
            assert sale.account_id and sale.fulfilment in ("ship", "pickup_in_store")
    assert [s.kind for s in plan.sales] == sorted(
        (s.kind for s in plan.sales), key=lambda k: k == "checkout"
    )


def test_a_world_without_shops_is_online_only() -> None:
    online_only = small_world().__class__(STORES[:1], SKUS)
    plan = plan_traffic(online_only, 2, 10, 1, END)
    assert {e["channel"] for e in plan.events} == {"online"}
    assert {s.kind for s in plan.sales} <= {"checkout"}
    assert plan_traffic(online_only, 1, 0, 1, END).events == []
    with pytest.raises(ValueError, match="days"):
        plan_traffic(online_only, 366, 10, 1, END)


def test_one_day_before_the_shops_open_is_still_a_day_of_traffic() -> None:
    # 09:58 in Shanghai: the 24 hours before take yesterday's opening hours
    morning = datetime(2026, 11, 20, 1, 58, tzinfo=UTC)
    plan = plan_traffic(small_world(), 1, 40, 7, morning)
    times = [datetime.fromisoformat(e["ts"]) for e in plan.events]
    assert (plan.sessions, len(plan.events)) == (44, 112)
    assert min(times) >= morning - timedelta(days=1) and max(times) <= morning
