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
    # a POS sale of goods in hand is recorded beyond the system's stock (issue 11, see
    # test_pos_sells_goods_in_hand_beyond_stock); moving stock stays strict
    too_many = client.post(
        "/api/v1/stock/transfers",
        headers=h,
        json={
            "from_location_id": shop,
            "to_location_id": counter,
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


def test_pos_sells_goods_in_hand_beyond_stock(client: TestClient, org: Org) -> None:
    """Issue 11: the till sells what the counter holds even when the system says 0; the stock
    goes negative and the store manager sees the discrepancy; a resend with other lines is a
    409 naming the order, the same resend the original order."""
    h = org.auth()
    shop, counter = (str(s) for s in org.store_ids)
    product = client.post(
        "/api/v1/products",
        headers=h,
        json={"brand_id": str(org.brand_id), "code": "TEA-2", "name": "Oolong"},
    ).json()
    sku = client.post(
        f"/api/v1/products/{product['id']}/skus",
        headers=h,
        json={"code": "TEA-2-50G", "name": "Oolong 50 g", "prices": {"store": "30.00"}},
    ).json()
    client.post(
        "/api/v1/stock/receipts",
        headers=h,
        json={"location_id": shop, "lines": [{"sku_id": sku["id"], "quantity": 1}]},
    )
    sale = {
        "store_id": shop,
        "external_order_id": "till-9-0001",
        "lines": [{"sku_id": sku["id"], "quantity": 3}],
    }
    first = client.post("/api/v1/orders/pos", headers=h, json=sale)
    assert first.status_code == 201, first.text
    assert (first.json()["status"], first.json()["total_amount"]) == ("fulfilled", "90.00")
    level = client.get(f"/api/v1/stock-levels/{shop}/{sku['id']}", headers=h).json()
    assert (level["on_hand"], level["available"]) == (-2, -2)
    listed = client.get("/api/v1/stock/discrepancies", headers=h).json()
    assert [
        (d["location_code"], d["sku_code"], d["on_hand"], d["shortfall"], d["last_sale_order_id"])
        for d in listed
    ] == [("S0", "TEA-2-50G", -2, 2, first.json()["id"])]
    assert client.get(f"/api/v1/stock/discrepancies?location_id={counter}", headers=h).json() == []
    same = client.post("/api/v1/orders/pos", headers=h, json=sale)
    assert (same.status_code, same.json()["id"]) == (200, first.json()["id"])
    other = client.post(
        "/api/v1/orders/pos",
        headers=h,
        json={**sale, "lines": [{"sku_id": sku["id"], "quantity": 2}]},
    )
    assert other.status_code == 409
    problem = other.json()
    assert (problem["code"], problem["field"]) == ("idempotency_conflict", "lines")
    assert "till-9-0001" in problem["message"] and first.json()["id"] in problem["message"]
    online = client.post(
        "/api/v1/stock/transfers",
        headers=h,
        json={
            "from_location_id": shop,
            "to_location_id": counter,
            "lines": [{"sku_id": sku["id"], "quantity": 1}],
        },
    )
    assert (online.status_code, online.json()["code"]) == (409, "out_of_stock")
    client.post(
        "/api/v1/stock/receipts",
        headers=h,
        json={"location_id": shop, "lines": [{"sku_id": sku["id"], "quantity": 2}]},
    )
    assert client.get("/api/v1/stock/discrepancies", headers=h).json() == []
