"""The demo's history for the operations centre: every shop, counter and pop-up reports its
people counter (`footfall` events, one per opening hour, {"count": n}) over the seeded days,
consistent with its orders, and one store carries a planted problem the diagnosis must find
(docs/diagnosis.md, "The demo's planted problem"):

- at the Jing'an Kerry counter (SH-JA-COUNTER) the Vitamin C serum 50 ml (LB-VC-SERUM-50) is
  the best seller (about 30 % of the lines), and it is out of stock for the last 10 days: its
  stock reaches 0 with the last sale before them and no receipt follows, shoppers keep coming
  (the counter counts them) but its sales are missing — an order that only wanted it is lost;
- then the counter's people counter is silent for 3 days (4, 3 and 2 days ago) while the till
  keeps selling.

Everything else is drawn from a random generator of its own, so the rest of the demo (the
orders of every other store) is what it would be without the history.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from newretail.tenancy.models import ChannelType, Store

PLANTED_STORE = "SH-JA-COUNTER"
PLANTED_SKU = "LB-VC-SERUM-50"
BEST_SELLER_SHARE = 0.3  # of the planted store's order lines
STOCK_OUT_DAYS_AGO = (10, 1)  # the SKU is out of stock from 10 days ago to yesterday
COUNTER_SILENT_DAYS_AGO = (4, 2)  # the people counter sends nothing 4, 3 and 2 days ago
COUNTED = {ChannelType.STORE, ChannelType.COUNTER, ChannelType.POPUP}  # stores with a counter
CONVERSION = (0.12, 0.22)  # each counted store's usual paying conversion, drawn once
SEED = 15


@dataclass
class DiagnosisHistory:
    """The planted problem, and what the orders tell it: shoppers who came per store and
    hour (buyers and those who wanted a missing SKU)."""

    today: date = date.min  # seed_commerce sets its own today
    planted_store: str = PLANTED_STORE
    planted_sku: str = PLANTED_SKU
    rng: random.Random = field(default_factory=lambda: random.Random(SEED))  # noqa: S311
    arrivals: Counter[tuple[uuid.UUID, datetime]] = field(default_factory=Counter)
    lost_orders: int = 0
    lost_lines: int = 0

    def _days(self, span: tuple[int, int]) -> tuple[date, date]:
        return self.today - timedelta(days=span[0]), self.today - timedelta(days=span[1])

    @property
    def stock_out(self) -> tuple[date, date]:
        """The first and last day the planted SKU is out of stock."""
        return self._days(STOCK_OUT_DAYS_AGO)

    @property
    def counter_silent(self) -> tuple[date, date]:
        """The first and last day the planted store's people counter is silent."""
        return self._days(COUNTER_SILENT_DAYS_AGO)

    def planted(self, store: Store) -> bool:
        return store.code == self.planted_store

    def best_seller(self, store: Store, chosen: uuid.UUID, planted_sku: uuid.UUID) -> uuid.UUID:
        """The SKU of a line: at the planted store the best seller takes a share of lines."""
        if self.planted(store) and self.rng.random() < BEST_SELLER_SHARE:
            return planted_sku
        return chosen

    def out_of_stock(
        self, store: Store, sku_id: uuid.UUID, planted_sku: uuid.UUID, at: datetime
    ) -> bool:
        """Whether a line of this SKU cannot be sold: the planted SKU during its stock-out."""
        first, last = self.stock_out
        return self.planted(store) and sku_id == planted_sku and first <= at.date() <= last

    def arrived(self, store: Store, at: datetime) -> None:
        """A shopper who came to buy (whether or not the store had what they wanted)."""
        if store.channel_type in COUNTED:
            self.arrivals[(store.id, at.replace(minute=0, second=0, microsecond=0))] += 1

    def footfall(
        self, organization_id: uuid.UUID, stores: list[Store], first_day: date, now: datetime
    ) -> list[dict[str, Any]]:
        """Outbox rows of `footfall` events: each counted store, each seeded day, each opening
        hour (10:00–22:00 local), the hour's buyers plus the visitors who did not buy, so that
        the day's paying conversion is about the store's usual one; none from the planted
        store while its counter is silent."""
        silent_first, silent_last = self.counter_silent
        rows: list[dict[str, Any]] = []
        for store in sorted(stores, key=lambda s: s.code):
            if store.channel_type not in COUNTED:
                continue
            conversion = self.rng.uniform(*CONVERSION)
            day = first_day
            while day < self.today:
                start = datetime(day.year, day.month, day.day, tzinfo=now.tzinfo)
                hours = [start + timedelta(hours=h) for h in range(2, 14)]  # 10:00–21:00 local
                buyers = [self.arrivals[(store.id, hour)] for hour in hours]
                browsing = round(sum(buyers) * (1 / conversion - 1) * self.rng.uniform(0.9, 1.1))
                # busier at lunch (12:00–15:00) and after work (18:00–22:00)
                weights = [1 + (2 <= i <= 4) + (i >= 8) for i in range(len(hours))]
                extra = Counter(self.rng.choices(range(len(hours)), weights, k=browsing))
                silent = self.planted(store) and silent_first <= day <= silent_last
                if not silent:
                    for index, hour in enumerate(hours):
                        count = buyers[index] + extra[index]
                        rows.append(_footfall_row(organization_id, store, hour, count, now))
                day += timedelta(days=1)
        return rows


def _footfall_row(
    organization_id: uuid.UUID, store: Store, hour: datetime, count: int, now: datetime
) -> dict[str, Any]:
    """The counter's report of an hour, sent at its last minute."""
    return {
        "id": uuid.uuid4(),
        "created_at": now,
        "organization_id": organization_id,
        "event_type": "footfall",
        "occurred_at": hour + timedelta(minutes=59),
        "brand_id": store.brand_id,
        "store_id": store.id,
        "channel": store.channel_type,
        "member_id": None,
        "amount": None,
        "published_at": None,
        "properties": {"count": count, "sensor_id": f"{store.code}-door"},
    }
