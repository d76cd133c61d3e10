"""Faults under load: ingest and POS sales through real HTTP into the scale-out deployment
(PostgreSQL operational store and warehouse, NATS JetStream pipeline), while each process role
is killed with SIGKILL at a random point and PostgreSQL and NATS are restarted.

    .venv/bin/python bench/faults.py [--quick] [--rounds N] [--seed S]

The roles, each its own process: the server (`newretail serve`: collector and POS API, relay
off), the stream loader (`newretail events loader`) and the outbox relay (a second `newretail
serve` with the relay on, which takes no traffic). PostgreSQL and nats-server are private to
the run (bench/private_services.py): the machine's shared ones are never touched.

Clients behave as devices do: an ingest client sends batches of 100 events with fixed message
ids, a till sends POS sales with its own order ids; whatever is not answered 200/201 (a 503, a
refused or cut connection) is sent again, unchanged, until it is. Each round, after a few
seconds of steady load at a random length: kill -9 of the loader (restarted at once), of the
server (restarted: clients wait), of the relay (restarted), a PostgreSQL restart (down for
`--outage` seconds; the server must answer 503 `unavailable` meanwhile) and a NATS restart
(the collector must answer 503 and acknowledge nothing). Then the load stops, the loader and
relay drain, and the stores are read:

- `acknowledged_lost` (must be 0): acknowledged events missing from the warehouse, acknowledged
  sales without their order, orders without their one `purchase` fact in the warehouse;
- `doubled` (must be 0): message ids stored twice, order ids with two orders, orders with two
  `purchase` facts;
- `recovery_s`: the longest time, over the PostgreSQL restarts, from PostgreSQL accepting
  connections again until the server acknowledged both an event batch and a sale
  (`recovery_by_fault_s` has every fault's: for the server, from the kill, its restart
  included; for PostgreSQL and NATS, from their start);
- `outage_answers`: the answers the clients got while PostgreSQL or NATS was down, by status
  and code, and `server_errors`: any 5xx other than 503 during the whole run (must be 0).

The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness
from bench.private_services import PrivateNats, PrivatePostgres, available, free_port

EVENT_BATCH = 100
INGEST_CLIENTS = 4
TILLS = 4
RETRY_PAUSE = 0.1  # a client's pause before it sends a refused request again


@dataclass
class Deployment:
    """The organisation and what the clients need to reach it."""

    env: dict[str, str]
    database_url: str
    organization_id: str
    write_key: str
    api_key: str
    store_ids: list[str]
    sku_ids: list[str]
    folder: Path


def prepare(folder: Path, database_url: str, nats_url: str) -> Deployment:
    """Schema, one organisation with four stores, a source's write key, an owner API key and
    20 SKUs with plenty of stock at each store."""
    from newretail import handlers
    from newretail.bootstrap import bootstrap
    from newretail.catalog import schemas as catalog_schemas
    from newretail.catalog import service as catalog_service
    from newretail.core import migrate
    from newretail.core.database import scope_session, session_scope
    from newretail.core.settings import Settings
    from newretail.inventory import schemas as inventory_schemas
    from newretail.inventory import service as inventory_service
    from newretail.tenancy import schemas as tenancy_schemas
    from newretail.tenancy import service as tenancy_service
    from newretail.tenancy.models import ChannelType, Role
    from newretail.tenancy.permissions import Principal, PrincipalKind

    handlers.install()
    warehouse_url = "postgres://" + database_url.split("://", 1)[1]
    env = {
        **os.environ,
        "NEWRETAIL_DATA_DIR": str(folder / "data"),
        "NEWRETAIL_DATABASE_URL": database_url,
        "NEWRETAIL_WAREHOUSE_URL": warehouse_url,
        "NEWRETAIL_SECRET_KEY": harness.SECRET,
        "NEWRETAIL_EVENT_STREAM_URL": nats_url,
        "NEWRETAIL_OUTBOX_RELAY_SECONDS": "0",
        "NEWRETAIL_MAINTENANCE_SECONDS": "0",
        "NEWRETAIL_WEBHOOK_SEND_SECONDS": "0",
        # the run measures faults, not abuse limits (docs/security.md)
        "NEWRETAIL_WRITE_KEY_RATE_PER_SECOND": "0",
        "NEWRETAIL_API_KEY_RATE_PER_SECOND": "0",
    }
    settings = Settings(
        data_dir=folder / "data",
        database_url=database_url,
        warehouse_url=warehouse_url,
        secret_key=harness.SECRET,
    )
    container = bootstrap(settings)
    try:
        migrate.upgrade(container.engine)
        container.warehouse.connection()  # the event table and its unique index
        with session_scope(container.sessions) as session:
            created = tenancy_service.create_organization(
                scope_session(session, None),
                "Faults",
                owner_email="faults@example.com",
                owner_password="faults-password-123",  # noqa: S106
                slug="faults",
            )
            org_id = created.organization.id
            scope_session(session, org_id)
            owner = Principal.for_role(PrincipalKind.USER, org_id, Role.OWNER, actor="bench")
            brand = tenancy_service.create_brand(
                session, owner, tenancy_schemas.BrandCreate(code="b", name="B")
            )
            stores = [
                tenancy_service.create_store(
                    session,
                    owner,
                    tenancy_schemas.StoreCreate(
                        code=f"S{i}",
                        name=f"Shop {i}",
                        channel_type=ChannelType.STORE,
                        brand_id=brand.id,
                        city="Shanghai",
                    ),
                ).id
                for i in range(TILLS)
            ]
            _, write_key = tenancy_service.create_source(
                session, owner, tenancy_schemas.SourceCreate(name="faults", store_id=stores[0])
            )
            product = catalog_service.create_product(
                session,
                owner,
                catalog_schemas.ProductCreate(brand_id=brand.id, code="P", name="P"),
            )
            from decimal import Decimal

            skus = [
                catalog_service.create_sku(
                    session,
                    owner,
                    product.id,
                    catalog_schemas.SkuCreate(
                        code=f"K{i}",
                        name=f"K{i}",
                        prices=dict.fromkeys(catalog_schemas.SELLING_CHANNELS, Decimal("9.90")),
                    ),
                ).id
                for i in range(20)
            ]
            for store in stores:
                inventory_service.receive_stock(
                    session,
                    owner,
                    inventory_schemas.ReceiptCreate(
                        location_id=store,
                        lines=[
                            inventory_schemas.StockLineIn(sku_id=s, quantity=1_000_000)
                            for s in skus
                        ],
                    ),
                )
    finally:
        container.close()
    return Deployment(
        env,
        database_url.replace("postgresql+psycopg://", "postgresql://"),
        str(org_id),
        write_key,
        created.api_key_token,
        [str(s) for s in stores],
        [str(s) for s in skus],
        folder,
    )


def say(text: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {text}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------- the processes
class Roles:
    """The server, the relay and the loader processes, started, killed and restarted."""

    def __init__(self, deployment: Deployment):
        self.deployment = deployment
        self.port = free_port()
        self.relay_port = free_port()
        data = deployment.folder / "data"
        data.mkdir(parents=True, exist_ok=True)
        self.server_target = harness.Target(deployment.env, "", "", [], data)
        relay_env = {**deployment.env, "NEWRETAIL_OUTBOX_RELAY_SECONDS": "0.2"}
        relay_data = deployment.folder / "relay"
        relay_data.mkdir(parents=True, exist_ok=True)
        relay_env["NEWRETAIL_DATA_DIR"] = str(relay_data)
        self.relay_target = harness.Target(relay_env, "", "", [], relay_data)
        self.server: subprocess.Popen[bytes] | None = None
        self.relay: subprocess.Popen[bytes] | None = None
        self.loader: subprocess.Popen[bytes] | None = None

    def start_server(self) -> None:
        self.server = harness.start_server(self.server_target, self.port, timeout=300)

    def start_relay(self) -> None:
        self.relay = harness.start_server(self.relay_target, self.relay_port, timeout=300)

    def start_loader(self) -> None:
        command = [str(Path(sys.executable).parent / "newretail"), "events", "loader", "--json"]
        with (self.deployment.folder / "loader.log").open("ab") as log:
            self.loader = subprocess.Popen(  # noqa: S603
                command, env=self.deployment.env, stdout=log, stderr=log
            )

    @staticmethod
    def kill(process: subprocess.Popen[bytes] | None) -> None:
        if process is not None and process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()

    def alive(self) -> dict[str, bool]:
        return {
            name: process is not None and process.poll() is None
            for name, process in (
                ("server", self.server),
                ("relay", self.relay),
                ("loader", self.loader),
            )
        }

    def stop_all(self) -> None:
        for process in (self.server, self.relay):
            if process is not None:
                harness.stop_server(process)
        if self.loader is not None and self.loader.poll() is None:
            self.loader.send_signal(signal.SIGTERM)
            try:
                self.loader.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill(self.loader)


# ---------------------------------------------------------------------------- the clients
@dataclass
class Request:
    keys: list[str]
    data: bytes


@dataclass
class Tally:
    """What the clients saw: acknowledged keys and when, answers by status, answers within a
    fault window."""

    acknowledged: dict[str, list[str]] = field(default_factory=lambda: {"ingest": [], "pos": []})
    answers: Counter[str] = field(default_factory=Counter)
    ack_times: dict[str, list[float]] = field(default_factory=lambda: {"ingest": [], "pos": []})
    window: Counter[str] | None = None

    def acknowledge(self, kind: str, keys: list[str]) -> None:
        self.acknowledged[kind].extend(keys)
        self.ack_times[kind].append(time.monotonic())

    def first_ack_after(self, kind: str, since: float) -> float | None:
        times = self.ack_times[kind]
        at = bisect.bisect_right(times, since)
        return times[at] if at < len(times) else None

    def answer(self, kind: str, what: str) -> None:
        self.answers[f"{kind} {what}"] += 1
        if self.window is not None:
            self.window[f"{kind} {what}"] += 1


def _code(body: bytes) -> str:
    try:
        found = orjson.loads(body)
    except orjson.JSONDecodeError:
        return "not-json"
    return str(found.get("code")) if isinstance(found, dict) else "not-json"


async def client(
    kind: str,
    port: int,
    next_request: Callable[[], Request],
    tally: Tally,
    stop: asyncio.Event,
    per_second: float | None = None,
) -> None:
    """Send requests one at a time over a keep-alive connection (at most `per_second` new
    ones); what is not acknowledged is sent again (unchanged) after a pause, over a new
    connection when the old one broke."""
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    pending: Request | None = None
    next_slot = time.monotonic()
    while not stop.is_set():
        if pending is None:
            if per_second:
                next_slot = max(next_slot + 1 / per_second, time.monotonic() - 1)
                await asyncio.sleep(max(0.0, next_slot - time.monotonic()))
            pending = next_request()
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            assert reader is not None
            writer.write(pending.data)
            await writer.drain()
            status, body = await asyncio.wait_for(harness.read_response(reader), 60)
        except (OSError, asyncio.IncompleteReadError, TimeoutError):
            tally.answer(kind, "no answer")
            if writer is not None:
                writer.close()
            reader = writer = None
            await asyncio.sleep(RETRY_PAUSE)
            continue
        if status in (200, 201):
            tally.acknowledge(kind, pending.keys)
            tally.answer(kind, str(status))
            pending = None
        else:
            tally.answer(kind, f"{status} {_code(body)}")
            await asyncio.sleep(RETRY_PAUSE)
    if writer is not None:
        writer.close()


def request_makers(deployment: Deployment, port: int) -> dict[str, Callable[[], Request]]:
    target = harness.Target({}, deployment.organization_id, "", deployment.store_ids, Path())
    counters = {"ingest": 0, "pos": 0}
    rng = random.Random(7)

    def ingest() -> Request:
        start = counters["ingest"]
        counters["ingest"] += EVENT_BATCH
        chunk = harness.events("f", start, EVENT_BATCH, target)
        body = orjson.dumps({"events": chunk})
        return Request(
            [e["message_id"] for e in chunk],
            harness.request_bytes(port, deployment.write_key, body),
        )

    def pos() -> Request:
        n = counters["pos"]
        counters["pos"] += 1
        external = f"till-{n}"
        body = orjson.dumps(
            {
                "store_id": deployment.store_ids[n % len(deployment.store_ids)],
                "external_order_id": external,
                "lines": [
                    {"sku_id": rng.choice(deployment.sku_ids), "quantity": 1 + n % 3},
                ],
            }
        )
        return Request(
            [external],
            harness.request_bytes(port, deployment.api_key, body, path="/api/v1/orders/pos"),
        )

    return {"ingest": ingest, "pos": pos}


# ---------------------------------------------------------------------------- the faults
@dataclass
class Run:
    roles: Roles
    postgres: PrivatePostgres
    nats: PrivateNats
    tally: Tally
    rng: random.Random
    steady: tuple[float, float]
    outage: float
    events_per_second: float
    relay_restart: asyncio.Task[None] | None = None
    recovery: dict[str, list[float]] = field(default_factory=dict)
    recovery_by_kind: dict[str, list[dict[str, float]]] = field(default_factory=dict)
    outage_answers: dict[str, Counter[str]] = field(default_factory=dict)

    async def wait_steady(self) -> None:
        await asyncio.sleep(self.rng.uniform(*self.steady))

    async def acknowledged_again(
        self, since: float, kinds: tuple[str, ...], after: float | None = None
    ) -> dict[str, float]:
        """Seconds from `since` until each kind was first acknowledged after `after` (default
        `since`; an answer already on its way at a kill does not count), at most 300 s."""
        found: dict[str, float] = {}
        deadline = time.monotonic() + 300
        while len(found) < len(kinds) and time.monotonic() < deadline:
            for kind in kinds:
                first = self.tally.first_ack_after(kind, since if after is None else after)
                if kind not in found and first is not None:
                    found[kind] = round(first - since, 2)
            await asyncio.sleep(0.02)
        return found

    def note(self, fault: str, seconds: dict[str, float]) -> None:
        self.recovery.setdefault(fault, []).append(max(seconds.values(), default=float("inf")))
        self.recovery_by_kind.setdefault(fault, []).append(seconds)
        say(f"{fault}: acknowledged again after {seconds} s")

    async def kill_loader(self) -> None:
        Roles.kill(self.roles.loader)
        self.roles.start_loader()

    async def kill_server(self) -> None:
        Roles.kill(self.roles.server)
        killed = time.monotonic()
        await asyncio.to_thread(self.roles.start_server)
        ready = time.monotonic()
        self.note("server", await self.acknowledged_again(killed, ("ingest", "pos"), ready))

    async def kill_relay(self) -> None:
        Roles.kill(self.roles.relay)  # restarted while the next faults go on
        self.relay_restart = asyncio.create_task(asyncio.to_thread(self.roles.start_relay))

    async def restart_postgres(self) -> None:
        window: Counter[str] = Counter()
        self.tally.window = window
        await asyncio.to_thread(self.postgres.stop, "fast")
        await asyncio.sleep(self.outage)
        await asyncio.to_thread(self.postgres.start)
        self.tally.window = None
        started = time.monotonic()
        self.outage_answers.setdefault("postgres", Counter()).update(window)
        self.note("postgres", await self.acknowledged_again(started, ("ingest", "pos")))

    async def restart_nats(self) -> None:
        window: Counter[str] = Counter()
        self.tally.window = window
        await asyncio.to_thread(self.nats.stop)
        await asyncio.sleep(self.outage)
        await asyncio.to_thread(self.nats.start)
        self.tally.window = None
        started = time.monotonic()
        self.outage_answers.setdefault("nats", Counter()).update(window)
        self.note("nats", await self.acknowledged_again(started, ("ingest",)))

    async def faults(self, rounds: int) -> None:
        for _ in range(rounds):
            for fault in (
                self.kill_loader,  # first: its unacknowledged messages come back after ack_wait
                self.kill_server,
                self.kill_relay,
                self.restart_postgres,
                self.restart_nats,
            ):
                await self.wait_steady()
                say(fault.__name__)
                await fault()
        await self.wait_steady()
        if self.relay_restart is not None:
            await self.relay_restart


async def drive(run: Run, port: int, makers: dict[str, Callable[[], Request]], rounds: int) -> None:
    stop = asyncio.Event()
    per_client = run.events_per_second / EVENT_BATCH / INGEST_CLIENTS
    clients = [
        asyncio.create_task(client("ingest", port, makers["ingest"], run.tally, stop, per_client))
        for _ in range(INGEST_CLIENTS)
    ] + [
        asyncio.create_task(client("pos", port, makers["pos"], run.tally, stop))
        for _ in range(TILLS)
    ]
    try:
        await run.faults(rounds)
    finally:
        stop.set()
        await asyncio.gather(*clients)


# ---------------------------------------------------------------------------- the check
def stored(deployment: Deployment) -> dict[str, Counter[str]]:
    """Per key, how often it is stored: events by message id, orders by the till's order id,
    warehouse `purchase` facts by the till's order id."""
    with psycopg.connect(deployment.database_url) as db:
        org = deployment.organization_id
        events = db.execute(
            "SELECT message_id, count(*) FROM event WHERE organization_id = %s "
            "AND message_id NOT LIKE 'outbox:%%' GROUP BY 1",
            (org,),
        ).fetchall()
        orders = db.execute(
            "SELECT external_order_id, count(*) FROM sales_order WHERE organization_id = %s "
            "GROUP BY 1",
            (uuid.UUID(org),),
        ).fetchall()
        facts = db.execute(
            "SELECT properties::json->>'external_order_id', count(*) FROM event "
            "WHERE organization_id = %s AND type = 'purchase' GROUP BY 1",
            (org,),
        ).fetchall()
    return {
        "events": Counter(dict(events)),
        "orders": Counter(dict(orders)),
        "facts": Counter(dict(facts)),
    }


def drain(deployment: Deployment, tally: Tally, timeout: float) -> dict[str, Counter[str]]:
    """Wait until every acknowledged event and every acknowledged sale's fact is in the
    warehouse (or the timeout); the stores as they are then."""
    deadline = time.monotonic() + timeout
    events, sales = set(tally.acknowledged["ingest"]), set(tally.acknowledged["pos"])
    while True:
        found = stored(deployment)
        if (events <= set(found["events"]) and sales <= set(found["facts"])) or (
            time.monotonic() > deadline
        ):
            return found
        time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one round, within 120 s")
    parser.add_argument("--rounds", type=int, default=None, help="rounds of every fault")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument(
        "--outage", type=float, default=None, help="seconds PostgreSQL and NATS stay down"
    )
    parser.add_argument(
        "--events-per-second", type=float, default=None, help="ingest rate (the loader keeps up)"
    )
    parser.add_argument("--keep", type=Path, default=None, help="work in this folder, kept")
    args = parser.parse_args()
    if (reason := available()) is not None:
        raise SystemExit(f"cannot run: {reason}")
    rounds = args.rounds or (1 if args.quick else 3)
    seed = args.seed if args.seed is not None else random.randrange(1_000_000)
    outage = args.outage or (2.0 if args.quick else 5.0)
    steady = (1.0, 3.0) if args.quick else (3.0, 10.0)
    rate = args.events_per_second or (1000.0 if args.quick else 2000.0)
    started = time.perf_counter()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="nr-faults-") as name:
        folder = args.keep or Path(name)
        postgres = PrivatePostgres(folder / "pg")
        nats = PrivateNats(folder / "nats")
        roles: Roles | None = None
        try:
            postgres.start()
            nats.start()
            with psycopg.connect(postgres.url, autocommit=True) as admin:
                admin.execute("CREATE DATABASE newretail")
            url = postgres.url.rsplit("/", 1)[0] + "/newretail"
            deployment = prepare(folder, url, nats.url)
            say("prepared")
            roles = Roles(deployment)
            roles.start_loader()
            with ThreadPoolExecutor(2) as starting:  # each start imports the app (seconds)
                list(starting.map(lambda start: start(), (roles.start_server, roles.start_relay)))
            say("started")
            run = Run(roles, postgres, nats, Tally(), random.Random(seed), steady, outage, rate)
            makers = request_makers(deployment, roles.port)
            load_started = time.perf_counter()
            asyncio.run(drive(run, roles.port, makers, rounds))
            load_seconds = time.perf_counter() - load_started
            alive = roles.alive()
            say("load stopped")
            found = drain(deployment, run.tally, timeout=90)
            say("drained")
        finally:
            if roles is not None:
                roles.stop_all()
            nats.close()
            postgres.close()
    tally = run.tally
    acked_events, acked_sales = set(tally.acknowledged["ingest"]), set(tally.acknowledged["pos"])
    lost = {
        "events": len(acked_events - set(found["events"])),
        "sales": len(acked_sales - set(found["orders"])),
        "facts": len(acked_sales - set(found["facts"])),
    }
    doubled = {kind: sum(1 for n in counts.values() if n > 1) for kind, counts in found.items()}
    server_errors = sum(
        n
        for what, n in tally.answers.items()
        if what.split()[1].startswith("5") and what.split()[1] != "503"
    )
    result = {
        "acknowledged_lost": sum(lost.values()),
        "doubled": sum(doubled.values()),
        "recovery_s": max(run.recovery.get("postgres", [float("inf")])),
        "recovery_by_fault_s": run.recovery,
        "recovery_by_fault_and_kind_s": run.recovery_by_kind,
        "lost_by_kind": lost,
        "doubled_by_kind": doubled,
        "server_errors": server_errors,
        "outage_answers": {k: dict(v) for k, v in run.outage_answers.items()},
        "answers": dict(tally.answers),
        "events_acknowledged": len(acked_events),
        "sales_acknowledged": len(acked_sales),
        "events_per_s": round(len(acked_events) / load_seconds),
        "sales_per_s": round(len(acked_sales) / load_seconds, 1),
        "roles_alive_at_end": alive,
        "rounds": rounds,
        "seed": seed,
        "outage_s": outage,
        "events_per_s_offered": rate,
        "load_average_start_end": [round(load, 1), round(os.getloadavg()[0], 1)],
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
