"""The rows an order writes, each built in one place: the order row, its line rows, the event
lines every order event carries, and the outbox row of an order event.

The PostgreSQL one-statement POS sale (`orders.pos_postgres`) writes the same rows in SQL; the
tests compare the two forms.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session, class_mapper
from sqlalchemy.orm.attributes import set_committed_value

from newretail.core.database import utcnow
from newretail.events.models import OutboxMessage
from newretail.orders.models import Order, OrderLine

ZERO = Decimal("0.00")
CURRENCY = "CNY"

ORDER_TABLE: Table = Order.__table__  # type: ignore[assignment]
ORDER_LINE_TABLE: Table = OrderLine.__table__  # type: ignore[assignment]
OUTBOX_TABLE: Table = OutboxMessage.__table__  # type: ignore[assignment]
INSERT_LINES = insert(ORDER_LINE_TABLE)
INSERT_OUTBOX = insert(OUTBOX_TABLE)

# what an order event's outbox row takes from its order
EVENT_ORDER_KEYS = (
    "id",
    "organization_id",
    "brand_id",
    "store_id",
    "channel",
    "member_id",
    "external_order_id",
    "fulfilment_type",
    "currency",
)


def order_row(
    *,
    order_id: uuid.UUID,
    organization_id: uuid.UUID,
    store_id: uuid.UUID,
    channel: str | None,
    brand_id: uuid.UUID | None,
    member_id: uuid.UUID | None,
    external_order_id: str | None,
    status: str,
    fulfilment_type: str,
    total_amount: Decimal | None,
    placed_at: datetime,
    paid_at: datetime | None,
    fulfilled_at: datetime | None,
    actor: str,
    now: datetime,
    pickup_store_id: uuid.UUID | None = None,
    ship_latitude: float | None = None,
    ship_longitude: float | None = None,
) -> dict[str, Any]:
    """The values of a new order row, every column named (a bulk insert writes them as is)."""
    return {
        "id": order_id,
        "organization_id": organization_id,
        "created_at": now,
        "store_id": store_id,
        "channel": channel,
        "brand_id": brand_id,
        "member_id": member_id,
        "external_order_id": external_order_id,
        "status": str(status),
        "fulfilment_type": str(fulfilment_type),
        "pickup_store_id": pickup_store_id,
        "ship_latitude": ship_latitude,
        "ship_longitude": ship_longitude,
        "currency": CURRENCY,
        "total_amount": total_amount,
        "refunded_amount": ZERO,
        "placed_at": placed_at,
        "paid_at": paid_at,
        "fulfilled_at": fulfilled_at,
        "cancelled_at": None,
        "actor": actor,
        "updated_at": None,
    }


def line_row(
    *,
    organization_id: uuid.UUID,
    order_id: uuid.UUID,
    line_number: int,
    sku_id: uuid.UUID,
    brand_id: uuid.UUID,
    quantity: int,
    unit_price: Decimal,
    amount: Decimal,
    location_id: uuid.UUID | None,
    now: datetime,
    line_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    """The values of a new order line row."""
    return {
        "id": line_id or uuid.uuid4(),
        "organization_id": organization_id,
        "created_at": now,
        "order_id": order_id,
        "line_number": line_number,
        "sku_id": sku_id,
        "brand_id": brand_id,
        "quantity": quantity,
        "unit_price": unit_price,
        "amount": amount,
        "location_id": location_id,
        "refunded_quantity": 0,
    }


@dataclass(frozen=True)
class SkuFacts:
    """What events and points need to know of a sold SKU."""

    code: str
    product_id: uuid.UUID | None = None
    category: str | None = None
    category_path: str = ""  # the whole path, as offers' scopes name categories


def event_lines(lines: Sequence[Any], facts: Mapping[uuid.UUID, SkuFacts]) -> list[dict[str, Any]]:
    """The `lines` of an order event, from line rows (dicts) or `OrderLine` objects."""
    result = []
    for line in lines:
        get: Any = line.get if isinstance(line, dict) else lambda k, _l=line: getattr(_l, k)
        sku = facts.get(get("sku_id"))
        location_id = get("location_id")
        result.append(
            {
                "order_line_id": str(get("id")),
                "sku_id": str(get("sku_id")),
                "sku_code": sku.code if sku else None,
                "product_id": str(sku.product_id) if sku and sku.product_id else None,
                "category": sku.category if sku else None,
                "brand_id": str(get("brand_id")),
                "quantity": get("quantity"),
                "unit_price": str(get("unit_price")),
                "amount": str(get("amount")),
                "location_id": None if location_id is None else str(location_id),
            }
        )
    return result


def outbox_row(
    order: Mapping[str, Any],
    event_type: str,
    occurred_at: datetime,
    amount: Decimal,
    lines: list[dict[str, Any]],
    now: datetime,
    **extra: Any,
) -> dict[str, Any]:
    """The outbox row of an order event (`order` holds at least `EVENT_ORDER_KEYS`)."""
    return {
        "id": uuid.uuid4(),
        "created_at": now,
        "organization_id": order["organization_id"],
        "event_type": event_type,
        "occurred_at": occurred_at,
        "brand_id": order["brand_id"],
        "store_id": order["store_id"],
        "channel": order["channel"],
        "member_id": order["member_id"],
        "amount": amount,
        "published_at": None,
        "properties": {
            "order_id": str(order["id"]),
            "external_order_id": order["external_order_id"],
            "fulfilment_type": order["fulfilment_type"],
            "currency": order["currency"],
            "lines": lines,
            **extra,
        },
    }


def event_order(order: Order) -> dict[str, Any]:
    """What an order event's outbox row takes from a loaded order."""
    return {key: getattr(order, key) for key in EVENT_ORDER_KEYS}


def enqueue(
    session: Session,
    order: Order,
    event_type: str,
    occurred_at: datetime,
    amount: Decimal,
    lines: list[dict[str, Any]],
    **extra: Any,
) -> None:
    """Write an order event to the outbox in the caller's transaction."""
    insert_outbox(
        session,
        [outbox_row(event_order(order), event_type, occurred_at, amount, lines, utcnow(), **extra)],
    )


def insert_outbox(session: Session, rows: Iterable[dict[str, Any]]) -> None:
    """Insert outbox rows built by `outbox_row` (one executemany)."""
    rows = list(rows)
    if rows:
        session.connection().execute(INSERT_OUTBOX, rows)


_ORDER_CLASS = class_mapper(Order).class_manager
_LINE_CLASS = class_mapper(OrderLine).class_manager


def transient_order(values: dict[str, Any], lines: list[dict[str, Any]]) -> Order:
    """The order just inserted, as an object (no second read).

    Its attributes are set as loaded state, as the ORM does when it reads a row, skipping the
    constructor's per-attribute change events (about 50 µs of the POS hot path).
    """
    order = _ORDER_CLASS.new_instance()
    order.__dict__.update(values)
    line_objects = []
    for line in lines:
        line_object = _LINE_CLASS.new_instance()
        line_object.__dict__.update(line)
        line_objects.append(line_object)
    set_committed_value(order, "lines", line_objects)
    return order
