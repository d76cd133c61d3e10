"""Collector throughput through real HTTP, with identity resolution on.

A `newretail serve` child process on the embedded stores (SQLite + DuckDB) receives:
1. warm-up: one event per simulated person, so their OneID profiles exist (not timed);
2. batched: events in requests of 100 over 16 keep-alive connections → `batched_events_per_s`
   (acknowledged, i.e. durable in the spool) and `loaded_events_per_s` (until the last one is in
   the warehouse with its member resolved);
3. single: one event per request over 16 connections → `single_requests_per_s`, `p50_ms`,
   `p99_ms` (latency of each request, client side);
and, in the same run, the same rows appended straight into a DuckDB warehouse file in
transactions of 100 rows (what a writer without group commit does) → `raw_append_events_per_s`;
`ratio_to_raw` = batched ÷ raw. The load generator runs on the same machine.

    .venv/bin/python bench/ingest.py [--quick] [--events N] [--people N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import duckdb
import pyarrow as pa

from bench import harness
from newretail.warehouse.connection import EVENT_SCHEMA

CONNECTIONS = 16


def raw_append(path: Path, total: int, batch: int) -> float:
    """Events/s appending the same rows straight into DuckDB, one transaction per batch."""
    now = datetime.now(UTC)
    with duckdb.connect(str(path)) as con:
        empty = pa.Table.from_pylist([], schema=EVENT_SCHEMA.to_pyarrow())
        con.register("schema_table", empty)
        con.execute("CREATE TABLE event AS SELECT * FROM schema_table")
        con.unregister("schema_table")
        tables = []
        for start in range(0, total, batch):
            rows = [
                {
                    "organization_id": "org",
                    "message_id": f"raw-{n}",
                    "type": "counter_approach",
                    "ts": now,
                    "received_at": now,
                    "store_id": "store",
                    "channel": "counter",
                    "member_id": str(uuid.UUID(int=n % 50_000)),
                    "profile_id": str(uuid.UUID(int=n % 50_000)),
                    "anonymous_id": f"anon-{n % 50_000}",
                    "properties": "{}",
                }
                for n in range(start, min(total, start + batch))
            ]
            tables.append(pa.Table.from_pylist(rows, schema=EVENT_SCHEMA.to_pyarrow()))
        started = time.perf_counter()
        for table in tables:
            con.register("incoming", table)
            con.execute("INSERT INTO event BY NAME SELECT * FROM incoming")
            con.unregister("incoming")
        elapsed = time.perf_counter() - started
    return total / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller run, within 60 s")
    parser.add_argument("--events", type=int, default=None, help="batched events (default 1M)")
    parser.add_argument("--singles", type=int, default=None, help="single-event requests")
    parser.add_argument("--people", type=int, default=None, help="distinct shoppers")
    args = parser.parse_args()
    total = args.events or (200_000 if args.quick else 1_000_000)
    singles = args.singles or (10_000 if args.quick else 50_000)
    people = args.people or (20_000 if args.quick else 50_000)

    with tempfile.TemporaryDirectory(prefix="nr-ingest-") as folder:
        target = harness.prepare(Path(folder) / "data")
        port = harness.free_port()
        warm, _ = harness.batch_requests(target, port, "warm", people, 100, people=people)
        batched, _ = harness.batch_requests(target, port, "batch", total, 100, people=people)
        single, _ = harness.batch_requests(target, port, "single", singles, 1, people=people)
        server = harness.start_server(target, port)
        try:
            asyncio.run(harness.send_all(port, warm, CONNECTIONS))
            harness.wait_loaded(port)  # every person's OneID profile exists: steady state
            started = time.perf_counter()
            ok = asyncio.run(harness.send_all(port, batched, CONNECTIONS))
            batched_s = time.perf_counter() - started
            assert ok == len(batched), f"{len(batched) - ok} batch requests failed"
            harness.wait_loaded(port)
            loaded_s = time.perf_counter() - started
            latencies: list[float] = []
            started = time.perf_counter()
            ok = asyncio.run(harness.send_all(port, single, CONNECTIONS, latencies))
            single_s = time.perf_counter() - started
            assert ok == len(single), f"{len(single) - ok} single requests failed"
        finally:
            harness.stop_server(server)
        stored = len(harness.stored_message_ids(target))
        raw = raw_append(Path(folder) / "raw.duckdb", total, 100)

    latencies.sort()
    batched_rate = total / batched_s
    result = {
        "batched_events_per_s": round(batched_rate),
        "single_requests_per_s": round(singles / single_s),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
        "loaded_events_per_s": round(total / loaded_s),
        "raw_append_events_per_s": round(raw),
        "ratio_to_raw": round(batched_rate / raw, 3),
        "events": total,
        "single_requests": singles,
        "people": people,
        "stored": stored,
        "connections": CONNECTIONS,
        "cpus": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    assert stored == people + total + singles, f"stored {stored} events"
    print(json.dumps(result))


if __name__ == "__main__":
    main()
