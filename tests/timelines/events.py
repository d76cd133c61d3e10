"""Warehouse event rows for the timeline tests, written straight into the `event` table."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

import ibis
import pyarrow as pa

from newretail.bootstrap import Container
from newretail.warehouse.connection import EVENT_SCHEMA, EVENT_TABLE


def row(
    organization_id: object,
    member_id: object,
    message_id: str,
    type_: str,
    ts: datetime,
    *,
    channel: str | None = "store",
    store_id: object = None,
    brand_id: object = None,
    amount: str | None = None,
    properties: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "organization_id": str(organization_id),
        "message_id": message_id,
        "type": type_,
        "ts": ts,
        "received_at": ts,
        "brand_id": str(brand_id) if brand_id else None,
        "store_id": str(store_id) if store_id else None,
        "channel": channel,
        "member_id": str(member_id) if member_id else None,
        "profile_id": str(member_id) if member_id else None,
        "anonymous_id": None,
        "amount": Decimal(amount) if amount is not None else None,
        "properties": json.dumps(properties) if properties is not None else None,
    }


def load(container: Container, rows: list[dict[str, Any]]) -> None:
    """Append rows to the warehouse event table."""
    con = container.warehouse.connection()
    table = pa.Table.from_pylist(rows, schema=EVENT_SCHEMA.to_pyarrow())
    with container.warehouse.lock:
        con.insert(EVENT_TABLE, ibis.memtable(table))
