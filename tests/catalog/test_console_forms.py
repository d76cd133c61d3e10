"""The catalogue's console forms: a product and its SKUs created and edited, channel and
store prices set, through the ASGI client on SQLite and PostgreSQL; each result read back
through the API, each refusal shown on the form with the field at fault."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient

from tests.conftest import Org, console_login
from tests.console_pages import field_errors, rows, submit, text


def _product_id(response_location: str) -> str:
    return response_location.split("/console/catalog/", 1)[1].split("?", 1)[0]


def test_product_and_sku_created_and_edited(client: TestClient, org: Org) -> None:
    console_login(client, org.owner_email)
    created = submit(
        client,
        "/console/catalog/new",
        "/console/catalog/new",
        {
            "code": "TEA-1",
            "name": "Longjing",
            "brand_id": str(org.brand_id),
            "category_path": "Tea/Green",
        },
    )
    assert created.status_code == 303, created.text
    product_id = _product_id(created.headers["location"])
    assert created.headers["location"] == f"/console/catalog/{product_id}?saved=product"
    page = client.get(created.headers["location"])
    assert text(page.text, "saved") == "Product saved."
    api = client.get(f"/api/v1/products/{product_id}", headers=org.auth()).json()
    assert (api["code"], api["name"], api["brand_id"], api["category_path"], api["skus"]) == (
        "TEA-1",
        "Longjing",
        str(org.brand_id),
        "Tea/Green",
        [],
    )

    edited = submit(
        client,
        f"/console/catalog/{product_id}/edit",
        f"/console/catalog/{product_id}/edit",
        {"name": "Longjing 2026", "category_path": "Tea/Green/Spring", "status": "active"},
    )
    assert edited.status_code == 303, edited.text
    api = client.get(f"/api/v1/products/{product_id}", headers=org.auth()).json()
    assert (api["name"], api["category_path"], api["status"]) == (
        "Longjing 2026",
        "Tea/Green/Spring",
        "active",
    )

    sku = submit(
        client,
        f"/console/catalog/{product_id}/skus/new",
        f"/console/catalog/{product_id}/skus/new",
        {
            "code": "TEA-1-250",
            "name": "Longjing 250 g",
            "barcode": "6901234500017",
            "channel_online": "on",
            "channel_store": "on",
            "price_online": "128",
            "price_store": "¥1,128.50",
        },
    )
    assert sku.status_code == 303, sku.text
    assert sku.headers["location"] == f"/console/catalog/{product_id}?saved=sku"
    (sku_api,) = client.get(f"/api/v1/products/{product_id}", headers=org.auth()).json()["skus"]
    assert (sku_api["code"], sku_api["barcode"], sku_api["channels"], sku_api["prices"]) == (
        "TEA-1-250",
        "6901234500017",
        ["online", "store"],
        {"online": "128.00", "store": "1128.50"},
    )
    sku_id = sku_api["id"]

    sku_edit = f"/console/catalog/{product_id}/skus/{sku_id}/edit"
    form = client.get(sku_edit).text
    assert 'name="price_online" id="price_online" value="128.00"' in form
    changed = submit(
        client,
        sku_edit,
        sku_edit,
        {
            "name": "Longjing 250 g tin",
            "barcode": "6901234500017",
            "price_online": "118.00",
            "price_counter": "99.90",
            "status": "active",
        },
    )
    assert changed.status_code == 303, changed.text
    sku_api = client.get(f"/api/v1/skus/{sku_id}", headers=org.auth()).json()
    assert (sku_api["name"], sku_api["channels"], sku_api["prices"]) == (
        "Longjing 250 g tin",
        [],
        {"counter": "99.90", "online": "118.00", "store": "1128.50"},
    )

    shop = str(org.store_ids[0])
    store_price = submit(
        client,
        sku_edit,
        f"{sku_edit.removesuffix('/edit')}/store-price",
        {"store_id": shop, "amount": "95"},
    )
    assert store_price.status_code == 303, store_price.text
    resolved = client.get(f"/api/v1/skus/{sku_id}/stores/{shop}/price", headers=org.auth())
    assert (resolved.json()["amount"], resolved.json()["source"]) == ("95.00", "store")
    detail = client.get(f"/console/catalog/{product_id}").text
    assert "Store 0: ¥95.00" in detail
    cleared = submit(
        client,
        sku_edit,
        f"{sku_edit.removesuffix('/edit')}/store-price",
        {"store_id": shop, "amount": ""},
    )
    assert cleared.status_code == 303, cleared.text
    resolved = client.get(f"/api/v1/skus/{sku_id}/stores/{shop}/price", headers=org.auth())
    assert (resolved.json()["amount"], resolved.json()["source"]) == ("1128.50", "channel")
    assert rows(client.get("/console/catalog").text, "data-sku") == ["TEA-1-250"]
    # category levels the catalogue names are translated; the retailer's own stay as typed
    zh = client.get("/console/catalog", headers={"Accept-Language": "zh-CN"}).text
    assert "· 茶叶/绿茶/Spring</span>" in zh
    assert "· Tea/Green/Spring</span>" in client.get("/console/catalog").text


def test_refused_forms_show_the_field_at_fault(client: TestClient, org: Org) -> None:
    console_login(client, org.owner_email)
    blank = submit(
        client,
        "/console/catalog/new",
        "/console/catalog/new",
        {"code": "bad code!", "name": "", "brand_id": "", "category_path": ""},
    )
    assert blank.status_code == 422
    assert set(field_errors(blank.text)) == {"code", "name", "brand_id"}
    assert client.get("/api/v1/products", headers=org.auth()).json()["items"] == []

    first = submit(
        client,
        "/console/catalog/new",
        "/console/catalog/new",
        {"code": "P1", "name": "One", "brand_id": str(org.brand_id)},
    )
    assert first.status_code == 303
    product_id = _product_id(first.headers["location"])
    duplicate = submit(
        client,
        "/console/catalog/new",
        "/console/catalog/new",
        {"code": "P1", "name": "Two", "brand_id": str(org.brand_id)},
    )
    assert duplicate.status_code == 422
    assert field_errors(duplicate.text) == {"code": "a product with code 'P1' exists"}

    price = submit(
        client,
        f"/console/catalog/{product_id}/skus/new",
        f"/console/catalog/{product_id}/skus/new",
        {"code": "S1", "name": "One", "price_online": "twelve"},
    )
    assert price.status_code == 422
    assert field_errors(price.text) == {"price_online": "must be an amount such as 12.50"}
    zh = submit(
        client,
        f"/console/catalog/{product_id}/skus/new",
        f"/console/catalog/{product_id}/skus/new",
        {"code": "S1", "name": "One", "price_online": "twelve"},
        **{"Accept-Language": "zh-CN"},
    )
    assert field_errors(zh.text) == {"price_online": "须为金额，例如 12.50"}
    assert client.get(f"/api/v1/products/{product_id}", headers=org.auth()).json()["skus"] == []
    assert client.get(f"/console/catalog/{product_id}/skus/{uuid.uuid4()}/edit").status_code == 404
