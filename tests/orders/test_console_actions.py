"""Order actions in the console: refund by line (and everything left), cancel before
fulfilment, and the order list paged with its totals; through the ASGI client on SQLite and
PostgreSQL, each result read back through the API."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from newretail.bootstrap import Container
from tests.conftest import Org, console_login
from tests.console_pages import field_errors, rows, submit, text
from tests.orders.factory import Shop, build_shop


def _pos(client: TestClient, org: Org, shop: Shop, number: str, quantities: list[int]) -> Any:
    sale = client.post(
        "/api/v1/orders/pos",
        headers=org.auth(),
        json={
            "store_id": str(shop.shop_id),
            "external_order_id": number,
            "lines": [
                {"sku_id": str(sku), "quantity": quantity}
                for sku, quantity in zip(shop.sku_ids, quantities, strict=False)
            ],
        },
    )
    assert sale.status_code == 201, sale.text
    return sale.json()


def _on_hand(client: TestClient, org: Org, shop: Shop, sku: int) -> int:
    level = client.get(
        f"/api/v1/stock-levels/{shop.shop_id}/{shop.sku_ids[sku]}", headers=org.auth()
    )
    return int(level.json()["on_hand"])


def test_refund_by_line_then_everything_left(
    client: TestClient, container: Container, org: Org
) -> None:
    shop = build_shop(container, org, skus=2, stock=20)
    order = _pos(client, org, shop, "POS-1", [3, 2])
    console_login(client, org.owner_email)
    page = f"/console/orders/{order['id']}"
    refunded = submit(
        client,
        page,
        f"{page}/refund",
        {"refund_1": "1", "refund_2": "", "reason": "damaged box"},
    )
    assert refunded.status_code == 303, refunded.text
    assert refunded.headers["location"] == f"{page}?done=refund"
    api = client.get(f"/api/v1/orders/{order['id']}", headers=org.auth()).json()
    assert api["status"] == "partially_refunded"
    assert [(line["line_number"], line["refunded_quantity"]) for line in api["lines"]] == [
        (1, 1),
        (2, 0),
    ]
    (refund,) = client.get(f"/api/v1/orders/{order['id']}/refunds", headers=org.auth()).json()
    assert (refund["amount"], refund["reason"]) == ("10.00", "damaged box")
    assert _on_hand(client, org, shop, 0) == 18
    html = client.get(refunded.headers["location"]).text
    assert text(html, "done") == "Refund recorded."
    assert text(html, "order-refunded") == "¥10.00"

    everything = submit(client, page, f"{page}/refund", {"everything": "1"})
    assert everything.status_code == 303, everything.text
    api = client.get(f"/api/v1/orders/{order['id']}", headers=org.auth()).json()
    assert (api["status"], api["refunded_amount"]) == ("refunded", "50.00")
    assert (_on_hand(client, org, shop, 0), _on_hand(client, org, shop, 1)) == (20, 20)
    assert 'id="refund-form"' not in client.get(page).text  # nothing left to refund


def test_refund_refusals_are_shown_on_the_order_page(
    client: TestClient, container: Container, org: Org
) -> None:
    shop = build_shop(container, org, skus=1, stock=20)
    order = _pos(client, org, shop, "POS-2", [2])
    console_login(client, org.owner_email)
    page = f"/console/orders/{order['id']}"
    nothing = submit(client, page, f"{page}/refund", {"refund_1": ""})
    assert nothing.status_code == 422
    assert field_errors(nothing.text) == {
        "refund": "enter the units to refund on at least one line"
    }
    too_many = submit(client, page, f"{page}/refund", {"refund_1": "3"})
    assert too_many.status_code == 422
    assert field_errors(too_many.text) == {"refund_1": "only 2 units of line 1 are left to refund"}
    zh = {"Accept-Language": "zh-CN"}
    too_many_zh = submit(client, page, f"{page}/refund", {"refund_1": "3"}, **zh)
    assert field_errors(too_many_zh.text) == {"refund_1": "第 1 行只剩 2 件可退"}
    words = submit(
        client, page, f"{page}/refund", {"refund_1": "two"}, **{"Accept-Language": "zh-CN"}
    )
    assert field_errors(words.text) == {"refund_1": "须为整数"}
    api = client.get(f"/api/v1/orders/{order['id']}", headers=org.auth()).json()
    assert (api["status"], api["refunded_amount"]) == ("fulfilled", "0.00")
    cancel = submit(client, page, f"{page}/cancel", {})
    assert cancel.status_code == 409
    assert text(cancel.text, "cancel-error") == "the order is fulfilled; it cannot become cancelled"
    cancel_zh = submit(client, page, f"{page}/cancel", {}, **zh)
    assert cancel_zh.status_code == 409
    assert text(cancel_zh.text, "cancel-error") == "订单当前状态为 fulfilled，无法执行此操作。"


def test_cancel_a_paid_online_order(client: TestClient, container: Container, org: Org) -> None:
    shop = build_shop(container, org, skus=1, stock=5)
    online = client.post(
        "/api/v1/orders/checkout",
        headers=org.auth(),
        json={
            "store_id": str(shop.online_id),
            "external_order_id": "WEB-9",
            "fulfilment_type": "ship",
            "paid": True,
            "lines": [{"sku_id": str(shop.sku_ids[0]), "quantity": 2}],
        },
    )
    assert online.status_code == 201, online.text
    order_id = online.json()["id"]
    location = online.json()["lines"][0]["location_id"]
    level = f"/api/v1/stock-levels/{location}/{shop.sku_ids[0]}"
    assert client.get(level, headers=org.auth()).json()["allocated"] == 2
    console_login(client, org.owner_email)
    page = f"/console/orders/{order_id}"
    zh = {"Accept-Language": "zh-CN"}
    assert "取消订单" in client.get(page, headers=zh).text
    cancelled = submit(client, page, f"{page}/cancel", {}, **zh)
    assert cancelled.status_code == 303, cancelled.text
    api = client.get(f"/api/v1/orders/{order_id}", headers=org.auth()).json()
    assert (api["status"], api["refunded_amount"]) == ("cancelled", "24.00")
    assert client.get(level, headers=org.auth()).json()["allocated"] == 0
    html = client.get(cancelled.headers["location"], headers=zh).text
    assert text(html, "done") == "订单已取消。"
    assert 'id="cancel-form"' not in html


def test_orders_list_pages_with_count_and_total(
    client: TestClient, container: Container, org: Org
) -> None:
    shop = build_shop(container, org, skus=1, stock=100)
    for number in range(53):
        _pos(client, org, shop, f"P{number:03d}", [1])
    console_login(client, org.owner_email)
    first = client.get("/console/orders").text
    assert text(first, "order-count") == "53 orders, ¥530.00"
    assert "1–50 of 53" in first
    newest = rows(first, "data-order")
    assert (len(newest), newest[0], newest[-1]) == (50, "P052", "P003")
    second = client.get("/console/orders?page=2").text
    assert rows(second, "data-order") == ["P002", "P001", "P000"]
    assert "51–53 of 53" in second
    assert "Times in Asia/Shanghai (UTC+08:00)" in second
    zh = client.get("/console/orders?page=2", headers={"Accept-Language": "zh-CN"}).text
    assert "第 51–53 条，共 53 条" in zh
