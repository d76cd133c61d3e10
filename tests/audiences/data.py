"""A hand-built history for the audience tests: events and member dimension rows."""

from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal
from typing import Any

import pyarrow as pa

from newretail.audiences import dimensions
from newretail.audiences.tables import MEMBER_DIM_SCHEMA, ensure_audience_tables
from newretail.databank.tables import ensure_databank_tables
from tests.databank.history import event, load

AS_OF = date(2026, 4, 30)
BRAND, OTHER_BRAND = "brand-1", "brand-2"
BRANDS = [BRAND, OTHER_BRAND]


def ago(days: int) -> date:
    return AS_OF - timedelta(days=days)


def dim_row(organization_id: str, member: str, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "organization_id": organization_id,
        "member_id": member,
        "city": None,
        "gender": None,
        "birth_year": None,
        "tier": None,
        "points": 0,
        "anonymous": False,
        "marketing_sms": False,
        "marketing_push": False,
        "marketing_wechat": False,
        "marketing_email": False,
    }
    row.update(values)
    return row


def load_dims(con: Any, organization_id: str, rows: list[dict[str, Any]]) -> None:
    ensure_audience_tables(con)
    table = pa.Table.from_pylist(rows, schema=MEMBER_DIM_SCHEMA.to_pyarrow())
    dimensions.load_member_dim(con, organization_id, table)


def history(org: str) -> list[dict[str, Any]]:
    """Events of m1 … m9 (see each line); m10 has no event at all."""
    e = event
    return [
        # m1: two carts in the window (one for a shoe in Chinese), no purchase
        e(
            org,
            "add_to_cart",
            ago(3),
            "m1",
            BRAND,
            properties={"category": "鞋", "product_id": "p-1"},
        ),
        e(org, "add_to_cart", ago(10), "m1", BRAND, channel="online", store=None),
        # m2: cart and purchase (category inside the order lines), 250.00 in two orders
        e(org, "add_to_cart", ago(5), "m2", BRAND),
        _purchase(org, ago(4), "m2", "200.00", category="鞋", product="p-2"),
        _purchase(org, ago(40), "m2", "50.00", category="bags", product="p-3"),
        # m3: a cart 31 days ago (outside a 30-day window), purchase 90 days ago
        e(org, "add_to_cart", ago(30), "m3", BRAND),
        _purchase(org, ago(90), "m3", "10.00"),
        # m4: pop-up visit without brand, purchase exactly 30 days ago, the other brand
        e(org, "store_visit", ago(2), "m4", None, channel="popup", store="popup-1"),
        _purchase(org, ago(30), "m4", "80.00", brand=OTHER_BRAND),
        # m5: product views (interest) 3 days ago; purchase 364 days ago
        e(org, "product_view", ago(3), "m5", BRAND, channel="online"),
        _purchase(org, ago(364), "m5", "30.00"),
        # m6: purchase 365 days ago, a pop-up visit 100 days ago
        _purchase(org, ago(365), "m6", "30.00"),
        e(org, "store_visit", ago(100), "m6", BRAND, channel="popup", store="popup-1"),
        # m7: purchase 29 days ago; a cart tomorrow (after the reference date: ignored)
        _purchase(org, ago(29), "m7", "500.00"),
        e(org, "add_to_cart", ago(-1), "m7", BRAND),
        # m8: three carts of the other brand
        *(e(org, "add_to_cart", ago(d), "m8", OTHER_BRAND) for d in (1, 2, 2)),
        # m9: events but no member_dim row (merged away or unknown): never in an audience
        e(org, "add_to_cart", ago(1), "m9", BRAND),
    ]


def _purchase(
    org: str,
    on: date,
    member: str,
    amount: str,
    *,
    brand: str = BRAND,
    category: str | None = None,
    product: str | None = None,
) -> dict[str, Any]:
    lines = [{"product_id": product, "category": category, "amount": amount}]
    row = event(
        org,
        "purchase",
        on,
        member,
        brand,
        properties={"order_id": "o", "lines": lines},
        at=time(9, 30),
    )
    row["amount"] = Decimal(amount)
    return row


def dims(org: str) -> list[dict[str, Any]]:
    return [
        dim_row(
            org,
            "m1",
            city="Shanghai",
            gender="female",
            birth_year=1996,
            tier="Gold",
            points=1200,
            marketing_sms=True,
        ),
        dim_row(
            org,
            "m2",
            city="Beijing",
            gender="male",
            birth_year=1980,
            tier="Silver",
            points=300,
            marketing_push=True,
        ),
        dim_row(org, "m3", city="Shanghai", gender="female", birth_year=2010, points=50),
        dim_row(
            org,
            "m4",
            city="Hangzhou",
            birth_year=1960,
            tier="Gold",
            points=5000,
            marketing_sms=True,
            marketing_email=True,
        ),
        dim_row(org, "m5", city=None, gender="other", birth_year=2001),
        dim_row(org, "m6", city="Shenzhen", gender="male", birth_year=1990, points=0),
        dim_row(org, "m7", city="Beijing", gender="female", birth_year=1975, tier="Silver"),
        dim_row(org, "m8", city="Shanghai", gender="male", birth_year=1985),
        dim_row(org, "m10", anonymous=True),
    ]


def setup(con: Any, org: str) -> None:
    """Load the history and the member dimension of one organisation."""
    ensure_databank_tables(con)
    ensure_audience_tables(con)
    load(con, history(org))
    load_dims(con, org, dims(org))
