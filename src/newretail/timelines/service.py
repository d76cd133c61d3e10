"""Member timelines: one member's events from every channel, in time order, paged by keyset."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from newretail.core.errors import InvalidInput
from newretail.core.pagination import MAX_LIMIT
from newretail.members import service as members_service
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.permissions import Permission, Principal
from newretail.timelines import queries
from newretail.warehouse.connection import Warehouse

MAX_TYPES = 50


@dataclass(frozen=True)
class TimelineFilter:
    """Event types (any of), one channel, and whole days in the organisation's time zone."""

    types: Sequence[str] = ()
    channel: str | None = None
    start: date | None = None
    end: date | None = None  # inclusive


@dataclass(frozen=True)
class TimelineEvent:
    type: str
    ts: datetime
    channel: str | None
    store_id: str | None
    brand_id: str | None
    message_id: str
    amount: Decimal | None
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TimelinePage:
    items: list[TimelineEvent]
    next_cursor: str | None


def encode_cursor(ts: datetime, message_id: str, descending: bool) -> str:
    """An opaque cursor after the row (ts, message_id), for one direction."""
    raw = json.dumps([ts.astimezone(UTC).isoformat(), message_id, "desc" if descending else "asc"])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, descending: bool) -> tuple[datetime, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        ts_text, message_id, order = json.loads(base64.urlsafe_b64decode(padded))
        ts = datetime.fromisoformat(ts_text)
        if ts.tzinfo is None or not isinstance(message_id, str):
            raise ValueError(cursor)
    except (ValueError, TypeError) as exc:
        raise InvalidInput("not a cursor from a previous page", field="query.cursor") from exc
    if order != ("desc" if descending else "asc"):
        raise InvalidInput("the cursor belongs to the other order", field="query.cursor")
    return ts, message_id


def _properties(raw: Any) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except (TypeError, ValueError):
        return {"_raw": raw}  # never hide what was stored
    return value if isinstance(value, dict) else {"_value": value}


def _check(filters: TimelineFilter, limit: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"must be between 1 and {MAX_LIMIT}", field="query.limit")
    if len(filters.types) > MAX_TYPES:
        raise InvalidInput(f"at most {MAX_TYPES} types", field="query.type")
    for value in filters.types:
        if not value or len(value) > 100:
            raise InvalidInput("an event type has 1 to 100 characters", field="query.type")
    if filters.channel is not None and not 1 <= len(filters.channel) <= 40:
        raise InvalidInput("a channel has 1 to 40 characters", field="query.channel")
    if filters.start and filters.end and filters.end < filters.start:
        raise InvalidInput("must not be before start", field="query.end")


def day_bounds(
    start: date | None, end: date | None, time_zone: str
) -> tuple[datetime | None, datetime | None]:
    """[start 00:00, the day after end 00:00) in the time zone, as UTC times."""
    zone = ZoneInfo(time_zone)
    low = datetime.combine(start, time(), zone).astimezone(UTC) if start else None
    high = datetime.combine(end + timedelta(days=1), time(), zone).astimezone(UTC) if end else None
    return low, high


def member_timeline(
    session: Session,
    warehouse: Warehouse,
    principal: Principal,
    member_id: uuid.UUID,
    filters: TimelineFilter,
    limit: int = 50,
    cursor: str | None = None,
    *,
    descending: bool = False,
) -> TimelinePage:
    """A member's events from every channel in time order (ts, then message id), one page.

    The member must exist in the caller's organisation (404 otherwise); a member merged into
    another shows the surviving member's timeline. Store managers see only events at their
    stores, like their orders.
    """
    principal.require(Permission.READ)
    _check(filters, limit)
    member = members_service.get_member(session, principal, member_id)
    # a member merged into another (OneID) has no events of its own: they moved with the merge
    canonical_id = member.canonical_id or member.id
    organization = tenancy_service.get_organization(session, principal.organization_id)
    ts_from, ts_to = day_bounds(filters.start, filters.end, organization.time_zone)
    after = decode_cursor(cursor, descending) if cursor else None
    window = queries.TimelineWindow(
        organization_id=str(principal.organization_id),
        member_id=str(canonical_id),
        types=tuple(filters.types),
        channel=filters.channel,
        ts_from=ts_from,
        ts_to=ts_to,
        store_ids=(
            sorted(str(s) for s in principal.store_ids) if principal.store_ids is not None else None
        ),
        after=after,
        descending=descending,
    )
    con = warehouse.connection()
    with warehouse.lock:
        rows = queries.timeline(con, window, limit + 1).to_pyarrow().to_pylist()
    items = [
        TimelineEvent(
            type=row["type"],
            ts=row["ts"].astimezone(UTC),
            channel=row["channel"],
            store_id=row["store_id"],
            brand_id=row["brand_id"],
            message_id=row["message_id"],
            amount=row["amount"],
            properties=_properties(row["properties"]),
        )
        for row in rows[:limit]
    ]
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        next_cursor = encode_cursor(last.ts, last.message_id, descending)
    return TimelinePage(items, next_cursor)
