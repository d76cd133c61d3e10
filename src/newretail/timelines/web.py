"""The member page's timeline section: events from every channel, newest first, with filters.

The member page (members/web.py) calls `member_timeline` and includes
`timelines/member_timeline.html`. Its query parameters carry a `tl_` prefix so they never clash
with the page's other sections.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import Request
from sqlalchemy.orm import Session

from newretail.console.params import optional_day
from newretail.console.shell import page_locale
from newretail.core.errors import InvalidInput
from newretail.core.i18n import Translate, translator
from newretail.events.taxonomy import BUILT_IN, FACT_EVENTS
from newretail.tenancy import auth
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.models import ChannelType
from newretail.timelines import service
from newretail.warehouse.connection import Warehouse

PAGE_SIZE = 50
# The event types offered by the filter: the collector's built-in types, then commerce facts.
TIMELINE_TYPES = (*BUILT_IN, *FACT_EVENTS)
CHANNELS = tuple(c.value for c in ChannelType if c != ChannelType.WAREHOUSE)
# properties worth a glance in the table, in this order (not a coupon fact's order_ref: the
# order's internal id; the sale's own rows beside it show the order)
_SHOWN_PROPERTIES = (
    "district",
    "category",
    "sku",
    "product_name",
    "query",
    "rating",
    "offer",
    "campaign",
    "stage",
    "screen_id",
    "dwell_s",
    "distance_m",
    "fulfilment_type",
    "kind",
    "purpose",
)


@dataclass(frozen=True)
class TimelineQuery:
    types: tuple[str, ...] = ()
    channel: str = ""
    date_from: str = ""
    date_to: str = ""
    cursor: str = ""

    def link(self, cursor: str | None = None) -> str:
        """The query string of this filter (and a page cursor)."""
        pairs: list[tuple[str, str]] = [("tl_type", t) for t in self.types]
        for key, value in (
            ("tl_channel", self.channel),
            ("tl_from", self.date_from),
            ("tl_to", self.date_to),
            ("tl_cursor", cursor or ""),
        ):
            if value:
                pairs.append((key, value))
        return urlencode(pairs)


@dataclass
class TimelineSection:
    query: TimelineQuery
    rows: list[dict[str, Any]] = field(default_factory=list)
    next_cursor: str | None = None
    error_field: str | None = None
    error: str | None = None
    types: tuple[str, ...] = TIMELINE_TYPES
    channels: tuple[str, ...] = CHANNELS


# property values that are codes read through these catalogue prefixes (others are shown as sent)
_VALUE_LABELS = {"kind": "ledger.", "purpose": "consent.purpose."}


def _label(t: Translate, key: str) -> str:
    """The catalogue's text for a key, or "" when the catalogue has none."""
    text = t(key)
    return "" if text == key else text


def _details(properties: dict[str, Any], t: Translate) -> str:
    """A short reading of an event's properties for the table, in the page's language."""
    parts = []
    for key in _SHOWN_PROPERTIES:
        value = properties.get(key)
        if value in (None, ""):
            continue
        prefix = _VALUE_LABELS.get(key)
        shown = (_label(t, f"{prefix}{value}") if prefix else "") or str(value)
        parts.append(f"{_label(t, f'timelines.property.{key}') or key} {shown}")
    lines = properties.get("lines")
    if isinstance(lines, list):
        codes = [str(line.get("sku_code")) for line in lines if isinstance(line, dict)]
        parts.append(" · ".join(c for c in codes if c != "None"))
    return " · ".join(p for p in parts if p)


def member_timeline(
    request: Request, session: Session, identity: auth.ConsoleIdentity, member_id: uuid.UUID
) -> TimelineSection:
    """The timeline section of the member page, from the page's `tl_*` query parameters."""
    params = request.query_params
    channel = params.get("tl_channel", "")
    query = TimelineQuery(
        types=tuple(t for t in params.getlist("tl_type") if t),
        channel=channel if channel in CHANNELS else "",
        date_from=params.get("tl_from", ""),
        date_to=params.get("tl_to", ""),
        cursor=params.get("tl_cursor", ""),
    )
    section = TimelineSection(query)
    principal = identity.principal
    warehouse: Warehouse = request.app.state.container.warehouse
    try:
        filters = service.TimelineFilter(
            types=query.types,
            channel=query.channel or None,
            start=optional_day(query.date_from, "tl_from"),
            end=optional_day(query.date_to, "tl_to"),
        )
        page = service.member_timeline(
            session,
            warehouse,
            principal,
            member_id,
            filters,
            PAGE_SIZE,
            query.cursor or None,
            descending=True,
        )
    except InvalidInput as exc:
        section.error_field, section.error = exc.field, exc.message
        return section
    stores = {
        str(s.id): s
        for s in tenancy_service.all_stores(session, principal, tenancy_service.StoreFilter())
    }
    zone = ZoneInfo(identity.organization.time_zone)
    t = translator(page_locale(request, identity))
    for event in page.items:
        store = stores.get(event.store_id or "")
        section.rows.append(
            {
                "type": event.type,
                "at": _local(event.ts, zone),
                "channel": event.channel,
                "store_name": store.name if store else None,
                "store_code": store.code if store else None,
                "amount": event.amount,
                "details": _details(event.properties, t),
                "message_id": event.message_id,
            }
        )
    section.next_cursor = page.next_cursor
    return section


def _local(ts: datetime, zone: ZoneInfo) -> str:
    return ts.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
