"""The traffic simulator's driver: reads the organisation, plans traffic, sends it over HTTP.

Everything goes through the public HTTP API of a running server: events to the collector
(`POST /api/v1/events`, write key), purchases to the orders API (POS sales and checkouts,
API key), so stock, points and the outbox `purchase` events stay consistent. Message ids and
order ids are deterministic, so a resent batch or a re-run with the same seed and end stores
nothing twice (the collector drops known message ids, POS and checkout replay known order
ids).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from newretail.core.errors import InvalidInput
from newretail.simulator.access import SimulatorAccess
from newretail.simulator.client import ApiClient, problem
from newretail.simulator.discovery import discover_world
from newretail.simulator.traffic import MAX_DAYS, Plan, Sale, plan_traffic
from newretail.simulator.world import World

BATCH = 500  # the collector's limit per request
RESTOCK_UNITS = 24
REPORTED_FAILURES = 20
SETTLE_SECONDS = 300  # at most, for the warehouse to show the events before the purchases

Step = Callable[[int], None]


@dataclass
class SimulationReport:
    """What a run sent and what the server answered."""

    organization: str
    url: str
    days: int
    rate: int
    seed: int
    end: str = ""
    shoppers: int = 0
    sessions: int = 0
    members_identified: int = 0
    events_sent: int = 0
    accepted: int = 0
    duplicates: int = 0
    failed: int = 0
    orders: int = 0
    orders_replayed: int = 0
    orders_failed: int = 0
    restocks: int = 0
    events_settled: bool = False  # the warehouse showed the events before the purchases
    events_by_type: dict[str, int] = field(default_factory=dict)
    orders_by_kind: dict[str, int] = field(default_factory=dict)
    failures: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


MAX_SEED = 999_999_999  # keeps order ids within the orders API's 100 characters


def check_arguments(days: int, rate: int, end: datetime | None, seed: int = 0) -> None:
    """The limits the collector imposes (events up to 365 days old, not in the future)."""
    if not 0 <= seed <= MAX_SEED:
        raise InvalidInput(f"must be between 0 and {MAX_SEED}", field="seed")
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"must be between 1 and {MAX_DAYS}", field="days")
    if not 0 <= rate <= 100_000:
        raise InvalidInput("must be between 0 and 100000 sessions a day", field="rate")
    if end is not None:
        if end.tzinfo is None:
            raise InvalidInput("must include a time zone", field="end")
        if end > datetime.now(UTC):
            raise InvalidInput("must not be in the future", field="end")


def run_simulation(
    url: str,
    access: SimulatorAccess,
    days: int,
    rate: int,
    seed: int,
    end: datetime | None = None,
    *,
    on_plan: Callable[[int], None] | None = None,
    step: Step | None = None,
) -> SimulationReport:
    """Plan `days` days of `rate` sessions a day and send them to the server at `url`.

    `on_plan(steps)` learns how many steps follow (event batches plus orders); `step(n)` is
    called as they are done (for a progress bar).
    """
    check_arguments(days, rate, end, seed)
    end = (end or datetime.now(UTC)).astimezone(UTC)
    api = ApiClient(url, access)
    try:
        world = discover_world(api)
        plan = plan_traffic(world, days, rate, seed, end)
        report = SimulationReport(
            organization=access.slug, url=api.url, days=days, rate=rate, seed=seed
        )
        if on_plan:
            on_plan(len(range(0, len(plan.events), BATCH)) + len(plan.sales))
        send_plan(api, world, plan, report, step)
    finally:
        api.close()
    return report


def send_plan(
    api: ApiClient, world: World, plan: Plan, report: SimulationReport, step: Step | None = None
) -> SimulationReport:
    """Send the plan's events in batches of 500, then place its orders; fills the report."""
    report.end = plan.end.isoformat()
    report.shoppers, report.sessions = plan.shoppers, plan.sessions
    report.members_identified = plan.identified
    report.events_by_type = plan.by_type()
    refused: set[str] = set()
    for start in range(0, len(plan.events), BATCH):
        refused |= _send_events(api, plan.events[start : start + BATCH], report)
        if step:
            step(1)
    report.events_settled = wait_for_events(api, plan, refused)
    _place_orders(api, world, plan, report, step)
    return report


def wait_for_events(
    api: ApiClient, plan: Plan, refused: set[str], seconds: float = SETTLE_SECONDS
) -> bool:
    """Wait until the last accepted event shows on its member's timeline.

    The collector answers once events are durable; loading them into the warehouse and
    resolving identities follows. Purchases wait for that, as a till's member lookup follows
    the member code scan, so a sale and OneID never race to record the same new phone.
    """
    last = next((e for e in reversed(plan.events) if e["message_id"] not in refused), None)
    if last is None or not last["identifiers"]:
        return True
    kind, value = next(iter(last["identifiers"].items()))
    day = datetime.fromisoformat(last["ts"]).date()
    window = {
        "type": last["type"],
        "start": (day - timedelta(days=1)).isoformat(),
        "end": (day + timedelta(days=1)).isoformat(),
        "limit": 500,
    }
    deadline = time.monotonic() + seconds
    while True:
        found = api.request("GET", "/api/v1/members/lookup", params={"type": kind, "value": value})
        if found.status_code == 200:
            member = found.json()["id"]
            page = api.request("GET", f"/api/v1/members/{member}/timeline", params=window)
            if page.status_code == 200 and any(
                item["message_id"] == last["message_id"] for item in page.json()["items"]
            ):
                return True
        elif found.status_code != 404:  # a server whose lookup cannot take this identifier
            return False
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)


def _send_events(api: ApiClient, batch: list[dict[str, Any]], report: SimulationReport) -> set[str]:
    """Send one batch; returns the message ids the collector refused."""
    response = api.request("POST", "/api/v1/events", write=True, json={"events": batch})
    report.events_sent += len(batch)
    body = (
        response.json()
        if response.headers.get("content-type", "").startswith("application/json")
        else {}
    )
    if response.status_code in (200, 400) and "failed" in body:
        report.accepted += int(body["accepted"])
        report.duplicates += int(body["duplicates"])
        report.failed += len(body["failed"])
        refused: set[str] = set()
        for item in body["failed"]:
            event = batch[item["index"]] if 0 <= item["index"] < len(batch) else {}
            refused.add(str(event.get("message_id")))
            _note(
                report,
                {
                    "message_id": event.get("message_id"),
                    "type": event.get("type"),
                    "field": item["field"],
                    "reason": item["reason"],
                },
            )
        return refused
    report.failed += len(batch)
    _note(
        report,
        {
            "message_id": batch[0]["message_id"],
            "type": "batch",
            "field": body.get("field"),
            "reason": f"{response.status_code}: {body.get('message', response.text[:200])}",
        },
    )
    return {str(e["message_id"]) for e in batch}


def _note(report: SimulationReport, failure: dict[str, Any]) -> None:
    if len(report.failures) < REPORTED_FAILURES:
        report.failures.append(failure)


def _pos_sale(sale: Sale) -> dict[str, Any]:
    """The till's request of a sale (POST /api/v1/orders/pos)."""
    body: dict[str, Any] = {
        "store_id": sale.store_id,
        "external_order_id": sale.external_order_id,
        "lines": [{"sku_id": sku, "quantity": quantity} for sku, quantity in sale.lines],
        "sold_at": sale.at.isoformat() if sale.at else None,
    }
    if sale.member is not None:
        body["member"] = {"type": sale.member[0], "value": sale.member[1]}
    return body


def _checkout(api: ApiClient, sale: Sale) -> dict[str, Any]:
    """The online shop's request of a paid checkout (POST /api/v1/orders/checkout)."""
    body: dict[str, Any] = {
        "store_id": sale.store_id,
        "external_order_id": sale.external_order_id,
        "lines": [{"sku_id": sku, "quantity": quantity} for sku, quantity in sale.lines],
        "fulfilment_type": sale.fulfilment,
        "paid": True,
        "placed_at": sale.at.isoformat() if sale.at else None,
    }
    if sale.pickup_store_id:
        body["pickup_store_id"] = sale.pickup_store_id
    if sale.latitude is not None and sale.longitude is not None:
        body["latitude"], body["longitude"] = sale.latitude, sale.longitude
    member_id = _online_member(api, sale)
    if member_id:
        body["member_id"] = member_id
    return body


def _place_orders(
    api: ApiClient, world: World, plan: Plan, report: SimulationReport, step: Step | None
) -> None:
    stock = dict(world.stock)
    kinds: dict[str, int] = {}
    for sale in plan.sales:
        if sale.kind == "pos":
            _restock(api, stock, sale, report)
            response = api.request("POST", "/api/v1/orders/pos", json=_pos_sale(sale))
        else:
            response = api.request("POST", "/api/v1/orders/checkout", json=_checkout(api, sale))
        if response.status_code == 201:
            report.orders += 1
            kinds[sale.kind] = kinds.get(sale.kind, 0) + 1
            if sale.kind == "pos":
                for sku, quantity in sale.lines:
                    stock[(sale.store_id, sku)] = stock.get((sale.store_id, sku), 0) - quantity
        elif response.status_code == 200:
            report.orders_replayed += 1
        else:
            report.orders_failed += 1
            refusal = problem(response)
            _note(
                report,
                {
                    "order": sale.external_order_id,
                    "type": sale.kind,
                    "field": refusal.get("field"),
                    "reason": f"{response.status_code} {refusal.get('code')}: "
                    f"{refusal.get('message')}",
                },
            )
        if step:
            step(1)
    report.orders_by_kind = dict(sorted(kinds.items()))


def _restock(
    api: ApiClient, stock: dict[tuple[str, str], int], sale: Sale, report: SimulationReport
) -> None:
    """A delivery to the till's store when the sale would take its last units."""
    short = [
        sku for sku, quantity in sale.lines if stock.get((sale.store_id, sku), 0) < quantity + 1
    ]
    if not short:
        return
    body = {
        "location_id": sale.store_id,
        "lines": [{"sku_id": sku, "quantity": RESTOCK_UNITS} for sku in short],
        "note": "traffic simulator delivery",
    }
    response = api.request("POST", "/api/v1/stock/receipts", json=body)
    if response.status_code == 201:
        report.restocks += 1
        for sku in short:
            stock[(sale.store_id, sku)] = stock.get((sale.store_id, sku), 0) + RESTOCK_UNITS


def _lookup(api: ApiClient, kind: str, value: str) -> str | None:
    response = api.request("GET", "/api/v1/members/lookup", params={"type": kind, "value": value})
    return str(response.json()["id"]) if response.status_code == 200 else None


def _online_member(api: ApiClient, sale: Sale) -> str | None:
    """The logged-in shopper's member: by account id, else a phone the shop knows, else a new
    member with the account id (as an online shop's backend would)."""
    if sale.account_id is None:
        return None
    found = _lookup(api, "account_id", sale.account_id)
    if found is None and sale.phone:
        found = _lookup(api, "phone", sale.phone)
    if found is not None:
        return found
    created = api.request("POST", "/api/v1/members", json={"account_id": sale.account_id})
    if created.status_code == 201:
        return str(created.json()["id"])
    return _lookup(api, "account_id", sale.account_id)
