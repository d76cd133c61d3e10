"""A known campaign effect for the lift report (`newretail simulate --campaign-effect P`).

Members (by their phones, read from the API) approach the counter of an active trigger rule
that takes `counter_approach` events, now: the server decides on each event (treated, held
out, or not at all) as it would on a real counter's beacon. The simulator then asks the API
which of its members were reached — their recorded treated/holdout decisions
(`/api/v1/reach/members/{id}/exposures`), never the holdout hash — and each member buys at that
counter with probability `base_rate + P` when treated, `base_rate` otherwise. So the lift of
the campaign has a true value of P (absolute conversion points), which its report's interval
should cover 95 times in 100.

Everything goes through the public HTTP API, as the rest of the simulator does.
"""

from __future__ import annotations

import random
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from newretail.core.errors import InvalidInput
from newretail.simulator.access import SimulatorAccess
from newretail.simulator.client import ApiClient, expect
from newretail.simulator.discovery import discover_world
from newretail.simulator.world import StoreInfo, World

MAX_APPROACHES = 1000  # members approached in one run (the decisions list answers 1000)
DECIDE_SECONDS = 120  # at most, for the server to decide on every approach
BATCH = 500
RESTOCK_UNITS = 24
REPORTED_FAILURES = 20


@dataclass
class EffectReport:
    """What the campaign phase sent, what the server decided, who bought."""

    campaign_effect: float
    base_rate: float
    campaign: str = ""
    store: str = ""
    approached: int = 0
    decided: int = 0
    treated: int = 0
    held_out: int = 0
    treated_bought: int = 0
    held_out_bought: int = 0
    others_bought: int = 0
    orders_failed: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)  # the first refused sales, as answered

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_effect(effect: float, base_rate: float) -> None:
    """Probabilities: the base rate and base + effect both within [0, 1]."""
    if not 0 <= base_rate <= 1:
        raise InvalidInput("must be between 0 and 1", field="base_rate")
    if not 0 <= base_rate + effect <= 1 or not -1 <= effect <= 1:
        raise InvalidInput("base rate + campaign effect must be between 0 and 1", field="effect")


def _counter_rule(api: ApiClient, world: World) -> tuple[dict[str, Any], StoreInfo]:
    """The first active rule taking counter approaches, and a store of it the world knows."""
    response = api.request("GET", "/api/v1/reach/rules")
    expect(response, 200, "/api/v1/reach/rules")
    stores = {s.id: s for s in world.stores}
    for rule in response.json():
        types = rule["event_types"]
        if not rule["active"] or (types and "counter_approach" not in types):
            continue
        ids = [str(s) for s in rule["store_ids"]] or [
            s.id for s in world.of_channel("counter", "store")
        ]
        store = next((stores[i] for i in ids if i in stores), None)
        if store is not None:
            return rule, store
    raise InvalidInput(
        "no active trigger rule takes counter_approach at a known store", field="campaign_effect"
    )


def _approaches(
    phones: list[str], store: StoreInfo, seed: int, now: datetime
) -> list[dict[str, Any]]:
    return [
        {
            "message_id": f"sim-{seed}-approach-{n:05d}",
            "type": "counter_approach",
            "ts": (now + timedelta(milliseconds=n)).isoformat(),
            "store_id": store.id,
            "channel": store.channel_type,
            "identifiers": {"phone": phone},
            "properties": {"beacon_id": f"{store.code}-counter", "distance_m": 1.0},
        }
        for n, phone in enumerate(phones)
    ]


def _decisions(
    api: ApiClient, campaign_id: str, since: datetime, wanted: set[str], seconds: float
) -> dict[str, dict[str, Any]]:
    """The server's decisions on our approaches (event id → decision), once all are in, or
    when no new one came for a few seconds after the deadline's half."""
    deadline = time.monotonic() + seconds
    found: dict[str, dict[str, Any]] = {}
    while True:
        response = api.request(
            "GET",
            "/api/v1/reach/decisions",
            params={"campaign_id": campaign_id, "since": since.isoformat(), "limit": 1000},
        )
        expect(response, 200, "/api/v1/reach/decisions")
        found = {d["event_id"]: d for d in response.json() if d["event_id"] in wanted}
        if len(found) == len(wanted) or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def _reached(api: ApiClient, member_id: str, campaign_id: str) -> str | None:
    """The member's arm as recorded: the reason of their first treated/holdout decision."""
    path = f"/api/v1/reach/members/{member_id}/exposures"
    response = api.request("GET", path, params={"campaign_id": campaign_id})
    expect(response, 200, path)
    exposures = response.json()
    return str(exposures[0]["reason"]) if exposures else None


def _sku_for(world: World, store: StoreInfo) -> str:
    priced = [s for s in world.skus if s.sold_at(store)]
    if not priced:
        raise InvalidInput(f"{store.name} sells no SKU to buy", field="campaign_effect")
    return priced[0].id


def _restock(api: ApiClient, store: StoreInfo, sku: str, units: int) -> None:
    body = {
        "location_id": store.id,
        "lines": [{"sku_id": sku, "quantity": units}],
        "note": "traffic simulator delivery (campaign effect)",
    }
    expect(api.request("POST", "/api/v1/stock/receipts", json=body), 201, "/api/v1/stock/receipts")


def run_campaign_effect(
    api: ApiClient,
    world: World,
    effect: float,
    base_rate: float,
    seed: int,
    members: int | None = None,
) -> EffectReport:
    """Approach the counter with up to `members` known members now, learn who was reached,
    and let each buy there with base_rate (+ effect when treated)."""
    check_effect(effect, base_rate)
    rule, store = _counter_rule(api, world)
    campaign_id = str(rule["campaign_id"])
    rng = random.Random(seed)  # noqa: S311 (simulated shoppers, not secrets)
    phones = sorted(world.member_phones)
    rng.shuffle(phones)
    phones = phones[: min(members or MAX_APPROACHES, MAX_APPROACHES)]
    report = EffectReport(effect, base_rate, rule["campaign_name"], store.name)
    # the approaches happen in the few seconds before they are sent (a millisecond apart)
    started = datetime.now(UTC) - timedelta(seconds=5)
    events = _approaches(phones, store, seed, started)
    for start in range(0, len(events), BATCH):
        batch = events[start : start + BATCH]
        sent = api.request("POST", "/api/v1/events", write=True, json={"events": batch})
        expect(sent, 200, "/api/v1/events")
    report.approached = len(events)
    decided = _decisions(
        api, campaign_id, started, {e["message_id"] for e in events}, DECIDE_SECONDS
    )
    report.decided = len(decided)
    buyers: list[tuple[str, str]] = []
    for event in events:
        decision = decided.get(event["message_id"])
        reason = None if decision is None else str(decision["reason"])
        report.reasons[reason or "undecided"] = report.reasons.get(reason or "undecided", 0) + 1
        arm = None if decision is None else _reached(api, decision["member_id"], campaign_id)
        chance = base_rate + (effect if arm == "treated" else 0.0)
        bought = rng.random() < chance
        if arm == "treated":
            report.treated += 1
            report.treated_bought += bought
        elif arm == "holdout":
            report.held_out += 1
            report.held_out_bought += bought
        else:
            report.others_bought += bought
        if bought:
            buyers.append((event["message_id"], event["identifiers"]["phone"]))
    report.reasons = dict(sorted(report.reasons.items()))
    _buy(api, world, store, buyers, report)
    return report


def _buy(
    api: ApiClient,
    world: World,
    store: StoreInfo,
    buyers: list[tuple[str, str]],
    report: EffectReport,
) -> None:
    """One till sale per buyer at the counter, now (after their decision)."""
    if not buyers:
        return
    sku = _sku_for(world, store)
    if world.stock.get((store.id, sku), 0) < len(buyers) + 1:
        _restock(api, store, sku, len(buyers) + RESTOCK_UNITS)
    for message_id, phone in buyers:
        body = {
            "store_id": store.id,
            "external_order_id": message_id.replace("approach", "effect"),
            "lines": [{"sku_id": sku, "quantity": 1}],
            "sold_at": datetime.now(UTC).isoformat(),
            "member": {"type": "phone", "value": phone},
        }
        response = api.request("POST", "/api/v1/orders/pos", json=body)
        if response.status_code not in (200, 201):
            report.orders_failed += 1
            if len(report.failures) < REPORTED_FAILURES:
                report.failures.append(f"{response.status_code} {response.text[:200]}")


def run_effect_phase(
    url: str,
    access: SimulatorAccess,
    effect: float,
    base_rate: float,
    seed: int,
    members: int | None = None,
) -> EffectReport:
    """The campaign phase against the server at `url` (after the traffic, if any)."""
    check_effect(effect, base_rate)
    api = ApiClient(url, access)
    try:
        return run_campaign_effect(api, discover_world(api), effect, base_rate, seed, members)
    finally:
        api.close()
