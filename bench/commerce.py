"""Commerce throughput: POS sales/s (PostgreSQL, SQLite), online checkouts/s (PostgreSQL),
oversold units (must be 0), against a bare INSERT-per-transaction baseline measured in the
same run with the same clients.

Runs alone: `.venv/bin/python bench/commerce.py [--quick] [--processes N]`. It creates a
throw-away PostgreSQL database (NEWRETAIL_BENCH_POSTGRES_URL, default
postgres@127.0.0.1:5432) and a temporary SQLite file, and drives 16 parallel clients calling
the order services directly, one transaction per sale, as the API does. The clients' pools
skip the server's pre-ping (a `SELECT 1` round trip per transaction) unless `--pre-ping`.

The clients: 16 threads spread over N OS processes (default 2 × 8, one per core), each
process with its own engine and pool, like POS devices talking to several server workers
(uvicorn --workers N); 16 threads in one process (`--processes 1`) share one GIL. The full
run also measures the POS figure with one process, for comparison. Everything (clients,
PostgreSQL, SQLite) runs on this machine, so other load on it lowers every figure: the
baseline runs right before the POS sales, and the JSON carries their ratio and the load
average at the start and the end. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import queue
import secrets
import sys
import tempfile
import threading
import time
import traceback
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, func, select, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.scratch_db import bench_owner, throwaway_database
from newretail import handlers
from newretail.catalog import schemas as catalog_schemas
from newretail.catalog import service as catalog_service
from newretail.core import migrate
from newretail.core.database import (
    create_db_engine,
    make_session_factory,
    scope_session,
    session_scope,
)
from newretail.core.errors import NewRetailError
from newretail.inventory import schemas as inventory_schemas
from newretail.inventory import service as inventory_service
from newretail.inventory.models import StockLevel
from newretail.orders import checkout, pos, schemas
from newretail.orders.models import FulfilmentType
from newretail.tenancy import schemas as tenancy_schemas
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.models import ChannelType
from newretail.tenancy.permissions import Principal

handlers.install()  # sales publish OrderPaid; members award points (in every process)

CLIENTS = 16


def setup(
    engine: Engine, skus: int, units: int
) -> tuple[Principal, list[uuid.UUID], list[uuid.UUID], uuid.UUID]:
    sessions = make_session_factory(engine)
    with session_scope(sessions) as session:
        principal = bench_owner(session)
        brand = tenancy_service.create_brand(
            session, principal, tenancy_schemas.BrandCreate(code="b", name="B")
        )
        stores = [
            tenancy_service.create_store(
                session,
                principal,
                tenancy_schemas.StoreCreate(
                    code=f"S{i}", name=f"S{i}", channel_type=ChannelType.STORE, brand_id=brand.id
                ),
            ).id
            for i in range(CLIENTS)
        ]
        online = tenancy_service.create_store(
            session,
            principal,
            tenancy_schemas.StoreCreate(code="WEB", name="Web", channel_type=ChannelType.ONLINE),
        ).id
        warehouse = tenancy_service.create_store(
            session,
            principal,
            tenancy_schemas.StoreCreate(code="WH", name="WH", channel_type=ChannelType.WAREHOUSE),
        ).id
        product = catalog_service.create_product(
            session, principal, catalog_schemas.ProductCreate(brand_id=brand.id, code="P", name="P")
        )
        sku_ids = [
            catalog_service.create_sku(
                session,
                principal,
                product.id,
                catalog_schemas.SkuCreate(
                    code=f"K{i}",
                    name=f"K{i}",
                    prices=dict.fromkeys(catalog_schemas.SELLING_CHANNELS, Decimal("9.90")),
                ),
            ).id
            for i in range(skus)
        ]
        for location in [*stores, warehouse] if units else []:
            inventory_service.receive_stock(
                session,
                principal,
                inventory_schemas.ReceiptCreate(
                    location_id=location,
                    lines=[
                        inventory_schemas.StockLineIn(sku_id=s, quantity=units) for s in sku_ids
                    ],
                ),
            )
    return principal, stores, sku_ids, online


PRE_PING = False  # --pre-ping


def client_engine(url: str, pool_size: int) -> Engine:
    """The clients' engine: the server's (`create_db_engine`), without the pool's pre-ping on
    PostgreSQL (a `SELECT 1` round trip before every transaction) unless --pre-ping."""
    if url.startswith("sqlite") or PRE_PING:
        return create_db_engine(url, pool_size=pool_size)
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size)


WARM_UP = 10  # calls per client before the clock starts (psycopg prepares after 5)
READY_TIMEOUT = 120.0  # seconds every client has to connect and warm up


def _client_loop(
    url: str, job: Any, first_client: int, threads: int, seconds: float, ready: Any
) -> tuple[int, int, float, float]:
    """`threads` clients in this process, one transaction per call. Each connects and makes
    WARM_UP calls (the server's pooled connections are long-lived: their plans are prepared
    and their backends' caches warm), then waits for every client of every process at
    `ready` and calls for `seconds`; returns (committed, refused, start, end). A client that
    fails breaks `ready`, so no other waits for it, and the run fails with its error."""
    engine = client_engine(url, threads)
    sessions = make_session_factory(engine)
    done = [0] * threads
    refused = [0] * threads
    started = [0.0] * threads
    errors: list[str] = []

    def call(index: int, n: int) -> bool:
        try:
            with session_scope(sessions, job.org_id) as session:
                job(session, index, n)
        except NewRetailError:
            return False
        return True

    def worker(slot: int) -> None:
        index = first_client + slot
        try:
            for n in range(-WARM_UP, 0):
                call(index, n)
            ready.wait(timeout=READY_TIMEOUT)
            started[slot] = time.time()
            stop_at = started[slot] + seconds
            n = 0
            while time.time() < stop_at:
                if call(index, n):
                    done[slot] += 1
                else:
                    refused[slot] += 1
                n += 1
        except threading.BrokenBarrierError:
            errors.append("another client failed or did not start in time")
        except Exception:
            errors.append(traceback.format_exc())
            ready.abort()

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    finished = time.time()
    engine.dispose()
    if errors:
        raise RuntimeError(max(errors, key=len))
    return sum(done), sum(refused), min(started), finished


def _process_main(
    url: str, job: Any, first: int, threads: int, seconds: float, ready: Any, out: Any
) -> None:
    try:
        out.put(_client_loop(url, job, first, threads, seconds, ready))
    except BaseException as exc:
        ready.abort()
        out.put(f"client process {os.getpid()}: {exc}")


def drive(url: str, seconds: float, job: Any, processes: int) -> tuple[int, int]:
    """CLIENTS clients spread over `processes` OS processes (threads inside each) for
    `seconds` after their warm-up; returns (committed transactions per second, refused)."""
    threads = CLIENTS // processes
    if processes == 1:
        results = [_client_loop(url, job, 0, threads, seconds, threading.Barrier(CLIENTS))]
    else:
        context = multiprocessing.get_context("fork")
        out = context.Queue()
        ready = context.Barrier(CLIENTS)
        children = [
            context.Process(
                target=_process_main,
                args=(url, job, i * threads, threads, seconds, ready, out),
            )
            for i in range(processes)
        ]
        for child in children:
            child.start()
        results = []
        while len(results) < processes:
            try:
                results.append(out.get(timeout=1))
            except queue.Empty:
                dead = [c for c in children if c.exitcode not in (None, 0)]
                if dead:  # died without a word (killed): stop the others too
                    ready.abort()
                    code = dead[0].exitcode
                    raise RuntimeError(f"a client process died (exit code {code})") from None
        for child in children:
            child.join()
        failures = [r for r in results if isinstance(r, str)]
        if failures:
            raise RuntimeError("\n".join(failures))
    elapsed = max(end for *_, end in results) - min(start for _, _, start, _ in results)
    return int(sum(r[0] for r in results) / elapsed), sum(r[1] for r in results)


class BaselineJob:
    """A bare INSERT of one row per transaction through the same session plumbing (pool
    checkout, BEGIN, one statement, COMMIT): the floor a sale is compared to."""

    def __init__(self, org_id: uuid.UUID) -> None:
        self.org_id = org_id

    def __call__(self, session, index: int, n: int) -> None:  # type: ignore[no-untyped-def]
        session.connection().execute(
            text("INSERT INTO bench_sale VALUES (:id, 9.90)"), {"id": str(uuid.uuid4())}
        )


def baseline(url: str, seconds: float, org_id: uuid.UUID, processes: int) -> int:
    engine = create_db_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text("CREATE TABLE bench_sale (id varchar(36) primary key, amount numeric(18,2))")
        )
    engine.dispose()
    return drive(url, seconds, BaselineJob(org_id), processes)[0]


class PosJob:
    def __init__(
        self, principal: Principal, stores: list[uuid.UUID], skus: list[uuid.UUID]
    ) -> None:
        self.principal, self.stores, self.skus, self.org_id = (
            principal,
            stores,
            skus,
            principal.organization_id,
        )
        self.tag = secrets.token_hex(3)

    def sale(self, index: int, n: int, coupons: tuple[str, ...] = ()) -> schemas.PosSaleCreate:
        """Client `index`'s `n`-th sale: one unit of a SKU at its own shop."""
        return schemas.PosSaleCreate(
            store_id=self.stores[index],
            external_order_id=f"{self.tag}-{index}-{n}",
            lines=[
                schemas.PosLineIn(sku_id=self.skus[(index * 7 + n) % len(self.skus)], quantity=1)
            ],
            coupons=list(coupons),
        )

    def __call__(self, session, index: int, n: int) -> None:  # type: ignore[no-untyped-def]
        pos.pos_sale(session, self.principal, self.sale(index, n))


class CheckoutJob(PosJob):
    def __init__(self, principal: Principal, online: uuid.UUID, skus: list[uuid.UUID]) -> None:
        super().__init__(principal, [online], skus)

    def __call__(self, session, index: int, n: int) -> None:  # type: ignore[no-untyped-def]
        checkout.checkout(
            session,
            self.principal,
            schemas.CheckoutCreate(
                store_id=self.stores[0],
                paid=True,
                lines=[
                    schemas.CheckoutLineIn(
                        sku_id=self.skus[(index * 7 + n) % len(self.skus)], quantity=1
                    )
                ],
            ),
        )


def oversold(engine: Engine) -> int:
    """Units sold beyond stock: negative availability on any row (the schema forbids it too)."""
    sessions = make_session_factory(engine)
    with session_scope(sessions) as session:
        scope_session(session, None)
        value = session.scalar(
            select(
                func.coalesce(
                    func.sum(-(StockLevel.on_hand - StockLevel.allocated - StockLevel.reserved)), 0
                )
            ).where(StockLevel.on_hand - StockLevel.allocated - StockLevel.reserved < 0)
        )
    return int(value or 0)


def contention(engine: Engine) -> int:
    """64 online buyers (picking up at the store) for the last 10 units of one SKU: oversold
    units (sold minus 10, if > 0). Online orders are strict; a till's sale of goods in hand
    is recorded beyond the system's stock by design (issue 11), so tills are not racing."""
    principal, stores, skus, online = setup(engine, 1, 0)
    sessions = make_session_factory(engine)
    with session_scope(sessions, principal.organization_id) as session:
        inventory_service.receive_stock(
            session,
            principal,
            inventory_schemas.ReceiptCreate(
                location_id=stores[0],
                lines=[inventory_schemas.StockLineIn(sku_id=skus[0], quantity=10)],
            ),
        )
    sold = [0]
    lock = threading.Lock()
    barrier = threading.Barrier(64)

    def buyer(i: int) -> None:
        barrier.wait()
        try:
            with session_scope(sessions, principal.organization_id) as session:
                checkout.checkout(
                    session,
                    principal,
                    schemas.CheckoutCreate(
                        store_id=online,
                        external_order_id=f"c-{i}",
                        fulfilment_type=FulfilmentType.PICKUP_IN_STORE,
                        pickup_store_id=stores[0],
                        lines=[schemas.CheckoutLineIn(sku_id=skus[0], quantity=1)],
                    ),
                )
            with lock:
                sold[0] += 1
        except NewRetailError:
            pass

    threads = [threading.Thread(target=buyer, args=(i,)) for i in range(64)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return max(sold[0] - 10, 0)


def measure(
    url: str, db: str, seconds: float, processes: int, quick: bool, result: dict[str, Any]
) -> None:
    """The baseline, then POS sales (several processes, and one), then checkouts on one
    database; the baseline runs right before the sales so both see the same machine load."""
    engine = create_db_engine(url, pool_size=CLIENTS)
    migrate.upgrade(engine)
    principal, stores, skus, online = setup(engine, 50, 1_000_000)
    engine.dispose()  # the clients make their own engines (in their own processes)
    result[f"baseline_inserts_per_s_{db}"] = baseline(
        url, seconds, principal.organization_id, processes
    )
    pos = PosJob(principal, stores, skus)
    result[f"pos_sales_per_s_{db}"], _ = drive(url, seconds, pos, processes)
    result[f"pos_to_baseline_ratio_{db}"] = round(
        int(result[f"pos_sales_per_s_{db}"]) / max(int(result[f"baseline_inserts_per_s_{db}"]), 1),
        3,
    )
    if processes > 1 and not quick:
        pos.tag += "-one"
        result[f"pos_sales_per_s_{db}_one_process"], _ = drive(url, seconds, pos, 1)
    if db == "postgres":
        result["checkouts_per_s_postgres"], _ = drive(
            url, seconds, CheckoutJob(principal, online, skus), processes
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="short runs (under 60 s)")
    parser.add_argument(
        "--processes",
        type=int,
        default=2,
        choices=[1, 2, 4, 8, 16],
        help="OS processes the 16 clients are spread over (threads inside each); default 2, "
        "one per core, as `uvicorn --workers 2` would run on this machine",
    )
    parser.add_argument(
        "--pre-ping",
        action="store_true",
        help="ping each PostgreSQL connection at checkout, as the server's engine does",
    )
    args = parser.parse_args()
    global PRE_PING
    PRE_PING = args.pre_ping
    seconds = 3.0 if args.quick else 15.0
    tmp = tempfile.TemporaryDirectory()
    sqlite_url = f"sqlite:///{Path(tmp.name) / 'bench.sqlite3'}"
    result: dict[str, Any] = {
        "clients": CLIENTS,
        "client_processes": args.processes,
        "client_threads_per_process": CLIENTS // args.processes,
        "clients_are": (
            f"{CLIENTS} threads in {args.processes} OS processes calling the order services "
            "directly (no HTTP), on the same machine as the databases"
        ),
        "seconds_per_run": seconds,
        "pool_pre_ping": args.pre_ping,
        "cpus": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }
    with throwaway_database() as pg_url, tmp:
        measure(pg_url, "postgres", seconds, args.processes, args.quick, result)
        pg = create_db_engine(pg_url, pool_size=CLIENTS)
        result["oversold_units"] = contention(pg) + oversold(pg)
        pg.dispose()
        measure(sqlite_url, "sqlite", seconds, args.processes, args.quick, result)
        lite = create_db_engine(sqlite_url)
        result["oversold_units"] += oversold(lite)
        lite.dispose()
    result["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
