"""The stock console: receipt, adjustment with its reason and transfer booked through forms
(the stock service the API calls), the stock ledger page, paging with totals; results read
back through the API; on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import uuid

from fastapi.testclient import TestClient

from newretail.bootstrap import Container
from newretail.core.database import session_scope
from newretail.tenancy import schemas as tenancy_schemas
from newretail.tenancy import users as tenancy_users
from newretail.tenancy.models import Role
from tests.conftest import PASSWORD, Org, console_login
from tests.console_pages import field_errors, rows, submit, text
from tests.orders.factory import Shop, build_shop, owner


def _level(client: TestClient, org: Org, location: uuid.UUID, sku: uuid.UUID) -> list[int]:
    level = client.get(f"/api/v1/stock-levels/{location}/{sku}", headers=org.auth()).json()
    return [level["on_hand"], level["allocated"], level["available"]]


def _ledger(client: TestClient, org: Org, reference: str) -> list[tuple[str, int, str, str]]:
    page = client.get(f"/api/v1/stock/movements?reference={reference}", headers=org.auth())
    return sorted(
        (m["reason"], m["delta"], m["note"] or "", str(m["location_id"]))
        for m in page.json()["items"]
    )


def _reference(location: str) -> str:
    return location.split("reference=", 1)[1].split("&", 1)[0]


def test_receipt_adjustment_and_transfer(
    client: TestClient, container: Container, org: Org
) -> None:
    shop: Shop = build_shop(container, org, skus=2, stock=10)
    console_login(client, org.owner_email)
    store, warehouse = str(shop.shop_id), str(shop.warehouse_id)

    receipt = submit(
        client,
        "/console/stock/receipt",
        "/console/stock/receipt",
        {
            "location_id": store,
            "sku_0": "SKU0",
            "quantity_0": "12",
            "sku_1": "6900000001",  # by barcode
            "quantity_1": "3",
            "note": "spring delivery",
            "reference": "DN-2026-001",
        },
    )
    assert receipt.status_code == 303, receipt.text
    assert receipt.headers["location"] == (
        f"/console/stock/movements?location_id={store}&reference=DN-2026-001&done=receipt"
    )
    assert _level(client, org, shop.shop_id, shop.sku_ids[0]) == [22, 0, 22]
    assert _level(client, org, shop.shop_id, shop.sku_ids[1]) == [13, 0, 13]
    assert _ledger(client, org, "DN-2026-001") == [
        ("receipt", 3, "spring delivery", store),
        ("receipt", 12, "spring delivery", store),
    ]
    ledger_page = client.get(receipt.headers["location"]).text
    assert text(ledger_page, "done") == "Receipt booked."
    assert rows(ledger_page, "data-movement") == ["SKU0", "SKU1"] or rows(
        ledger_page, "data-movement"
    ) == ["SKU1", "SKU0"]
    assert "Times in Asia/Shanghai (UTC+08:00)" in ledger_page

    adjustment = submit(
        client,
        f"/console/stock/adjustment?location_id={store}&sku=SKU0",
        "/console/stock/adjustment",
        {"location_id": store, "sku_0": "SKU0", "delta": "-2", "note": "Damaged"},
    )
    assert adjustment.status_code == 303, adjustment.text
    reference = _reference(adjustment.headers["location"])
    assert _ledger(client, org, reference) == [("adjustment", -2, "Damaged", store)]
    assert _level(client, org, shop.shop_id, shop.sku_ids[0]) == [20, 0, 20]

    transfer = submit(
        client,
        "/console/stock/transfer",
        "/console/stock/transfer",
        {
            "from_location_id": warehouse,
            "to_location_id": store,
            "sku_0": "SKU1",
            "quantity_0": "4",
        },
    )
    assert transfer.status_code == 303, transfer.text
    reference = _reference(transfer.headers["location"])
    assert _ledger(client, org, reference) == [
        ("transfer_in", 4, "", store),
        ("transfer_out", -4, "", warehouse),
    ]
    assert _level(client, org, shop.warehouse_id, shop.sku_ids[1]) == [6, 0, 6]
    assert _level(client, org, shop.shop_id, shop.sku_ids[1]) == [17, 0, 17]

    zh = {"Accept-Language": "zh-CN"}
    ledger = client.get(f"/console/stock/movements?location_id={store}&sku=SKU1", headers=zh)
    assert ledger.status_code == 200, ledger.text
    deltas = re.findall(r'class="text-end delta">([^<]+)<', ledger.text)
    reasons = re.findall(r'class="reason">([^<]+)<', ledger.text)
    assert list(zip(reasons, deltas, strict=True)) == [
        ("调入", "+4"),
        ("入库", "+3"),
        ("入库", "+10"),
    ]
    assert rows(ledger.text, "data-movement") == ["SKU1", "SKU1", "SKU1"]


def test_refusals_are_shown_on_the_form(client: TestClient, container: Container, org: Org) -> None:
    shop = build_shop(container, org, skus=1, stock=5)
    console_login(client, org.owner_email)
    store = str(shop.shop_id)
    empty = submit(client, "/console/stock/receipt", "/console/stock/receipt", {"location_id": ""})
    assert empty.status_code == 422
    assert field_errors(empty.text) == {"location_id": "choose a location"}
    unknown = submit(
        client,
        "/console/stock/receipt",
        "/console/stock/receipt",
        {"location_id": store, "sku_0": "NOPE", "quantity_0": "1"},
    )
    assert field_errors(unknown.text) == {"sku_0": "no SKU with this code or barcode"}
    no_reason = submit(
        client,
        "/console/stock/adjustment",
        "/console/stock/adjustment",
        {"location_id": store, "sku_0": "SKU0", "delta": "-1", "note": " "},
        **{"Accept-Language": "zh-CN"},
    )
    assert field_errors(no_reason.text) == {"note": "请说明原因（盘点修正、损坏、丢失……）"}
    too_many = submit(
        client,
        "/console/stock/adjustment",
        "/console/stock/adjustment",
        {"location_id": store, "sku_0": "SKU0", "delta": "-6", "note": "count"},
    )
    assert too_many.status_code == 422
    assert text(too_many.text, "form-error") == (
        "Not enough stock of SKU0 available at this location."
    )
    same = submit(
        client,
        "/console/stock/transfer",
        "/console/stock/transfer",
        {"from_location_id": store, "to_location_id": store, "sku_0": "SKU0", "quantity_0": "1"},
    )
    assert field_errors(same.text) == {"to_location_id": "choose two different locations"}
    assert _level(client, org, shop.shop_id, shop.sku_ids[0]) == [5, 0, 5]


def test_store_manager_changes_only_its_stores(
    client: TestClient, container: Container, org: Org
) -> None:
    shop = build_shop(container, org, skus=1, stock=5)
    email = f"manager-{uuid.uuid4().hex[:6]}@example.com"
    with session_scope(container.sessions, org.id) as session:
        tenancy_users.create_user(
            session,
            owner(org.id),
            tenancy_schemas.UserCreate(
                email=email, password=PASSWORD, role=Role.STORE_MANAGER, store_ids=[shop.shop_id]
            ),
        )
    console_login(client, email)
    form = client.get("/console/stock/receipt").text
    assert f'value="{shop.shop_id}"' in form
    assert f'value="{shop.warehouse_id}"' not in form
    outside = submit(
        client,
        "/console/stock/receipt",
        "/console/stock/receipt",
        {"location_id": str(shop.warehouse_id), "sku_0": "SKU0", "quantity_0": "1"},
    )
    assert outside.status_code == 404
    inside = submit(
        client,
        "/console/stock/receipt",
        "/console/stock/receipt",
        {"location_id": str(shop.shop_id), "sku_0": "SKU0", "quantity_0": "1"},
    )
    assert inside.status_code == 303, inside.text
    assert _level(client, org, shop.shop_id, shop.sku_ids[0]) == [6, 0, 6]
    assert _level(client, org, shop.warehouse_id, shop.sku_ids[0]) == [5, 0, 5]


def test_stock_list_pages_with_totals(client: TestClient, container: Container, org: Org) -> None:
    build_shop(container, org, skus=30, stock=1)  # 30 SKUs x 4 locations = 120 levels
    console_login(client, org.owner_email)
    first = client.get("/console/stock").text
    assert text(first, "stock-count") == "120 stock levels"
    assert len(rows(first, "data-level")) == 50
    assert "1–50 of 120" in first
    assert 'rel="next" href="http://testserver/console/stock?page=2"' in first
    third = client.get("/console/stock?page=3").text
    assert len(rows(third, "data-level")) == 20
    assert "101–120 of 120" in third
    assert 'rel="next"' not in third
    assert client.get("/console/stock?page=0").status_code == 422
