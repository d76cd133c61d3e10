"""Commerce throughput: POS sales/s (PostgreSQL, SQLite), online checkouts/s (PostgreSQL),
oversold units (must be 0), against a bare INSERT-per-sale baseline measured in the same run.

Runs alone: `.venv/bin/python bench/commerce.py [--quick]`. It creates a throw-away
PostgreSQL database (NEWRETAIL_BENCH_POSTGRES_URL, default postgres@127.0.0.1:5432) and a
temporary SQLite file, drives 16 parallel clients calling the order services directly (one
transaction each, as the API does), and prints one JSON object as its last line.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import tempfile
import threading
import time
import uuid
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.engine import make_url

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
from newretail.core.settings import normalise_database_url
from newretail.inventory import schemas as inventory_schemas
from newretail.inventory import service as inventory_service
from newretail.inventory.models import StockLevel
from newretail.orders import schemas, service
from newretail.tenancy import schemas as tenancy_schemas
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.models import ChannelType, Role
from newretail.tenancy.permissions import Principal, PrincipalKind

CLIENTS = 16
POSTGRES_URL = os.environ.get(
    "NEWRETAIL_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def setup(
    engine: Engine, skus: int, units: int
) -> tuple[Principal, list[uuid.UUID], list[uuid.UUID], uuid.UUID]:
    sessions = make_session_factory(engine)
    with session_scope(sessions) as session:
        org = tenancy_service.create_organization(
            scope_session(session, None),
            "Bench",
            owner_email="bench@example.com",
            owner_password=secrets.token_urlsafe(16),
            slug=f"bench-{secrets.token_hex(3)}",
        ).organization
        scope_session(session, org.id)
        principal = Principal.for_role(PrincipalKind.USER, org.id, Role.OWNER, actor="bench")
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


def drive(engine: Engine, seconds: float, job) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    sessions = make_session_factory(engine)
    done = [0] * CLIENTS
    refused = [0] * CLIENTS
    stop = time.perf_counter() + seconds
    barrier = threading.Barrier(CLIENTS)

    def worker(index: int) -> None:
        barrier.wait()
        n = 0
        while time.perf_counter() < stop:
            try:
                with session_scope(sessions, job.org_id) as session:
                    job(session, index, n)
                done[index] += 1
            except NewRetailError:
                refused[index] += 1
            n += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(CLIENTS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return int(sum(done) / elapsed), sum(refused)


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

    def __call__(self, session, index: int, n: int) -> None:  # type: ignore[no-untyped-def]
        service.pos_sale(
            session,
            self.principal,
            schemas.PosSaleCreate(
                store_id=self.stores[index],
                external_order_id=f"{self.tag}-{index}-{n}",
                lines=[
                    schemas.PosLineIn(
                        sku_id=self.skus[(index * 7 + n) % len(self.skus)], quantity=1
                    )
                ],
            ),
        )


class CheckoutJob(PosJob):
    def __init__(self, principal: Principal, online: uuid.UUID, skus: list[uuid.UUID]) -> None:
        super().__init__(principal, [online], skus)

    def __call__(self, session, index: int, n: int) -> None:  # type: ignore[no-untyped-def]
        service.checkout(
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


def baseline(engine: Engine, seconds: float) -> int:
    """Bare INSERT of one row per sale, one transaction each, same 16 clients."""
    with engine.begin() as connection:
        connection.execute(
            text("CREATE TABLE bench_sale (id varchar(36) primary key, amount numeric(18,2))")
        )
    count = [0] * CLIENTS
    stop = time.perf_counter() + seconds

    def worker(index: int) -> None:
        while time.perf_counter() < stop:
            with engine.begin() as connection:
                connection.execute(
                    text("INSERT INTO bench_sale VALUES (:id, 9.90)"), {"id": str(uuid.uuid4())}
                )
            count[index] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(CLIENTS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return int(sum(count) / (time.perf_counter() - started))


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
    """64 buyers for the last 10 units of one SKU: oversold units (sold minus 10, if > 0)."""
    principal, stores, skus, _ = setup(engine, 1, 0)
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
                service.pos_sale(
                    session,
                    principal,
                    schemas.PosSaleCreate(
                        store_id=stores[0],
                        external_order_id=f"c-{i}",
                        lines=[schemas.PosLineIn(sku_id=skus[0], quantity=1)],
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="short runs (under 60 s)")
    args = parser.parse_args()
    seconds = 4.0 if args.quick else 15.0
    admin = create_engine(normalise_database_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    name = f"newretail_bench_{secrets.token_hex(4)}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    pg_url = (
        make_url(normalise_database_url(POSTGRES_URL))
        .set(database=name)
        .render_as_string(hide_password=False)
    )
    tmp = tempfile.TemporaryDirectory()
    sqlite_url = f"sqlite:///{Path(tmp.name) / 'bench.sqlite3'}"
    result: dict[str, object] = {"clients": CLIENTS, "seconds_per_run": seconds}
    try:
        pg = create_db_engine(pg_url, pool_size=CLIENTS)
        migrate.upgrade(pg)
        principal, stores, skus, online = setup(pg, 50, 1_000_000)
        result["pos_sales_per_s_postgres"], _ = drive(pg, seconds, PosJob(principal, stores, skus))
        result["checkouts_per_s_postgres"], _ = drive(
            pg, seconds, CheckoutJob(principal, online, skus)
        )
        result["baseline_inserts_per_s_postgres"] = baseline(pg, seconds)
        result["oversold_units"] = contention(pg) + oversold(pg)
        pg.dispose()
        lite = create_db_engine(sqlite_url)
        migrate.upgrade(lite)
        principal, stores, skus, online = setup(lite, 50, 1_000_000)
        result["pos_sales_per_s_sqlite"], _ = drive(lite, seconds, PosJob(principal, stores, skus))
        result["baseline_inserts_per_s_sqlite"] = baseline(lite, seconds)
        result["oversold_units"] = int(result["oversold_units"]) + oversold(lite)  # type: ignore[call-overload]
        lite.dispose()
        for db in ("postgres", "sqlite"):
            result[f"pos_to_baseline_ratio_{db}"] = round(
                int(result[f"pos_sales_per_s_{db}"])
                / max(int(result[f"baseline_inserts_per_s_{db}"]), 1),
                3,  # type: ignore[call-overload]
            )
    finally:
        with admin.connect() as connection:
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :n AND pid <> pg_backend_pid()"
                ),
                {"n": name},
            )
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()
        tmp.cleanup()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
