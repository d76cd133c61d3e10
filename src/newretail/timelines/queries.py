"""Timeline read model: one member's events from the warehouse `event` table (Ibis).

One pushed-down query per page: filters, keyset condition, order and limit all run in the
engine (DuckDB, PostgreSQL or PySpark); only the page's rows come back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import ibis

from newretail.warehouse.connection import EVENT_TABLE

Expr = Any  # an Ibis table expression (ibis ships no type stubs)

TIMELINE_COLUMNS = (
    "message_id",
    "type",
    "ts",
    "channel",
    "store_id",
    "brand_id",
    "amount",
    "properties",
)


@dataclass(frozen=True)
class TimelineWindow:
    """What one timeline page asks the warehouse for."""

    organization_id: str
    member_id: str
    types: Sequence[str] = ()
    channel: str | None = None
    ts_from: datetime | None = None  # inclusive
    ts_to: datetime | None = None  # exclusive
    store_ids: Sequence[str] | None = None  # a store manager's scope; None: every store
    after: tuple[datetime, str] | None = None  # keyset: (ts, message_id) of the last row seen
    descending: bool = False


def timeline(con: Any, window: TimelineWindow, limit: int) -> Expr:
    """The member's events in (ts, message_id) order, at most `limit` rows after the cursor."""
    event = con.table(EVENT_TABLE)
    conditions = [
        event.organization_id == window.organization_id,
        event.member_id == window.member_id,
    ]
    if window.types:
        conditions.append(event.type.isin(list(window.types)))
    if window.channel is not None:
        conditions.append(event.channel == window.channel)
    if window.ts_from is not None:
        conditions.append(event.ts >= window.ts_from)
    if window.ts_to is not None:
        conditions.append(event.ts < window.ts_to)
    if window.store_ids is not None:
        conditions.append(event.store_id.isin(list(window.store_ids)))
    if window.after is not None:
        ts, message_id = window.after
        cursor_ts = ibis.literal(ts, type="timestamp('UTC')")
        if window.descending:
            keyset = (event.ts < cursor_ts) | (
                (event.ts == cursor_ts) & (event.message_id < message_id)
            )
        else:
            keyset = (event.ts > cursor_ts) | (
                (event.ts == cursor_ts) & (event.message_id > message_id)
            )
        conditions.append(keyset)
    rows = event.filter(*conditions).select(*TIMELINE_COLUMNS)
    if window.descending:
        rows = rows.order_by([ibis.desc("ts"), ibis.desc("message_id")])
    else:
        rows = rows.order_by(["ts", "message_id"])
    return rows.limit(limit)
