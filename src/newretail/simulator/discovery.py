"""What the traffic simulator reads of an organisation before it plans: the active stores,
SKUs, stock and some members' phones, through the public API (so it works against any
server)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from newretail.simulator.client import ApiClient, expect
from newretail.simulator.world import SkuInfo, StoreInfo, World

MEMBER_SAMPLE = 5000  # existing members' phones read for the shoppers who are members
STOCK_PAGE = 5000  # the stock levels API's largest page

# what a store of the API gives the simulator under the same name
STORE_FIELDS = (
    "id",
    "code",
    "name",
    "channel_type",
    "brand_id",
    "city",
    "district",
    "latitude",
    "longitude",
    "time_zone",
)


def same_names(row: Mapping[str, Any], *names: str) -> dict[str, Any]:
    """The fields of an API row that the simulator keeps under the same names."""
    return {name: row[name] for name in names}


def discover_world(api: ApiClient) -> World:
    """The organisation's active stores, SKUs, stock and some members, through the API."""
    stores = tuple(
        StoreInfo(
            **same_names(s, *STORE_FIELDS),
            opening_hours={
                day: [list(span) for span in spans]
                for day, spans in (s["opening_hours"] or {}).items()
            },
        )
        for s in api.pages("/api/v1/stores", status="active")
        if s["channel_type"] != "warehouse"
    )
    categories = {p["id"]: p["category_path"] for p in api.pages("/api/v1/products")}
    skus = tuple(
        SkuInfo(
            **same_names(s, "id", "code", "product_id", "brand_id"),
            category=categories.get(s["product_id"], ""),
            prices={channel: Decimal(amount) for channel, amount in s["prices"].items()},
            channels=tuple(s["channels"]),
            overrides={o["store_id"]: o["available"] for o in s["store_availability"]},
        )
        for s in api.pages("/api/v1/skus")
        if s["status"] == "active"
    )
    stock: dict[tuple[str, str], int] = {}
    offset = 0
    while True:
        response = api.request(
            "GET", "/api/v1/stock-levels", params={"limit": STOCK_PAGE, "offset": offset}
        )
        expect(response, 200, "/api/v1/stock-levels")
        levels = response.json()
        for level in levels:
            stock[(level["location_id"], level["sku_id"])] = int(level["available"])
        if len(levels) < STOCK_PAGE:
            break
        offset += len(levels)
    phones: list[str] = []
    for member in api.pages("/api/v1/members"):
        if member.get("phone"):
            phones.append(member["phone"])
        if len(phones) >= MEMBER_SAMPLE:
            break
    return World(stores, skus, stock, tuple(sorted(phones)))
