"""Soak: a real server at 80 % of its measured ingest capacity for minutes, with POS sales and
reach trigger events alongside: does its memory stay flat, its latency stable, and is nothing
acknowledged lost?

A `newretail serve` child process (bench/harness.py) on the embedded stores (SQLite + DuckDB),
the outbox relay on (every second, the product default), receives, in one run:
1. set-up (not timed): an ingest organisation (harness.prepare) with a SKU range stocked at its
   4 counters and an API key for the tills; a reach organisation set up as bench/reach.py's
   (bench/reach_setup.py: an audience, consent, 20 running campaigns with trigger rules);
2. warm-up of the shoppers' OneID profiles (one event each, loaded);
3. the maximum: batches of 100 events over 16 keep-alive connections as fast as they are
   answered, until the last one is loaded into the warehouse → `max_events_per_s` (loaded,
   the rate the server can sustain; `max_acknowledged_events_per_s` as well);
4. the soak, open loop (each request sent at its due time whatever the answers so far, its
   latency counted from that due time): batches of 100 events at 80 % of that maximum,
   POS sales through `POST /api/v1/orders/pos` (`--sales-per-s`, a fifth with a member by
   phone) and single `counter_approach` trigger events of the reach organisation's people
   (`--triggers-per-s`), for `--minutes` (default 10; `--quick` 1); answers still owed 30 s
   after the end (`--quick`: 5 s) are given up: `unanswered_requests`, their wait so far
   counted in the latency (a lower bound);
5. the end: every acknowledged event loaded and every outbox row published (read on
   /metrics: `newretail_events_awaiting_load`, `newretail_outbox_unpublished`, waiting at
   most 120 s, `--quick` 15 s: `drained`), the server stopped (SIGTERM: it loads what it
   acknowledged first; one killed after 30 s is started again to replay its spool), the
   stores read.

Figures (last line, one JSON object):
- `rss_growth_pct`: the server process's resident memory at the end against right after the
  warm-up period (the first minute; in `--quick`, the first 20 s) — target < 10;
  `rss_mb_series` samples it across the run;
- `p99_ms_first_last`: p99 latency (ms, client side) of the ingest requests of the first and
  of the last minute of the soak (in `--quick`, 20-second windows) — stable if close;
  the same for the sales and the triggers under `sales_p99_ms_first_last`,
  `triggers_p99_ms_first_last`;
- `lost`: acknowledged events (ingest and triggers) missing from the warehouse, plus
  acknowledged sales missing from the orders, plus outbox rows missing from the warehouse
  — must be 0; `doubled`: events stored twice — must be 0;
- `failed_requests` by status (an answer other than 200/201: a refusal under load);
- the rates asked and achieved, the reach decisions taken, the load average.

    .venv/bin/python bench/soak.py [--quick] [--minutes N] [--share 0.8]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import contextlib

import duckdb
import httpx
import orjson
from sqlalchemy import func, select

from bench import harness, reach_setup
from newretail.bootstrap import bootstrap
from newretail.catalog import schemas as catalog_schemas
from newretail.catalog import service as catalog_service
from newretail.core.database import session_scope
from newretail.core.settings import Settings
from newretail.events.models import OutboxMessage
from newretail.inventory import schemas as inventory_schemas
from newretail.inventory import service as inventory_service
from newretail.orders.models import Order
from newretail.reach.models import ReachDecision
from newretail.tenancy import api_keys
from newretail.tenancy import schemas as tenancy_schemas
from newretail.tenancy.models import Brand, Role
from newretail.tenancy.permissions import Principal, PrincipalKind

CONNECTIONS = 16  # ingest; the sales and the triggers have 4 each
SIDE_CONNECTIONS = 4
BATCH = 100
SKUS = 20
TOKEN = b"SEQ#####"  # replaced by each request's sequence number (8 characters)
_clock = time.perf_counter()


def phase(name: str) -> None:
    print(f"{time.perf_counter() - _clock:7.1f} s  {name}", file=sys.stderr, flush=True)


@dataclass
class Tills:
    api_key: str
    store_ids: list[str]
    sku_ids: list[str]


def stock_tills(target: harness.Target) -> Tills:
    """SKUs at a price, a large stock of each at the 4 counters, an API key for the tills."""
    container = bootstrap(Settings(data_dir=target.data_dir, secret_key=harness.SECRET))
    org = uuid.UUID(target.organization_id)
    owner = Principal.for_role(PrincipalKind.USER, org, Role.OWNER, actor="bench")
    try:
        with session_scope(container.sessions, org) as session:
            brand = session.scalars(select(Brand.id)).one()
            product = catalog_service.create_product(
                session,
                owner,
                catalog_schemas.ProductCreate(brand_id=brand, code="SOAK", name="Soak"),
            )
            skus = [
                catalog_service.create_sku(
                    session,
                    owner,
                    product.id,
                    catalog_schemas.SkuCreate(
                        code=f"K{i}",
                        name=f"K{i}",
                        prices=dict.fromkeys(catalog_schemas.SELLING_CHANNELS, Decimal("19.90")),
                    ),
                ).id
                for i in range(SKUS)
            ]
            for store in target.store_ids:
                inventory_service.receive_stock(
                    session,
                    owner,
                    inventory_schemas.ReceiptCreate(
                        location_id=uuid.UUID(store),
                        lines=[
                            inventory_schemas.StockLineIn(sku_id=s, quantity=1_000_000)
                            for s in skus
                        ],
                    ),
                )
            _, key = api_keys.create_api_key(
                session, owner, tenancy_schemas.ApiKeyCreate(name="tills", role=Role.OWNER)
            )
    finally:
        container.close()
    return Tills(key, target.store_ids, [str(s) for s in skus])


def post(port: int, path: str, token: str, body: bytes) -> bytes:
    return harness.request_bytes(port, token, body, path)


def ingest_templates(target: harness.Target, port: int, people: int) -> list[bytes]:
    """Requests of 100 events covering every person once; each request's message ids hold
    TOKEN, replaced by a sequence number when it is sent (so every request is new)."""
    templates = []
    for start in range(0, people, BATCH):
        chunk = harness.events("X", start, min(BATCH, people - start), target, people)
        for position, event in enumerate(chunk):
            event["message_id"] = f"{TOKEN.decode()}-{position}"
        body = orjson.dumps({"events": chunk})
        templates.append(post(port, "/api/v1/events", target.write_key, body))
    return templates


def numbered(template: bytes, sequence: int) -> bytes:
    return template.replace(TOKEN, f"{sequence:08x}".encode())


def sale_request(port: int, tills: Tills, n: int, tag: str) -> bytes:
    rng = random.Random(n)
    body: dict[str, Any] = {
        "store_id": tills.store_ids[n % len(tills.store_ids)],
        "external_order_id": f"{tag}-{n}",
        "lines": [{"sku_id": rng.choice(tills.sku_ids), "quantity": 1 + n % 3}],
    }
    if n % 5 == 0:
        body["member"] = {"type": "phone", "value": f"+86138{n % 2000:08d}"}
    return post(port, "/api/v1/orders/pos", tills.api_key, orjson.dumps(body))


def trigger_request(port: int, reach: harness.Target, n: int, people: int) -> bytes:
    rng = random.Random(n)
    event = {
        "message_id": f"trig-{n}",
        "type": "counter_approach",
        "ts": datetime.now(UTC).isoformat(),
        "store_id": rng.choice(reach.store_ids),
        "identifiers": {"anonymous_id": f"anon-{rng.randrange(people)}"},
        "properties": {"beacon_id": f"b{rng.randrange(reach_setup.BEACONS + 1)}"},
    }
    return post(port, "/api/v1/events", reach.write_key, orjson.dumps({"events": [event]}))


@dataclass
class Stream:
    """One open-loop stream of requests: what was acknowledged and when, how long each took."""

    name: str
    rate: float
    ok_status: int
    acknowledged: list[int] = field(default_factory=list)
    latencies: list[tuple[float, float]] = field(default_factory=list)  # (due, seconds)
    failed: Counter[str] = field(default_factory=Counter)
    unanswered: int = 0


async def open_loop(
    port: int,
    stream: Stream,
    make: Any,
    seconds: float,
    connections: int,
    started: float,
    grace: float,
) -> None:
    """Send request i at started + i / rate, over `connections` keep-alive connections."""
    loop = asyncio.get_running_loop()
    pool: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(await asyncio.open_connection("127.0.0.1", port))
    tasks = []

    async def one(index: int, due: float) -> None:
        request = make(index)
        try:
            await answer(index, due, request)
        except asyncio.CancelledError:  # given up: its wait so far counts (a lower bound)
            stream.latencies.append((due - started, loop.time() - due))
            raise

    async def answer(index: int, due: float, request: bytes) -> None:
        reader, writer = await pool.get()
        try:
            writer.write(request)
            await writer.drain()
            status, _ = await harness.read_response(reader)
        except (OSError, asyncio.IncompleteReadError):
            stream.failed["reset"] += 1
            pool.put_nowait(await asyncio.open_connection("127.0.0.1", port))
            return
        pool.put_nowait((reader, writer))
        stream.latencies.append((due - started, loop.time() - due))
        if status == stream.ok_status:
            stream.acknowledged.append(index)
        else:
            stream.failed[str(status)] += 1

    total = int(seconds * stream.rate)
    for index in range(total):
        due = started + index / stream.rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(index, due)))
    # answers still owed after a grace period are given up (not acknowledged: not lost)
    _, pending = await asyncio.wait(tasks, timeout=grace)
    for task in pending:
        task.cancel()
    stream.unanswered = len(pending)
    await asyncio.gather(*pending, return_exceptions=True)
    while not pool.empty():
        _, writer = pool.get_nowait()
        writer.close()


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no RSS for {pid}")


async def sample_rss(pid: int, samples: list[tuple[float, float]], stop: asyncio.Event) -> None:
    started = time.perf_counter()
    while not stop.is_set():
        samples.append((time.perf_counter() - started, rss_mb(pid)))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=1.0)
    samples.append((time.perf_counter() - started, rss_mb(pid)))


def p99_ms(latencies: list[tuple[float, float]], start: float, end: float) -> float | None:
    window = sorted(seconds for due, seconds in latencies if start <= due < end)
    if not window:
        return None
    return round(window[max(0, int(len(window) * 0.99) - 1)] * 1000, 2)


def metric(port: int, name: str, timeout: float) -> float | None:
    """A gauge's value on /metrics; None when the server does not answer in time."""
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=timeout).text
    except httpx.HTTPError:
        return None
    for line in text.splitlines():
        if line.startswith(f"{name} "):
            return float(line.split()[1])
    raise RuntimeError(f"{name} is not on /metrics")


def wait_for_zero(port: int, name: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        if metric(port, name, max(left, 1.0)) == 0:
            return True
        time.sleep(0.25)
    return False


def measure_max(port: int, requests: list[bytes], start: int) -> tuple[float, float, int]:
    """Events/s acknowledged and loaded, sending as fast as answered (closed loop)."""
    batch = [numbered(r, start + i) for i, r in enumerate(requests)]
    began = time.perf_counter()
    ok = asyncio.run(harness.send_all(port, batch, CONNECTIONS))
    acknowledged_s = time.perf_counter() - began
    if not wait_for_zero(port, "newretail_events_awaiting_load", 600):
        raise RuntimeError("the event loader did not catch up")
    loaded_s = time.perf_counter() - began
    events = sum(r.count(TOKEN) for r in requests)
    assert ok == len(batch), f"{len(batch) - ok} requests failed while measuring the maximum"
    return events / acknowledged_s, events / loaded_s, events


def missing_events(
    target: harness.Target,
    acknowledged: list[tuple[str, str, int]],
) -> tuple[int, int]:
    """Of the acknowledged requests (organisation, message id stem, events in it: the ids are
    `stem-0` … `stem-(n-1)`, or the stem alone for n = 0), the events missing from the
    warehouse; and the rows stored twice. Counted in DuckDB (millions of ids)."""
    import pyarrow as pa

    orgs, stems, counts = (list(column) for column in zip(*acknowledged, strict=True))
    sent = pa.table({"org": orgs, "stem": stems, "n": pa.array(counts, pa.int64())})
    with duckdb.connect(str(target.warehouse_path)) as con:
        con.register("sent", sent)
        missing = con.execute(
            """
            WITH expected AS (
                SELECT org, stem AS message_id FROM sent WHERE n = 0
                UNION ALL
                SELECT org, stem || '-' || CAST(position AS VARCHAR)
                FROM sent, range(sent.n) AS r(position) WHERE n > 0
            )
            SELECT count(*) FROM expected e ANTI JOIN event v
            ON v.organization_id = e.org AND v.message_id = e.message_id
            """
        ).fetchone()
        doubled = con.execute(
            "SELECT count(*) - count(DISTINCT (organization_id, message_id)) FROM event"
        ).fetchone()
    assert missing is not None and doubled is not None
    return int(missing[0]), int(doubled[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a shorter run, within 120 s")
    parser.add_argument("--minutes", type=float, default=None, help="soak length (default 10)")
    parser.add_argument("--share", type=float, default=0.8, help="of the measured maximum")
    parser.add_argument("--sales-per-s", type=float, default=10.0, help="POS sales")
    parser.add_argument("--triggers-per-s", type=float, default=20.0, help="trigger events")
    parser.add_argument("--people", type=int, default=None, help="ingest shoppers")
    args = parser.parse_args()
    minutes = args.minutes or (1.0 if args.quick else 10.0)
    seconds = minutes * 60
    window = 20.0 if args.quick else 60.0  # warm-up, and the first and last latency windows
    # the reach set-up resolves the ingest organisation's first people too (its baseline)
    reach_people = 1_000 if args.quick else 5_000
    people = args.people or (reach_people if args.quick else 20_000)
    grace, drain = (5.0, 15.0) if args.quick else (30.0, 120.0)  # answers, then the backlogs
    audience = 5_000 if args.quick else 100_000
    max_requests = 400 if args.quick else 2_000

    with tempfile.TemporaryDirectory(prefix="nr-soak-") as folder:
        data = Path(folder) / "data"
        target = harness.prepare(data)
        reach = harness.prepare(data)
        target.env.update(
            {
                "NEWRETAIL_OUTBOX_RELAY_SECONDS": "1",  # the product default: facts flow
                "NEWRETAIL_API_KEY_RATE_PER_SECOND": "0",  # the tills' key: capacity, not limits
            }
        )
        plan = reach_setup.set_up(reach, target, reach_people, audience)
        tills = stock_tills(target)
        phase("set up")
        port = harness.free_port()
        templates = ingest_templates(target, port, people)
        try:
            server = harness.start_server(target, port)
        except RuntimeError:
            print((target.data_dir / "server.log").read_text()[-6000:], file=sys.stderr)
            raise
        sequence = 0
        try:
            warm = [numbered(t, i) for i, t in enumerate(templates)]
            sequence = len(warm)
            assert asyncio.run(harness.send_all(port, warm, CONNECTIONS)) == len(warm)
            if not wait_for_zero(port, "newretail_events_awaiting_load", 600):
                raise RuntimeError("the event loader did not catch up with the warm-up")
            phase("shoppers warmed")
            sample = [templates[i % len(templates)] for i in range(max_requests)]
            max_ack, max_loaded, measured_events = measure_max(port, sample, sequence)
            sequence += max_requests
            phase(f"max {max_loaded:.0f} events/s loaded ({max_ack:.0f} acknowledged)")
            ingest_rate = args.share * max_loaded / BATCH  # requests/s
            base = sequence
            streams = {
                "ingest": Stream("ingest", ingest_rate, 200),
                "sales": Stream("sales", args.sales_per_s, 201),
                "triggers": Stream("triggers", args.triggers_per_s, 200),
            }
            tag = uuid.uuid4().hex[:8]
            makers = {
                "ingest": lambda i: numbered(templates[i % len(templates)], base + i),
                "sales": lambda i: sale_request(port, tills, i, tag),
                "triggers": lambda i: trigger_request(port, reach, i, reach_people),
            }
            rss: list[tuple[float, float]] = []

            async def soak() -> None:
                stop = asyncio.Event()
                sampler = asyncio.create_task(sample_rss(server.pid, rss, stop))
                started = asyncio.get_running_loop().time() + 0.2
                await asyncio.gather(
                    *(
                        open_loop(
                            port,
                            stream,
                            makers[name],
                            seconds,
                            CONNECTIONS if name == "ingest" else SIDE_CONNECTIONS,
                            started,
                            grace=grace,
                        )
                        for name, stream in streams.items()
                    )
                )
                stop.set()
                await sampler

            phase(f"soak: {ingest_rate * BATCH:.0f} events/s for {seconds:.0f} s")
            soak_started = time.perf_counter()
            asyncio.run(soak())
            soak_s = time.perf_counter() - soak_started
            phase("soak sent")
            loaded = wait_for_zero(port, "newretail_events_awaiting_load", drain)
            relayed = wait_for_zero(port, "newretail_outbox_unpublished", drain)
            phase(f"drained: loaded={loaded} relayed={relayed}")
        except Exception:
            print((target.data_dir / "server.log").read_text()[-6000:], file=sys.stderr)
            raise
        finally:
            harness.stop_server(server)  # SIGTERM: it loads what it acknowledged, then stops
            if server.returncode == -signal.SIGKILL:  # not stopped in 30 s: replay its spool
                phase(f"server ended with {server.returncode}: restarted to replay its spool")
                harness.stop_server(harness.start_server(target, port, timeout=300))
            log = (target.data_dir / "server.log").read_text()
            if "Traceback" in log:  # the server's side of a failure
                print(log[log.index("Traceback") :][:6000], file=sys.stderr)

        acknowledged = [
            (target.organization_id, f"{base + i:08x}", templates[i % len(templates)].count(TOKEN))
            for i in streams["ingest"].acknowledged
        ] + [(reach.organization_id, f"trig-{i}", 0) for i in streams["triggers"].acknowledged]
        # the outbox's facts: every row of the ingest organisation, as the relay names them
        container = bootstrap(Settings(data_dir=data, secret_key=harness.SECRET))
        try:
            org = uuid.UUID(target.organization_id)
            with session_scope(container.sessions, org) as session:
                orders = set(
                    session.scalars(
                        select(Order.external_order_id).where(
                            Order.external_order_id.like(f"{tag}-%")
                        )
                    )
                )
                facts = [str(i) for i in session.scalars(select(OutboxMessage.id))]
            with session_scope(container.sessions, uuid.UUID(reach.organization_id)) as session:
                decisions = session.scalar(select(func.count()).select_from(ReachDecision))
        finally:
            container.close()
        lost_events, doubled = missing_events(target, acknowledged)
        lost_facts, _ = missing_events(
            target, [(target.organization_id, f"outbox:{fact}", 0) for fact in facts]
        )
        events_acknowledged = sum(max(n, 1) for _, _, n in acknowledged)
        lost_sales = sum(1 for i in streams["sales"].acknowledged if f"{tag}-{i}" not in orders)

    after_warmup = next((mb for at, mb in rss if at >= window), rss[-1][1])
    end = rss[-1][1]
    last_start = seconds - window

    def first_last(stream: Stream) -> list[float | None]:
        return [
            p99_ms(stream.latencies, 0, window),
            p99_ms(stream.latencies, last_start, seconds),
        ]

    step = max(1, len(rss) // 12)
    result = {
        "rss_growth_pct": round((end - after_warmup) / after_warmup * 100, 2),
        "p99_ms_first_last": first_last(streams["ingest"]),
        "lost": lost_events + lost_sales + lost_facts,
        "doubled": doubled,
        "lost_events": lost_events,
        "lost_sales": lost_sales,
        "lost_outbox_facts": lost_facts,
        "rss_mb_after_warmup": round(after_warmup, 1),
        "rss_mb_end": round(end, 1),
        "rss_mb_series": [round(mb, 1) for _, mb in rss[::step]],
        "sales_p99_ms_first_last": first_last(streams["sales"]),
        "triggers_p99_ms_first_last": first_last(streams["triggers"]),
        "window_s": window,
        "max_events_per_s": round(max_loaded),
        "max_acknowledged_events_per_s": round(max_ack),
        "max_measured_events": measured_events,
        "share": args.share,
        "ingest_events_per_s_asked": round(ingest_rate * BATCH),
        "ingest_events_per_s_done": round(len(streams["ingest"].acknowledged) * BATCH / soak_s),
        "sales_per_s_done": round(len(streams["sales"].acknowledged) / soak_s, 1),
        "triggers_per_s_done": round(len(streams["triggers"].acknowledged) / soak_s, 1),
        "events_acknowledged": events_acknowledged,
        "sales_acknowledged": len(streams["sales"].acknowledged),
        "outbox_facts": len(facts),
        "reach_decisions": decisions,
        "audience_members": plan.audience_size,
        "failed_requests": {
            name: dict(stream.failed) for name, stream in streams.items() if stream.failed
        },
        "unanswered_requests": {
            name: stream.unanswered for name, stream in streams.items() if stream.unanswered
        },
        "drained": {"loaded": loaded, "relayed": relayed},
        "soak_s": round(soak_s, 1),
        "people": people,
        "cpus": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
