"""Console pages of the catalogue, stock and order ledger, and the member 360 orders, through
the ASGI client on SQLite and PostgreSQL, with known data and exact values."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from newretail.bootstrap import Container
from newretail.core.database import session_scope, utcnow
from newretail.tenancy import schemas as tenancy_schemas
from newretail.tenancy import users as tenancy_users
from newretail.tenancy.models import Role
from tests.conftest import PASSWORD, Org, console_login
from tests.orders.factory import Shop, build_shop, owner


@dataclass
class Ledger:
    shop: Shop
    member_id: str
    pos_order_id: str
    counter_order_id: str
    online_order_id: str
    manager_email: str


def _rows(html: str, attribute: str) -> list[str]:
    return re.findall(rf'{attribute}="([^"]+)"', html)


def _text(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</', html, re.S)
    assert match, f"#{element_id} not on the page"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", match.group(1))).strip()


@pytest.fixture
def ledger(client: TestClient, container: Container, org: Org) -> Ledger:
    """2 SKUs (10.00 in shops, 12.00 online), 20 units everywhere; three orders, one refund."""
    shop = build_shop(container, org, skus=2, stock=20)
    h = org.auth()
    member = client.post(
        "/api/v1/members", headers=h, json={"name": "Li Lei", "phone": "138 0013 8000"}
    )
    assert member.status_code == 201, member.text
    member_id = member.json()["id"]
    sku0, sku1 = (str(s) for s in shop.sku_ids)
    pos = client.post(
        "/api/v1/orders/pos",
        headers=h,
        json={
            "store_id": str(shop.shop_id),
            "external_order_id": "POS-1",
            "member_id": member_id,
            "lines": [{"sku_id": sku0, "quantity": 3}],
        },
    )
    assert pos.status_code == 201, pos.text
    counter = client.post(
        "/api/v1/orders/pos",
        headers=h,
        json={
            "store_id": str(shop.counter_id),
            "external_order_id": "CTR-1",
            "lines": [{"sku_id": sku1, "quantity": 2}],
        },
    )
    assert counter.status_code == 201, counter.text
    online = client.post(
        "/api/v1/orders/checkout",
        headers=h,
        json={
            "store_id": str(shop.online_id),
            "external_order_id": "WEB-1",
            "member_id": member_id,
            "fulfilment_type": "ship",
            "paid": True,
            "lines": [{"sku_id": sku0, "quantity": 1}],
        },
    )
    assert online.status_code == 201, online.text
    refund = client.post(
        f"/api/v1/orders/{pos.json()['id']}/refunds",
        headers=h,
        json={
            "lines": [{"order_line_id": pos.json()["lines"][0]["id"], "quantity": 1}],
            "reason": "damaged",
        },
    )
    assert refund.status_code == 201, refund.text
    threshold = client.put(
        f"/api/v1/stock-levels/{shop.counter_id}/{sku1}/threshold",
        headers=h,
        json={"low_stock_threshold": 18},
    )
    assert threshold.status_code == 200, threshold.text
    manager_email = f"manager-{uuid.uuid4().hex[:6]}@example.com"
    with session_scope(container.sessions, org.id) as session:
        tenancy_users.create_user(
            session,
            owner(org.id),
            tenancy_schemas.UserCreate(
                email=manager_email,
                password=PASSWORD,
                role=Role.STORE_MANAGER,
                store_ids=[shop.shop_id],
            ),
        )
    return Ledger(
        shop,
        member_id,
        pos.json()["id"],
        counter.json()["id"],
        online.json()["id"],
        manager_email,
    )


def test_orders_list_filters_and_detail(client: TestClient, org: Org, ledger: Ledger) -> None:
    console_login(client, org.owner_email)
    page = client.get("/console/orders")
    assert page.status_code == 200, page.text
    assert _text(page.text, "order-count") == "3 orders, ¥62.00"
    assert _rows(page.text, "data-order") == ["WEB-1", "CTR-1", "POS-1"]
    counter = client.get("/console/orders?channel=counter")
    assert _text(counter.text, "order-count") == "1 order, ¥20.00"
    assert _rows(counter.text, "data-order") == ["CTR-1"]
    by_store = client.get(f"/console/orders?store_id={ledger.shop.shop_id}")
    assert _rows(by_store.text, "data-order") == ["POS-1"]
    refunded = client.get("/console/orders?status=partially_refunded")
    assert _rows(refunded.text, "data-order") == ["POS-1"]
    paid = client.get("/console/orders?status=paid&channel=online")
    assert _rows(paid.text, "data-order") == ["WEB-1"]
    today = (utcnow() + timedelta(hours=8)).date()  # the organisation's zone: Asia/Shanghai
    same_day = client.get(f"/console/orders?date_from={today}&date_to={today}")
    assert _text(same_day.text, "order-count") == "3 orders, ¥62.00"
    tomorrow = today + timedelta(days=1)
    future = client.get(f"/console/orders?date_from={tomorrow}")
    assert _text(future.text, "orders-empty") == "No orders match."
    bad = client.get("/console/orders?date_from=31-12-2026")
    assert bad.status_code == 422
    assert "not a date (YYYY-MM-DD)" in bad.text

    detail = client.get(f"/console/orders/{ledger.pos_order_id}")
    assert detail.status_code == 200, detail.text
    html = detail.text
    assert _text(html, "order-status") == "Partly refunded"
    assert _text(html, "order-total") == "¥30.00 CNY"
    assert _text(html, "order-refunded") == "¥10.00"
    assert _text(html, "order-net") == "¥20.00"
    assert _text(html, "fulfilment-type") == "Carry out"
    assert _text(html, "order-member") == "Li Lei"
    line = re.search(r'data-line="1">(.*?)</tr>', html, re.S)
    assert line is not None
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", line[1])]
    assert cells == ["1", "SKU0", "Serum 0", "3", "¥10.00", "¥30.00", "S0 · Store 0", "1"]
    assert "line 1 × 1 back to S0 · Store 0" in html
    assert "damaged" in html

    online = client.get(f"/console/orders/{ledger.online_order_id}").text
    assert _text(online, "order-status") == "Paid"
    assert _text(online, "fulfilment-type") == "Ship"
    assert "NEAR · NEAR" in online  # allocated at the nearest store that fulfils online
    assert client.get(f"/console/orders/{uuid.uuid4()}").status_code == 404


def test_store_manager_sees_only_its_stores(client: TestClient, org: Org, ledger: Ledger) -> None:
    console_login(client, ledger.manager_email)
    page = client.get("/console/orders")
    assert page.status_code == 200, page.text
    assert _text(page.text, "order-count") == "1 order, ¥30.00"
    assert _rows(page.text, "data-order") == ["POS-1"]
    assert client.get(f"/console/orders/{ledger.counter_order_id}").status_code == 404
    assert client.get(f"/console/orders/{ledger.pos_order_id}").status_code == 200
    stock = client.get("/console/stock")
    assert _rows(stock.text, "data-level") == ["S0/SKU0", "S0/SKU1"]
    other = client.get(f"/console/stock?location_id={ledger.shop.counter_id}")
    assert other.status_code == 404
    member = client.get(f"/console/members/{ledger.member_id}")
    assert member.status_code == 200, member.text
    assert _text(member.text, "member-order-count") == "1 order, ¥30.00"


def test_stock_levels_and_low_stock_view(client: TestClient, org: Org, ledger: Ledger) -> None:
    console_login(client, org.owner_email)
    shop = ledger.shop
    page = client.get(f"/console/stock?location_id={shop.shop_id}")
    assert page.status_code == 200, page.text
    row = re.search(r'data-level="S0/SKU0"[^>]*>(.*?)</tr>', page.text, re.S)
    assert row is not None
    numbers = re.findall(r'class="text-end ([a-z-]+)[^"]*">(\d+)', row[1])
    assert numbers == [
        ("on-hand", "18"),
        ("allocated", "0"),
        ("reserved", "0"),
        ("available", "18"),
    ]
    near = client.get(f"/console/stock?location_id={shop.near_store_id}&q=sku0")
    assert _rows(near.text, "data-level") == ["NEAR/SKU0"]
    row = re.search(r'data-level="NEAR/SKU0"[^>]*>(.*?)</tr>', near.text, re.S)
    assert row is not None
    numbers = re.findall(r'class="text-end ([a-z-]+)[^"]*">(\d+)', row[1])
    assert numbers == [
        ("on-hand", "20"),
        ("allocated", "1"),
        ("reserved", "0"),
        ("available", "19"),
    ]
    by_barcode = client.get("/console/stock?q=6900000001")
    assert _rows(by_barcode.text, "data-level") == ["NEAR/SKU1", "S0/SKU1", "S1/SKU1", "WH/SKU1"]
    low = client.get("/console/stock?low=1")
    assert _rows(low.text, "data-level") == ["S1/SKU1"]
    assert _text(low.text, "stock-count") == "1 stock level"


def test_catalog_pages(client: TestClient, org: Org, ledger: Ledger) -> None:
    console_login(client, org.owner_email)
    page = client.get("/console/catalog")
    assert page.status_code == 200, page.text
    assert _text(page.text, "catalog-count") == "Products: 1 · SKUs: 2"
    assert _rows(page.text, "data-sku") == ["SKU0", "SKU1"]
    row = re.search(r'data-sku="SKU0">(.*?)</tr>', page.text, re.S)
    assert row is not None
    assert re.findall(r'class="text-end price-(\w+)">([^<]+)<', row[1])[:2] == [
        ("online", "¥12.00"),
        ("store", "¥10.00"),
    ]
    assert "6900000000" in row[1]
    assert _text(client.get("/console/catalog?q=nothing").text, "catalog-empty") == (
        "No products match."
    )
    assert _rows(client.get("/console/catalog?category=Skincare").text, "data-sku") == [
        "SKU0",
        "SKU1",
    ]
    assert _rows(client.get("/console/catalog?category=Tea").text, "data-sku") == []
    assert client.get("/console/catalog?brand_id=nope").status_code == 422
    product_id = re.search(r'href="/console/catalog/([0-9a-f-]{36})"', page.text)
    assert product_id is not None
    detail = client.get(f"/console/catalog/{product_id[1]}")
    assert detail.status_code == 200, detail.text
    assert _text(detail.text, "product-name") == "Serum"
    assert _rows(detail.text, "data-sku") == ["SKU0", "SKU1"]
    assert client.get(f"/console/catalog/{uuid.uuid4()}").status_code == 404


def test_member_360_shows_orders_from_every_channel(
    client: TestClient, org: Org, ledger: Ledger
) -> None:
    console_login(client, org.owner_email)
    page = client.get(f"/console/members/{ledger.member_id}")
    assert page.status_code == 200, page.text
    assert _text(page.text, "member-order-count") == "2 orders, ¥42.00"
    assert _rows(page.text, "data-order") == [ledger.online_order_id, ledger.pos_order_id]


def test_zh_cn_labels(client: TestClient, org: Org, ledger: Ledger) -> None:
    console_login(client, org.owner_email)
    zh = {"Accept-Language": "zh-CN,zh;q=0.9"}
    orders = client.get("/console/orders", headers=zh).text
    assert _text(orders, "order-count") == "3 笔订单，合计 ¥62.00"
    assert "部分退款" in orders and "现场提货" in orders and "快递配送" in orders
    assert '<html lang="zh-CN">' in orders
    detail = client.get(f"/console/orders/{ledger.pos_order_id}", headers=zh).text
    assert _text(detail, "order-status") == "部分退款"
    assert "第 1 行 × 1，退回 S0 · Store 0" in detail
    stock = client.get("/console/stock?low=1", headers=zh).text
    assert _text(stock, "stock-count") == "1 条库存记录"
    assert "低库存阈值" in stock
    catalog = client.get("/console/catalog", headers=zh).text
    assert _text(catalog, "catalog-count") == "商品：1 · SKU：2"
    member = client.get(f"/console/members/{ledger.member_id}", headers=zh).text
    assert _text(member, "member-order-count") == "2 笔订单，合计 ¥42.00"
    assert "全渠道订单" in member


def test_who_sold_and_refunded_is_named_not_an_api_key_prefix(
    client: TestClient, org: Org, ledger: Ledger
) -> None:
    """The sale and the refund came through the owner's API key: the order page names the
    key ("owner key"), not its recorded prefix."""
    console_login(client, org.owner_email)
    html = client.get(f"/console/orders/{ledger.pos_order_id}").text
    by = re.search(r"<dt[^>]*>By</dt><dd[^>]*>([^<]*)</dd>", html)
    assert by is not None and by.group(1) == "owner key"
    refunds = re.findall(r"<td>(owner key)</td>", html)
    assert refunds == ["owner key"]
    assert "api_key:" not in html
