"""What the traffic simulator knows about an organisation: stores, SKUs, stock, members.

Read through the public API (so the simulator works against any server) and kept as plain
frozen data, so the traffic model (`traffic.py`) is a pure function of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

POS_CHANNELS = ("store", "counter", "popup", "vending")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# assumed when a store has no opening hours for the day
DEFAULT_HOURS = (10 * 60, 22 * 60)


@dataclass(frozen=True)
class StoreInfo:
    id: str
    code: str
    name: str
    channel_type: str
    brand_id: str | None = None
    city: str | None = None
    district: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    opening_hours: dict[str, list[list[str]]] = field(default_factory=dict)
    time_zone: str = "Asia/Shanghai"

    def open_spans(self, day: date) -> list[tuple[int, int]]:
        """The day's opening spans in minutes after local midnight (default 10:00–22:00)."""
        if not self.opening_hours:
            return [DEFAULT_HOURS]
        spans = self.opening_hours.get(WEEKDAYS[day.weekday()], [])
        return [(_minutes(opens), _minutes(closes)) for opens, closes in spans]

    def local(self, day: date, minute: int) -> datetime:
        """The aware local time `minute` minutes after the day's midnight."""
        midnight = datetime.combine(day, time(), ZoneInfo(self.time_zone))
        return midnight + timedelta(minutes=minute)


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


@dataclass(frozen=True)
class SkuInfo:
    id: str
    code: str
    product_id: str
    brand_id: str
    category: str
    prices: dict[str, Decimal]
    channels: tuple[str, ...] = ()
    # store id -> the store's availability override
    overrides: dict[str, bool] = field(default_factory=dict)

    def sold_at(self, store: StoreInfo) -> bool:
        """The catalogue's rule: the store's override, else the SKU's channel list."""
        channel = store.channel_type
        if channel not in self.prices:
            return False
        if store.id in self.overrides:
            return self.overrides[store.id]
        return not self.channels or channel in self.channels


@dataclass(frozen=True)
class World:
    """An organisation as the simulator sees it."""

    stores: tuple[StoreInfo, ...]
    skus: tuple[SkuInfo, ...] = ()
    # (location id, SKU id) -> available units
    stock: dict[tuple[str, str], int] = field(default_factory=dict)
    # phones of existing members (some shoppers are them)
    member_phones: tuple[str, ...] = ()

    def of_channel(self, *channels: str) -> list[StoreInfo]:
        return [s for s in self.stores if s.channel_type in channels]

    def assortment(self, store: StoreInfo) -> list[SkuInfo]:
        """What a store sells: stocked SKUs at a till, the brand's range elsewhere."""
        if store.channel_type in POS_CHANNELS:
            return [
                s for s in self.skus if s.sold_at(store) and self.stock.get((store.id, s.id), 0) > 0
            ]
        return [
            s
            for s in self.skus
            if s.sold_at(store) and (store.brand_id is None or s.brand_id == store.brand_id)
        ]
