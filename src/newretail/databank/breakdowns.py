"""Breakdowns of the AIPL stages by the touchpoint that earned them, from one query.

The warehouse answers members per (brand, stage, channel, store, city, category) once; each
dimension is a roll-up of those few rows. A touchpoint without a `city` property takes its
store's city (the operational store knows it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from newretail.databank import queries
from newretail.databank.config import STAGES, DatabankConfig
from newretail.databank.snapshots import stage_table
from newretail.databank.tables import ensure_databank_tables

_ORDER = {s.value: i for i, s in enumerate(STAGES)}


def touchpoints(
    con: Any, organization_id: str, brands: Sequence[str], on: date, config: DatabankConfig
) -> list[dict[str, Any]]:
    """Members per brand, stage and the earning touchpoint's channel, store, city, category."""
    ensure_databank_tables(con)
    snapshot = stage_table(con, organization_id, brands, on, config)
    earned = queries.earning_events(con, organization_id, brands, snapshot, on, config)
    return list(queries.touchpoint_counts(earned).to_pyarrow().to_pylist())


def roll_up(
    rows: Sequence[Mapping[str, Any]], dimension: str, store_cities: Mapping[str, str | None]
) -> list[dict[str, Any]]:
    """Members per brand, stage and value of one dimension, the largest first per stage."""
    totals: dict[tuple[str, str, Any], int] = {}
    for row in rows:
        value = row[dimension]
        if dimension == "city" and value is None and row["store_id"] is not None:
            value = store_cities.get(row["store_id"])
        key = (row["brand_id"], row["stage"], value)
        totals[key] = totals.get(key, 0) + int(row["members"])
    ordered = sorted(
        totals.items(), key=lambda kv: (kv[0][0], _ORDER[kv[0][1]], -kv[1], str(kv[0][2]))
    )
    return [
        {"brand_id": brand, "stage": stage, "value": value, "members": members}
        for (brand, stage, value), members in ordered
    ]
