"""Hand-built event histories for the Data Bank tests."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import count
from typing import Any

import ibis
import pyarrow as pa

from newretail.core.database import session_scope
from newretail.tenancy.models import CrowdFloor
from newretail.warehouse.connection import EVENT_SCHEMA, EVENT_TABLE, ensure_schema

DAY0 = date(2026, 3, 1)
_ids = count(1)


def day(offset: int) -> date:
    return DAY0 + timedelta(days=offset)


def event(
    organization_id: str,
    type_: str,
    on: date,
    member: str | None,
    brand: str | None = None,
    *,
    properties: dict[str, Any] | None = None,
    at: time = time(12, 0),
    store: str | None = "store-1",
    channel: str | None = "store",
) -> dict[str, Any]:
    """One warehouse event row dated `on` (UTC)."""
    ts = datetime.combine(on, at, tzinfo=UTC)
    return {
        "organization_id": organization_id,
        "message_id": f"msg-{next(_ids):08d}",
        "type": type_,
        "ts": ts,
        "received_at": ts,
        "brand_id": brand,
        "store_id": store,
        "channel": channel,
        "member_id": member,
        "anonymous_id": None,
        "amount": Decimal("10.00"),  # PySpark memtables refuse null decimals
        "properties": json.dumps(properties or {}),
    }


def load(con: Any, rows: list[dict[str, Any]]) -> None:
    """Append event rows to the warehouse event table."""
    ensure_schema(con)
    if rows:
        table = pa.Table.from_pylist(rows, schema=EVENT_SCHEMA.to_pyarrow())
        con.insert(EVENT_TABLE, ibis.memtable(table))


def new_org() -> str:
    return str(uuid.uuid4())


def count_everyone(sessions: Any, organization_id: Any) -> None:
    """Set the organisation's crowd floor to 1, so these few members' counts are all shown
    (tests/databank/test_crowd_floor.py tests the floor itself)."""
    with session_scope(sessions, organization_id) as session:
        session.add(CrowdFloor(organization_id=organization_id, min_crowd_size=1))
