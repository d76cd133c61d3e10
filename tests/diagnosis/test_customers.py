"""Buyer metrics per group on a hand-built ledger, on DuckDB and PostgreSQL: new and returning
buyers, repeat buyers, members' share, buyers across channels, coupons and campaign GMV."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from newretail.diagnosis import customers
from newretail.diagnosis.customers import ALL, BuyerMetrics
from tests.diagnosis.test_metrics import _event, _load, duck, pg_warehouse  # noqa: F401

ZONE = "Asia/Shanghai"
FIRST, LAST = date(2026, 11, 10), date(2026, 11, 16)
SHOP, COUNTER, WEB = "shop", "counter", "web"


def ledger(
    org: str, shop: str = SHOP, counter: str = COUNTER, web: str = WEB
) -> list[dict[str, Any]]:
    """UTC times (Shanghai is UTC+8); the stores' ids as given."""

    def buy(store: str, at: str, who: dict[str, str], order: str, amount: str) -> dict[str, Any]:
        channel = "online" if store == web else "store"
        return _event(
            org, "purchase", at, store, amount=amount, order_id=order, channel=channel, **who
        )

    def seen(type_: str, store: str | None, at: str, **who: str) -> dict[str, Any]:
        channel = "online" if store in (web, None) else "store"
        return _event(org, type_, at, store, channel=channel, **who)

    m = {f"m{i}": {"member": f"m{i}"} for i in range(1, 6)}
    return [
        # m1 paid in the shop in June (returning), twice in the period (repeat), after an
        # online view (across)
        buy(shop, "2026-06-01T02:00", m["m1"], "o0", "10.00"),
        seen("product_view", web, "2026-11-09T02:00", member="m1"),
        buy(shop, "2026-11-10T02:00", m["m1"], "o1", "100.00"),
        buy(shop, "2026-11-12T02:00", m["m1"], "o2", "50.00"),
        # m2: first purchase, after a visit to the same shop (the same side: not across)
        seen("store_visit", shop, "2026-11-11T01:00", member="m2"),
        buy(shop, "2026-11-11T02:00", m["m2"], "o3", "80.00"),
        # a1 (anonymous) bought online after visiting the shop: across
        seen("store_visit", shop, "2026-11-10T03:00", anonymous="a1"),
        buy(web, "2026-11-11T03:00", {"anonymous": "a1"}, "o4", "40.00"),
        # a walk-in without a member or an anonymous id
        buy(shop, "2026-11-13T02:00", {}, "o5", "30.00"),
        # m3's earlier purchase is 374 days before the period (new); its view 40 days before
        buy(counter, "2025-11-01T02:00", m["m3"], "o-old", "99.00"),
        seen("product_view", web, "2026-10-01T02:00", member="m3"),
        buy(counter, "2026-11-14T02:00", m["m3"], "o6", "60.00"),
        # m4 paid online in October: returning to the organisation, new to the shop
        buy(web, "2026-10-15T02:00", m["m4"], "o-oct", "25.00"),
        buy(shop, "2026-11-15T02:00", m["m4"], "o7", "70.00"),
        # m5 carted online, paid at the counter
        seen("add_to_cart", web, "2026-11-10T01:00", member="m5"),
        buy(counter, "2026-11-10T02:00", m["m5"], "o8", "20.00"),
        # coupons: a campaign's on o2, another without a campaign on o4
        _event(
            org,
            "coupon_redeemed",
            "2026-11-12T02:00",
            shop,
            member="m1",
            amount="5.00",
            coupon_id="k1",
            order_ref="o2",
            campaign_id="c1",
        ),
        _event(
            org,
            "coupon_redeemed",
            "2026-11-11T03:00",
            web,
            anonymous="a1",
            amount="4.00",
            coupon_id="k2",
            order_ref="o4",
            channel="online",
        ),
        # after the period (17 Nov local), another organisation
        buy(shop, "2026-11-16T16:00", m["m1"], "o9", "999.00"),
        _event(str(uuid.uuid4()), "purchase", "2026-11-11T02:00", shop, amount="999.00"),
    ]


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def loaded(request: pytest.FixtureRequest) -> tuple[Any, str]:
    con = request.getfixturevalue("duck" if request.param == "duckdb" else "pg_warehouse")
    org = str(uuid.uuid4())
    _load(con, ledger(org))
    return con, org


def _rows(loaded: tuple[Any, str], groups: dict[str, str] | None) -> dict[str, BuyerMetrics]:
    con, org = loaded
    table = customers.buyer_table(con, org, FIRST, LAST, ZONE, groups=groups)
    return customers.buyer_rows(table)


def test_by_store(loaded: tuple[Any, str]) -> None:
    found = _rows(loaded, {SHOP: SHOP, COUNTER: COUNTER, WEB: WEB})
    assert found == {
        SHOP: BuyerMetrics(
            buyers=4,
            unidentified_buyers=1,
            new_buyers=2,
            returning_buyers=1,
            repeat_buyers=1,
            across_buyers=1,
            paid=Decimal("330.00"),
            member_paid=Decimal("300.00"),
            coupons_redeemed=1,
            coupon_discount=Decimal("5.00"),
            campaign_gmv=Decimal("50.00"),
        ),
        WEB: BuyerMetrics(
            buyers=1,
            new_buyers=1,
            across_buyers=1,
            paid=Decimal("40.00"),
            coupons_redeemed=1,
            coupon_discount=Decimal("4.00"),
        ),
        COUNTER: BuyerMetrics(
            buyers=2,
            new_buyers=2,
            across_buyers=1,
            paid=Decimal("80.00"),
            member_paid=Decimal("80.00"),
        ),
    }
    shop = found[SHOP]
    assert (shop.identified_buyers, shop.repeat_rate, shop.across_share) == (3, 1 / 3, 1 / 3)
    assert shop.member_share == 300 / 330


def test_the_organisation_counts_people_once(loaded: tuple[Any, str]) -> None:
    assert _rows(loaded, None) == {
        ALL: BuyerMetrics(
            buyers=7,
            unidentified_buyers=1,
            new_buyers=4,
            returning_buyers=2,  # m1, and m4 who paid online in October
            repeat_buyers=1,
            across_buyers=3,
            paid=Decimal("450.00"),
            member_paid=Decimal("380.00"),
            coupons_redeemed=2,
            coupon_discount=Decimal("9.00"),
            campaign_gmv=Decimal("50.00"),
        )
    }


def test_groups_of_stores_and_events_without_one(loaded: tuple[Any, str]) -> None:
    found = _rows(loaded, {SHOP: "offline", COUNTER: "offline"})
    assert sorted(found) == ["-", "offline"]
    assert (found["offline"].buyers, found["offline"].paid) == (6, Decimal("410.00"))
    assert (found["-"].buyers, found["-"].paid) == (1, Decimal("40.00"))
