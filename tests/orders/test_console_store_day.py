"""The store manager's page: today's sales and orders at the store (its local day) and the
low-stock alerts; the local-day boundary at midnight in Asia/Shanghai (UTC 16:00)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient

from newretail.bootstrap import Container
from newretail.core.database import session_scope
from newretail.orders import store_day
from newretail.tenancy import schemas as tenancy_schemas
from newretail.tenancy import users as tenancy_users
from newretail.tenancy.models import Role
from tests.conftest import PASSWORD, Org, console_login
from tests.console_pages import rows, text
from tests.orders.factory import Shop, build_shop, owner


def _sale(
    client: TestClient, org: Org, shop: Shop, number: str, quantity: int, **extra: Any
) -> Any:
    sale = client.post(
        "/api/v1/orders/pos",
        headers=org.auth(),
        json={
            "store_id": str(shop.shop_id),
            "external_order_id": number,
            "lines": [{"sku_id": str(shop.sku_ids[0]), "quantity": quantity}],
            **extra,
        },
    )
    assert sale.status_code == 201, sale.text
    return sale.json()


def _manager(container: Container, org: Org, store_id: uuid.UUID) -> str:
    email = f"manager-{uuid.uuid4().hex[:6]}@example.com"
    with session_scope(container.sessions, org.id) as session:
        tenancy_users.create_user(
            session,
            owner(org.id),
            tenancy_schemas.UserCreate(
                email=email, password=PASSWORD, role=Role.STORE_MANAGER, store_ids=[store_id]
            ),
        )
    return email


def test_store_manager_sees_todays_sales_orders_and_alerts(
    client: TestClient, container: Container, org: Org
) -> None:
    shop = build_shop(container, org, skus=2, stock=10)
    first = _sale(client, org, shop, "T-1", 3)
    _sale(client, org, shop, "T-2", 1)
    refund = client.post(
        f"/api/v1/orders/{first['id']}/refunds",
        headers=org.auth(),
        json={"lines": [{"order_line_id": first["lines"][0]["id"], "quantity": 1}]},
    )
    assert refund.status_code == 201, refund.text
    threshold = client.put(
        f"/api/v1/stock-levels/{shop.shop_id}/{shop.sku_ids[0]}/threshold",
        headers=org.auth(),
        json={"low_stock_threshold": 8},
    )
    assert threshold.status_code == 200, threshold.text
    console_login(client, _manager(container, org, shop.shop_id))
    opened = client.get("/console/my-store", follow_redirects=False)
    assert opened.headers["location"] == f"/console/stores/{shop.shop_id}/today"
    page = client.get(opened.headers["location"])
    assert page.status_code == 200, page.text
    html = page.text
    assert text(html, "day-orders") == "2"
    assert text(html, "day-sales") == "¥40.00"
    assert text(html, "day-refunded") == "¥10.00"
    assert text(html, "day-net") == "¥30.00"
    assert rows(html, "data-order") == ["T-2", "T-1"]
    assert rows(html, "data-low") == ["SKU0"]  # 10 - 3 + 1 - 1 = 7 available, threshold 8
    assert text(html, "low-stock-count") == "1 SKU at or below its threshold · all low stock"
    assert "Asia/Shanghai (UTC+08:00)" in text(html, "store-day-zone")
    assert client.get(f"/console/stores/{shop.counter_id}/today").status_code == 404
    zh = client.get(opened.headers["location"], headers={"Accept-Language": "zh-CN"}).text
    assert text(zh, "store-day-title").startswith("Store 0 · 今日（")
    assert "库存预警" in zh


def test_today_is_the_stores_local_day(container: Container, client: TestClient, org: Org) -> None:
    shop = build_shop(container, org, skus=1, stock=10)
    _sale(client, org, shop, "EVE", 1, sold_at="2026-11-10T23:50:00+08:00")
    _sale(client, org, shop, "D11", 2, sold_at="2026-11-11T00:30:00+08:00")  # 10 Nov 16:30 UTC
    _sale(client, org, shop, "NEXT", 4, sold_at="2026-11-12T00:00:00+08:00")
    with session_scope(container.sessions, org.id) as session:
        day = store_day.store_day(
            session,
            owner(org.id),
            shop.shop_id,
            1,
            50,
            now=datetime.fromisoformat("2026-11-11T23:59:59+08:00"),
        )
        assert day.day.isoformat() == "2026-11-11"
        assert [o.external_order_id for o in day.orders] == ["D11"]
        assert (day.sales.orders, day.sales.amount, day.order_count) == (1, Decimal("20.00"), 1)


def test_goods_sold_beyond_stock_are_listed_for_the_manager(
    client: TestClient, container: Container, org: Org
) -> None:
    shop = build_shop(container, org, skus=1, stock=2)
    sale = _sale(client, org, shop, "OVER-1", 5)  # the counter held goods the system did not
    console_login(client, _manager(container, org, shop.shop_id))
    html = client.get(f"/console/stores/{shop.shop_id}/today").text
    assert rows(html, "data-discrepancy") == ["SKU0"]
    assert text(html, "discrepancy-count") == "1 SKU sold beyond the system's stock"
    row = html.split('data-discrepancy="SKU0"', 1)[1].split("</tr>", 1)[0]
    assert 'class="text-end shortfall">3<' in row
    assert f'href="/console/orders/{sale["id"]}"' in row
    zh = client.get(
        f"/console/stores/{shop.shop_id}/today", headers={"Accept-Language": "zh-CN"}
    ).text
    assert text(zh, "discrepancy-count") == "1 个 SKU 的售出数量超过系统库存"
    counted = client.post(
        "/api/v1/stock/adjustments",
        headers=org.auth(),
        json={
            "location_id": str(shop.shop_id),
            "sku_id": str(shop.sku_ids[0]),
            "delta": 4,
            "note": "shelf count",
        },
    )
    assert counted.status_code == 201, counted.text
    html = client.get(f"/console/stores/{shop.shop_id}/today").text
    assert rows(html, "data-discrepancy") == []


def test_order_list_filters_by_the_organisations_local_days(
    client: TestClient, container: Container, org: Org
) -> None:
    shop = build_shop(container, org, skus=1, stock=10)
    _sale(client, org, shop, "EVE", 1, sold_at="2026-11-10T23:50:00+08:00")
    _sale(client, org, shop, "D11", 2, sold_at="2026-11-11T00:30:00+08:00")  # 10 Nov 16:30 UTC
    _sale(client, org, shop, "NEXT", 4, sold_at="2026-11-12T00:00:00+08:00")
    console_login(client, org.owner_email)
    on_11th = client.get("/console/orders?date_from=2026-11-11&date_to=2026-11-11")
    assert on_11th.status_code == 200, on_11th.text
    assert rows(on_11th.text, "data-order") == ["D11"]
    on_10th = client.get("/console/orders?date_from=2026-11-10&date_to=2026-11-10")
    assert rows(on_10th.text, "data-order") == ["EVE"]
    both = client.get("/console/orders?date_from=2026-11-10&date_to=2026-11-12")
    assert rows(both.text, "data-order") == ["NEXT", "D11", "EVE"]
