"""Choosing the stock location of an online cart line (docs/commerce.md, "Choosing the stock
location"): the locations that may fulfil it, best first, by fulfilment type and distance."""

from __future__ import annotations

import math
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from newretail.core.database import utcnow
from newretail.core.errors import InvalidInput
from newretail.inventory.models import StockLevel, StockLocation
from newretail.inventory.reads import unexpired_reserved
from newretail.tenancy.models import ChannelType, Store


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(a))


def origin_of(
    latitude: float | None, longitude: float | None, store: Store
) -> tuple[float, float] | None:
    """Where the goods go: the given point, else the selling store's, else unknown."""
    if latitude is not None and longitude is not None:
        return (latitude, longitude)
    if store.latitude is not None and store.longitude is not None:
        return (store.latitude, store.longitude)
    return None


def candidate_locations(
    session: Session,
    sku_id: uuid.UUID,
    quantity: int,
    fulfilment_type: str,
    origin: tuple[float, float] | None,
    pickup_store_id: uuid.UUID | None = None,
) -> list[uuid.UUID]:
    """Locations to try, best first (docs/commerce.md, "Choosing the stock location").

    - pickup_in_store: the pickup store only;
    - ship_from_store: stores that fulfil online orders, nearest to the origin first;
    - ship: those stores nearest first, then warehouses nearest first.
    Only rows that show enough available units now are listed; the guarded update decides.
    """
    if fulfilment_type == "pickup_in_store":
        if pickup_store_id is None:
            raise InvalidInput("pick-up needs a pickup_store_id", field="pickup_store_id")
        return [pickup_store_id]
    reserved = unexpired_reserved(utcnow())
    rows = session.execute(
        select(Store.id, Store.channel_type, Store.latitude, Store.longitude, Store.code)
        .join(StockLevel, StockLevel.location_id == Store.id)
        .outerjoin(StockLocation, StockLocation.location_id == Store.id)
        .where(
            StockLevel.sku_id == sku_id,
            StockLevel.on_hand - StockLevel.allocated - reserved >= quantity,
            Store.status == "active",
            (Store.channel_type == ChannelType.WAREHOUSE)
            | (StockLocation.fulfils_online.is_(True)),
        )
    ).all()

    def rank(row: Any) -> tuple[int, float, str]:
        is_warehouse = row.channel_type == ChannelType.WAREHOUSE
        if origin is None or row.latitude is None or row.longitude is None:
            far = math.inf
        else:
            far = distance_km(origin[0], origin[1], row.latitude, row.longitude)
        return (1 if is_warehouse else 0, far, row.code)

    ranked = sorted(rows, key=rank)
    if fulfilment_type == "ship_from_store":
        ranked = [r for r in ranked if r.channel_type != ChannelType.WAREHOUSE]
    return [r.id for r in ranked]
