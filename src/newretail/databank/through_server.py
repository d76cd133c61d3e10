"""The Data Bank commands through the running server's API (newretail.core.local_server).

While a server holds the embedded DuckDB warehouse, the CLI cannot open it; these calls ask
that server instead and answer in the same shapes as the local service calls.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
from typing import Any

import httpx

from newretail.core.local_server import request_json
from newretail.databank.snapshots import SnapshotMode

API = "/api/v1/databank"
POLL_SECONDS = 0.5


def _brand(brand_id: str | None) -> dict[str, str]:
    return {"brand_id": brand_id} if brand_id else {}


def snapshot(client: httpx.Client, on: date, mode: SnapshotMode) -> dict[str, Any]:
    """Materialise one day in the server."""
    body = {"date": on.isoformat(), "mode": mode.value}
    runs: list[dict[str, Any]] = request_json(client, "POST", f"{API}/snapshots", json=body)
    return runs[0]


def backfill(
    client: httpx.Client,
    first: date,
    last: date,
    on_progress: Callable[[int, int, str | None], None],
) -> list[dict[str, Any]]:
    """Materialise every day first … last in the server, reporting (done, total, last day)."""
    body = {"from_date": first.isoformat(), "to_date": last.isoformat(), "recompute": True}
    state = request_json(client, "POST", f"{API}/backfills", json=body)
    while True:
        runs = state["runs"]
        on_progress(state["done"], state["total"], runs[-1]["date"] if runs else None)
        if state["status"] != "running":
            break
        time.sleep(POLL_SECONDS)
        state = request_json(client, "GET", f"{API}/backfills/{state['id']}")
    if state["status"] == "failed":
        raise BackfillFailed(state["error"] or "the backfill failed in the server")
    return list(state["runs"])


class BackfillFailed(RuntimeError):
    """The server reported the backfill as failed (its log has the details)."""


def stages(client: httpx.Client, on: date, brand_id: str | None) -> dict[str, Any]:
    """Members per stage per brand on a day."""
    params = {"date": on.isoformat(), **_brand(brand_id)}
    found: dict[str, Any] = request_json(client, "GET", f"{API}/stages", params=params)
    return found


def flows(client: httpx.Client, first: date, last: date, brand_id: str | None) -> dict[str, Any]:
    """Stage flows between two days."""
    params = {"from": first.isoformat(), "to": last.isoformat(), **_brand(brand_id)}
    found: dict[str, Any] = request_json(client, "GET", f"{API}/flows", params=params)
    return found


def fast(client: httpx.Client, end: date, weeks: int, brand_id: str | None) -> list[dict[str, Any]]:
    """FAST per brand per week."""
    params = {"end": end.isoformat(), "weeks": str(weeks), **_brand(brand_id)}
    found: list[dict[str, Any]] = request_json(client, "GET", f"{API}/fast", params=params)
    return found
