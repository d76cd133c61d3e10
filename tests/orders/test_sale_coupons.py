"""Coupons at the till and at checkout through the real endpoints (SQLite and PostgreSQL):
the one pricing path's totals and per-line discounts, the redemption in the sale's own
transaction, refusals naming `coupons[i]` that keep nothing, resends, an offline till's
conflict, and refunds and cancels giving coupons back."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from newretail.bootstrap import Container
from newretail.core.database import session_scope, utcnow
from newretail.marketing.models import RedemptionConflict
from tests.conftest import Org
from tests.orders.coupon_helpers import (
    STAGE,
    coupon,
    issue,
    ledger,
    save_offers,
    stage_budget,
    totals,
)
from tests.orders.factory import Shop, build_shop, level
from tests.orders.test_points import earn_rules, new_member, state

CODE = "K7Q2-XW9M-3PRT-5HNA"  # a printed bearer code


def pos_body(shop: Shop, external: str, units: tuple[int, int], *coupons: str) -> dict[str, Any]:
    a, b = shop.sku_ids
    lines = [{"sku_id": str(s), "quantity": q} for s, q in zip((a, b), units, strict=True) if q]
    return {
        "store_id": str(shop.shop_id),
        "external_order_id": external,
        "lines": lines,
        "coupons": list(coupons),
    }


def checkout_body(shop: Shop, units: int, *coupons: str, **extra: Any) -> dict[str, Any]:
    return {
        "store_id": str(shop.online_id),
        "lines": [{"sku_id": str(shop.sku_ids[0]), "quantity": units}],
        "coupons": list(coupons),
        **extra,
    }


def amounts(order: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [
        (line["unit_price"], line["discount_amount"], line["amount"]) for line in order["lines"]
    ]


def test_a_till_sale_with_two_coupons_is_priced_by_the_engine_and_redeems_both(
    client: TestClient, container: Container, org: Org
) -> None:
    shop = build_shop(container, org, stock=10)
    offers = save_offers(container, shop)
    threshold = issue(container, shop, offers["SPEND-30-SAVE-5"], "t1", code=CODE)
    serum = issue(container, shop, offers["SERUM-10PCT"], "s1")
    sent = client.post(
        "/api/v1/orders/pos",
        headers=org.auth(),
        json=pos_body(shop, "T-1", (3, 1), CODE.lower(), str(serum)),
    )
    assert sent.status_code == 201, sent.text
    order = sent.json()
    # 40.00; SERUM-10PCT (product) 4.00 → 3.00 / 1.00; the lines cost 36.00, so 满减 30-5
    # applies: 5.00 → 3.75 / 1.25
    assert amounts(order) == [("10.00", "6.75", "23.25"), ("10.00", "2.25", "7.75")]
    assert (order["total_amount"], order["discount_amount"]) == ("31.00", "9.00")
    for coupon_id, discount in ((threshold, "5.00"), (serum, "4.00")):
        used = coupon(container, shop, coupon_id)
        assert (used.state, used.order_ref, used.store_id) == (
            "redeemed",
            order["id"],
            shop.shop_id,
        )
        assert str(used.discount) == discount
        assert ledger(container, shop, coupon_id) == [("issued", None), ("redeemed", order["id"])]
    # the coupon API agrees
    found = client.get("/api/v1/marketing/coupons", params={"code": CODE}, headers=org.auth())
    assert [(c["state"], c["order_ref"], c["discount"]) for c in found.json()] == [
        ("redeemed", order["id"], "5.00")
    ]
    of_order = client.get(
        "/api/v1/marketing/coupons", params={"order_id": order["id"]}, headers=org.auth()
    )
    assert [(c["id"], c["offer_code"], c["discount"]) for c in of_order.json()] == [
        (str(threshold), "SPEND-30-SAVE-5", "5.00"),
        (str(serum), "SERUM-10PCT", "4.00"),
    ]
    # the till sends the sale again: the same order, no second redemption
    again = client.post(
        "/api/v1/orders/pos",
        headers=org.auth(),
        json=pos_body(shop, "T-1", (3, 1), CODE.lower(), str(serum)),
    )
    assert (again.status_code, again.json()["id"]) == (200, order["id"])
    # sent again with other coupons (one of them, or none): refused, nothing changes
    for other in ((CODE.lower(),), ()):
        refused = client.post(
            "/api/v1/orders/pos", headers=org.auth(), json=pos_body(shop, "T-1", (3, 1), *other)
        )
        assert (refused.status_code, refused.json()["code"], refused.json()["field"]) == (
            409,
            "idempotency_conflict",
            "coupons",
        )
    assert totals(container, shop) == (1, 2, 0)
    assert level(container, org.id, shop.sku_ids[0], shop.shop_id).on_hand == 7


def test_a_checkout_with_a_members_coupon(
    client: TestClient, container: Container, org: Org
) -> None:
    shop = build_shop(container, org, stock=10)
    offers = save_offers(container, shop)
    member_id = new_member(container, shop)
    online = issue(container, shop, offers["ONLINE-3"], "o1", member_id=member_id)
    body = checkout_body(shop, 3, str(online), member_id=str(member_id), paid=True)
    placed = client.post("/api/v1/orders/checkout", headers=org.auth(), json=body)
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert amounts(order) == [("12.00", "3.00", "33.00")]
    assert (order["total_amount"], order["discount_amount"]) == ("33.00", "3.00")
    used = coupon(container, shop, online)
    assert (used.state, used.order_ref, used.store_id, str(used.discount)) == (
        "redeemed",
        order["id"],
        shop.online_id,
        "3.00",
    )
    # someone else's coupon, and a used one
    other = issue(container, shop, offers["ONLINE-3"], "o2", member_id=uuid.uuid4())
    for coupon_id, code in ((other, "coupon_not_yours"), (online, "coupon_already_used")):
        refused = client.post(
            "/api/v1/orders/checkout",
            headers=org.auth(),
            json=checkout_body(shop, 1, str(coupon_id), member_id=str(member_id)),
        )
        assert (refused.status_code, refused.json()["code"], refused.json()["field"]) == (
            409,
            code,
            "coupons[0]",
        )
    assert totals(container, shop) == (1, 1, 0)


def test_a_refused_coupon_refuses_the_sale_and_keeps_nothing(
    client: TestClient, container: Container, org: Org
) -> None:
    shop = build_shop(container, org, stock=10)
    offers = save_offers(container, shop)
    stage_budget(container, shop, redeem_limit=0)
    threshold = issue(container, shop, offers["SPEND-30-SAVE-5"], "t1", code=CODE)
    serum = issue(container, shop, offers["SERUM-10PCT"], "s1")
    online = issue(container, shop, offers["ONLINE-3"], "o1")
    past = utcnow() - timedelta(minutes=1)
    expired = issue(container, shop, offers["FORFEIT-2"], "e1", valid_until=past)
    budgeted = issue(container, shop, offers["FORFEIT-2"], "b1", stage_key=STAGE)
    used = issue(container, shop, offers["SERUM-10PCT"], "u1")
    done = client.post(
        "/api/v1/orders/pos", headers=org.auth(), json=pos_body(shop, "T-0", (1, 0), str(used))
    )
    assert done.status_code == 201, done.text
    cases: list[tuple[dict[str, Any], int, str, str]] = [
        (pos_body(shop, "T-1", (3, 0), str(online)), 422, "wrong_channel", "coupons[0]"),
        # 30.00 less the serum offer's 3.00 is under the threshold's 30.00
        (pos_body(shop, "T-2", (2, 1), CODE, str(serum)), 422, "below_minimum_spend", "coupons[0]"),
        (pos_body(shop, "T-3", (3, 0), "NOPE-NOPE"), 404, "coupon_not_found", "coupons[0]"),
        (pos_body(shop, "T-4", (3, 0), str(expired)), 409, "coupon_expired", "coupons[0]"),
        (pos_body(shop, "T-5", (3, 0), str(budgeted)), 409, "budget_spent", "coupons[0]"),
        (pos_body(shop, "T-6", (3, 1), CODE, str(used)), 409, "coupon_already_used", "coupons[1]"),
        (pos_body(shop, "T-7", (3, 0), CODE, CODE), 422, "duplicate", "coupons[1]"),
        (
            {**pos_body(shop, "T-8", (3, 0), CODE), "offline": True},
            422,
            "invalid_input",
            "sold_at",
        ),
    ]
    for body, status, code, field in cases:
        refused = client.post("/api/v1/orders/pos", headers=org.auth(), json=body)
        assert (refused.status_code, refused.json()["code"], refused.json()["field"]) == (
            status,
            code,
            field,
        ), body["external_order_id"]
    # only the first sale is kept: no order, redemption, stock or coupon change of the others
    assert totals(container, shop) == (1, 1, 0)
    assert level(container, org.id, shop.sku_ids[0], shop.shop_id).on_hand == 9
    for coupon_id in (threshold, serum, online, expired, budgeted):
        assert coupon(container, shop, coupon_id).state == "issued"
        assert ledger(container, shop, coupon_id) == [("issued", None)]


def test_an_offline_sale_of_a_coupon_used_online_meanwhile_is_a_conflict(
    client: TestClient, container: Container, org: Org
) -> None:
    shop = build_shop(container, org, stock=10)
    offers = save_offers(container, shop)
    issue(container, shop, offers["SPEND-30-SAVE-5"], "t1", code=CODE)
    web = client.post(
        "/api/v1/orders/checkout", headers=org.auth(), json=checkout_body(shop, 3, CODE)
    )
    assert web.status_code == 201, web.text
    assert web.json()["total_amount"] == "31.00"
    sold_at = (utcnow() - timedelta(hours=2)).isoformat()
    body = {**pos_body(shop, "TILL-5-0099", (2, 1), CODE), "offline": True, "sold_at": sold_at}
    first = client.post("/api/v1/orders/pos", headers=org.auth(), json=body)
    again = client.post("/api/v1/orders/pos", headers=org.auth(), json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    till = first.json()
    # the sale stands as the till priced it; the coupon stays the checkout's
    assert (till["total_amount"], till["discount_amount"]) == ("25.00", "5.00")
    assert totals(container, shop) == (2, 1, 1)
    with session_scope(container.sessions, org.id) as session:
        conflicts = session.execute(
            select(
                RedemptionConflict.order_ref,
                RedemptionConflict.used_by_order_ref,
                RedemptionConflict.discount,
            )
        ).all()
    assert [(a, b, str(c)) for a, b, c in conflicts] == [(till["id"], web.json()["id"], "5.00")]


def test_a_full_refund_restores_the_coupon_with_the_points_a_partial_one_does_not(
    client: TestClient, container: Container, org: Org
) -> None:
    shop = build_shop(container, org, stock=10)
    offers = save_offers(container, shop)
    earn_rules(container, shop)
    member_id = new_member(container, shop)
    threshold = issue(container, shop, offers["SPEND-30-SAVE-5"], "t1", code=CODE)
    body = {**pos_body(shop, "T-1", (2, 1), CODE), "member_id": str(member_id)}
    order = client.post("/api/v1/orders/pos", headers=org.auth(), json=body).json()
    # 5.00 over 20.00 and 10.00: 3.33 and 1.67 (the largest remainder takes the last cent)
    assert amounts(order) == [("10.00", "3.33", "16.67"), ("10.00", "1.67", "8.33")]
    assert order["total_amount"] == "25.00"
    # points on what each line was charged, × 1.5 × 2 (skincare), whole points per line:
    # 16.67 → 50 (50.01), 8.33 → 24 (24.99)
    assert state(container, shop, member_id) == (0, 74, "Gold")
    url = f"/api/v1/orders/{order['id']}/refunds"
    first_line = order["lines"][0]["id"]
    part = client.post(
        url, headers=org.auth(), json={"lines": [{"order_line_id": first_line, "quantity": 1}]}
    )
    assert part.status_code == 201, part.text
    # one of two units: half of 16.67 to the cent (8.335 → 8.34)
    assert part.json()["amount"] == "8.34"
    assert coupon(container, shop, threshold).state == "redeemed"
    rest = client.post(url, headers=org.auth(), json={})
    assert rest.status_code == 201, rest.text
    assert rest.json()["amount"] == "16.66"
    assert [line["amount"] for line in rest.json()["lines"]] == ["8.33", "8.33"]
    restored = coupon(container, shop, threshold)
    assert (restored.state, restored.order_ref, restored.discount) == ("issued", None, None)
    assert ledger(container, shop, threshold) == [
        ("issued", None),
        ("redeemed", order["id"]),
        ("restored", order["id"]),
    ]
    assert state(container, shop, member_id)[:2] == (0, 0)
    # the coupon is usable again
    again = client.post(
        "/api/v1/orders/pos", headers=org.auth(), json=pos_body(shop, "T-2", (3, 0), CODE)
    )
    assert (again.status_code, again.json()["total_amount"]) == (201, "25.00")


def test_a_forfeit_offer_stays_used_and_a_cancel_gives_any_coupon_back(
    client: TestClient, container: Container, org: Org
) -> None:
    shop = build_shop(container, org, stock=10)
    offers = save_offers(container, shop)
    kept = issue(container, shop, offers["FORFEIT-2"], "f1")
    order = client.post(
        "/api/v1/orders/pos", headers=org.auth(), json=pos_body(shop, "T-1", (3, 0), str(kept))
    ).json()
    assert order["total_amount"] == "28.00"
    refund = client.post(f"/api/v1/orders/{order['id']}/refunds", headers=org.auth(), json={})
    assert refund.json()["amount"] == "28.00"
    assert coupon(container, shop, kept).state == "redeemed"
    # a cancelled checkout did not happen: even a forfeit offer's coupon comes back
    cancelled = issue(container, shop, offers["FORFEIT-2"], "f2")
    placed = client.post(
        "/api/v1/orders/checkout", headers=org.auth(), json=checkout_body(shop, 1, str(cancelled))
    ).json()
    assert placed["total_amount"] == "10.00"
    assert coupon(container, shop, cancelled).state == "redeemed"
    done = client.post(f"/api/v1/orders/{placed['id']}/cancel", headers=org.auth())
    assert done.status_code == 200, done.text
    assert coupon(container, shop, cancelled).state == "issued"
    assert [change for change, _ in ledger(container, shop, cancelled)] == [
        "issued",
        "redeemed",
        "restored",
    ]
