"""The commerce API end to end through the ASGI client."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import Org


def test_catalogue_stock_and_orders_over_http(client: TestClient, org: Org) -> None:
    h = org.auth()
    shop, counter = (str(s) for s in org.store_ids)
    product = client.post(
        "/api/v1/products",
        headers=h,
        json={
            "brand_id": str(org.brand_id),
            "code": "TEA-1",
            "name": "Longjing",
            "category_path": "Tea/Green",
            "image_urls": ["https://img.example.com/1.jpg"],
        },
    )
    assert product.status_code == 201, product.text
    product_id = product.json()["id"]
    sku = client.post(
        f"/api/v1/products/{product_id}/skus",
        headers=h,
        json={
            "code": "TEA-1-50G",
            "name": "Longjing 50 g",
            "barcode": "6901234567892",
            "prices": {"store": "88.00", "counter": "90.00", "online": "79.00"},
        },
    )
    assert sku.status_code == 201, sku.text
    sku_id = sku.json()["id"]
    assert sku.json()["prices"] == {"counter": "90.00", "online": "79.00", "store": "88.00"}
    duplicate = client.post(
        f"/api/v1/products/{product_id}/skus",
        headers=h,
        json={"code": "TEA-1-100G", "name": "x", "barcode": "6901234567892"},
    )
    assert duplicate.status_code == 409
    unknown = client.post(
        "/api/v1/products",
        headers=h,
        json={"brand_id": str(org.brand_id), "code": "X", "name": "x", "colour": "red"},
    )
    assert unknown.status_code == 422
    override = client.put(
        f"/api/v1/skus/{sku_id}/stores/{shop}/price", headers=h, json={"amount": "85.50"}
    )
    assert override.status_code == 200
    price = client.get(f"/api/v1/skus/{sku_id}/stores/{shop}/price", headers=h).json()
    assert (price["amount"], price["source"]) == ("85.50", "store")
    receipt = client.post(
        "/api/v1/stock/receipts",
        headers=h,
        json={"location_id": shop, "lines": [{"sku_id": sku_id, "quantity": 3}], "note": "PO-1"},
    )
    assert receipt.status_code == 201, receipt.text
    client.put(
        f"/api/v1/stock-levels/{shop}/{sku_id}/threshold",
        headers=h,
        json={"low_stock_threshold": 2},
    )
    sale = {
        "store_id": shop,
        "external_order_id": "till-1-0001",
        "lines": [{"sku_id": sku_id, "quantity": 2}],
    }
    first = client.post("/api/v1/orders/pos", headers=h, json=sale)
    assert first.status_code == 201, first.text
    assert first.json()["total_amount"] == "171.00"
    again = client.post("/api/v1/orders/pos", headers=h, json=sale)
    assert (again.status_code, again.json()["id"]) == (200, first.json()["id"])
    low = client.get("/api/v1/stock-levels/low", headers=h).json()
    assert [(r["sku_code"], r["available"]) for r in low] == [("TEA-1-50G", 1)]
    too_many = client.post(
        "/api/v1/orders/pos",
        headers=h,
        json={
            **sale,
            "external_order_id": "till-1-0002",
            "lines": [{"sku_id": sku_id, "quantity": 2}],
        },
    )
    assert too_many.status_code == 409
    assert too_many.json()["code"] == "out_of_stock"
    assert "TEA-1-50G" in too_many.json()["message"]
    transfer = client.post(
        "/api/v1/stock/transfers",
        headers=h,
        json={
            "from_location_id": shop,
            "to_location_id": counter,
            "lines": [{"sku_id": sku_id, "quantity": 1}],
        },
    )
    assert transfer.status_code == 201, transfer.text
    order_id = first.json()["id"]
    line_id = first.json()["lines"][0]["id"]
    refund = client.post(
        f"/api/v1/orders/{order_id}/refunds",
        headers=h,
        json={"lines": [{"order_line_id": line_id, "quantity": 1}], "reason": "damaged"},
    )
    assert refund.status_code == 201, refund.text
    assert refund.json()["amount"] == "85.50"
    levels = client.get(f"/api/v1/stock-levels?sku_id={sku_id}", headers=h).json()
    assert {(r["location_id"], r["on_hand"]) for r in levels} == {(shop, 1), (counter, 1)}
    listed = client.get(
        f"/api/v1/orders?channel=store&store_id={shop}&status=partially_refunded", headers=h
    ).json()
    assert [o["id"] for o in listed["items"]] == [order_id]
    ledger = client.get(f"/api/v1/stock/movements?sku_id={sku_id}", headers=h).json()["items"]
    assert sorted(m["reason"] for m in ledger) == [
        "receipt",
        "refund",
        "sale",
        "transfer_in",
        "transfer_out",
    ]
    assert client.post(f"/api/v1/orders/{order_id}/cancel", headers=h).json()["code"] == (
        "invalid_transition"
    )
