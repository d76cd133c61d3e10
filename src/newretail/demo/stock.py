"""Demo stock: a level and an opening receipt for every stocked (SKU, location), sized from
the seeded orders so that on hand = receipts − sales + refunds and stock never goes negative
along the way; a few levels end at or below their low-stock threshold."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from newretail.demo.catalog import DemoSku
from newretail.tenancy.models import ChannelType, Store

ACTOR = "demo"
THRESHOLDS: dict[str, int] = {ChannelType.WAREHOUSE: 30, ChannelType.VENDING: 4}
LOW_PAIRS = 8


@dataclass
class Demand:
    """Units per (SKU, location) the seeded orders sold, hold allocated and refunded."""

    sold: Counter[tuple[uuid.UUID, uuid.UUID]] = field(default_factory=Counter)
    allocated: Counter[tuple[uuid.UUID, uuid.UUID]] = field(default_factory=Counter)
    refunded: Counter[tuple[uuid.UUID, uuid.UUID]] = field(default_factory=Counter)


def opening_stock(
    organization_id: uuid.UUID,
    stores: list[Store],
    stocked: dict[uuid.UUID, list[DemoSku]],
    demand: Demand,
    rng: random.Random,
    received_at: datetime,
    emptied: Collection[tuple[uuid.UUID, uuid.UUID]] = (),
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
    """Stock levels and their opening receipts; a few levels end at or below the threshold;
    the (SKU, location) pairs `emptied` end at 0, sold out by their last sale."""
    by_id = {s.id: s for s in stores}
    pairs = [
        (location_id, sku)
        for location_id in sorted(stocked, key=lambda i: by_id[i].code)
        for sku in sorted(stocked[location_id], key=lambda s: s.code)
    ]
    candidates = [i for i, (loc, sku) in enumerate(pairs) if not demand.refunded[(sku.id, loc)]]
    low_pairs = set(rng.sample(candidates, min(LOW_PAIRS, len(candidates))))
    levels: list[dict[str, Any]] = []
    receipts: list[dict[str, Any]] = []
    for index, (location_id, sku) in enumerate(pairs):
        channel = by_id[location_id].channel_type
        threshold = THRESHOLDS.get(channel, 5)
        key = (sku.id, location_id)
        if index in low_pairs:
            left = rng.randint(0, threshold)
        elif channel == ChannelType.WAREHOUSE:
            left = rng.randint(150, 400)
        else:
            left = rng.randint(threshold * 2 + 2, threshold * 8)
        if key in emptied:
            left = 0
        received = left + demand.allocated[key] + demand.sold[key]
        levels.append(
            {
                "id": uuid.uuid4(),
                "organization_id": organization_id,
                "created_at": received_at,
                "sku_id": sku.id,
                "location_id": location_id,
                "on_hand": received - demand.sold[key] + demand.refunded[key],
                "allocated": demand.allocated[key],
                "reserved": 0,
                "low_stock_threshold": threshold,
                "updated_at": None,
            }
        )
        receipts.append(
            {
                "id": uuid.uuid4(),
                "organization_id": organization_id,
                "created_at": received_at,
                "sku_id": sku.id,
                "location_id": location_id,
                "delta": received,
                "reason": "receipt",
                "note": "opening stock",
                "actor": ACTOR,
                "reference": "demo:opening-stock",
            }
        )
    return levels, receipts, len(low_pairs)
