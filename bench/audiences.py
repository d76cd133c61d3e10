"""Benchmark of audiences on DuckDB (runs alone; the last line is one JSON object).

    .venv/bin/python bench/audiences.py            # 50M events, 5M members
    .venv/bin/python bench/audiences.py --quick    # 1M events, 100k members (< 60 s)

Synthetic events (1000 days, 12 event types, 5% without a brand) and the member dimension
are generated inside DuckDB with SQL. The audience has three conditions:

    added to cart (brand-3) in the last 30 days, AND did not purchase in the last 30 days,
    AND lives in one of three cities (a member attribute)

Measured in the same run:
- audience_s: our rule tree compiled to one Ibis expression (best of two compiles) plus
  DuckDB materialising it (CREATE TABLE AS, best of two runs);
- ratio_to_hand_sql: audience_s ÷ the same audience written by hand in DuckDB SQL (best of
  two); both results are compared (`equal`);
- membership_p99_us: the realtime index ("is member M in audience X") over the audience,
  200,000 lookups (half members, half not), 99th percentile in microseconds.
The machine's load average (`uptime`) is printed with the figures.
"""

# ruff: noqa: S608 (the SQL is built from constants and numbers of this script)

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import ibis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from newretail.audiences import compiler, realtime, rules  # noqa: E402
from newretail.audiences.tables import ensure_audience_tables  # noqa: E402
from newretail.databank.tables import ensure_databank_tables  # noqa: E402
from newretail.warehouse.connection import ensure_schema  # noqa: E402

ORG = "00000000-0000-4000-8000-000000000001"
SPAN_DAYS = 1000
AS_OF = date(2026, 11, 1)
FIRST_DAY = AS_OF - timedelta(days=SPAN_DAYS - 1)
CITIES = ["city-1", "city-2", "city-3"]
MIX = [
    ("ad_impression", 0.30),
    ("screen_exposure", 0.05),
    ("district_enter", 0.03),
    ("product_view", 0.25),
    ("store_visit", 0.06),
    ("add_to_cart", 0.08),
    ("favorite", 0.04),
    ("coupon_claim", 0.03),
    ("member_join", 0.01),
    ("purchase", 0.12),
    ("review", 0.02),
    ("share", 0.01),
]
TREE = {
    "all": [
        {
            "type": "behaviour",
            "events": ["add_to_cart"],
            "brand_id": "brand-3",
            "window": {"days": 30},
        },
        {"type": "did_not", "events": ["purchase"], "window": {"days": 30}},
        {"type": "attribute", "field": "city", "values": CITIES},
    ]
}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _type_case(column: str) -> str:
    edges, acc = [], 0.0
    for name, share in MIX:
        acc += share
        edges.append(f"WHEN {column} < {acc:.4f} THEN '{name}'")
    return "CASE " + " ".join(edges) + " ELSE 'product_view' END"


def generate(con: Any, events: int, members: int, brands: int) -> None:
    """`events` events over SPAN_DAYS days and a member_dim row per member."""
    con.raw_sql(
        f"""
        INSERT INTO event (organization_id, message_id, type, ts, received_at, brand_id,
                           store_id, channel, member_id, anonymous_id, amount, properties)
        WITH r AS (
            SELECT i,
                   hash(i, 1) % 1000000 / 1000000.0 AS u_type,
                   CAST(hash(i, 2) % {members} AS BIGINT) AS m,
                   CAST(hash(i, 3) % 100 AS BIGINT) AS u_brand,
                   CAST(hash(i, 4) % {brands} AS BIGINT) AS b,
                   CAST(hash(i, 5) % ({SPAN_DAYS} * 86400) AS BIGINT) AS secs,
                   CAST(hash(i, 8) % 30 AS BIGINT) AS category,
                   CAST(hash(i, 9) % 6 AS BIGINT) AS channel
            FROM range(0, {events}) t(i)
        )
        SELECT '{ORG}', 'e' || i, {_type_case("u_type")},
               TIMESTAMPTZ '{FIRST_DAY.isoformat()} 00:00:00+00' + to_seconds(secs),
               TIMESTAMPTZ '{FIRST_DAY.isoformat()} 00:00:00+00' + to_seconds(secs),
               CASE WHEN u_brand < 5 THEN NULL ELSE 'brand-' || b END,
               'store-' || (m % 500),
               ['online', 'store', 'counter', 'popup', 'cloud_shelf', 'vending'][channel + 1],
               'member-' || m, NULL, 10.00,
               '{{"category": "cat-' || category || '"}}'
        FROM r
        """
    )
    con.raw_sql(
        f"""
        INSERT INTO member_dim
        SELECT '{ORG}', 'member-' || i,
               'city-' || CAST(hash(i, 11) % 12 AS BIGINT),
               ['female', 'male', NULL][CAST(hash(i, 12) % 3 AS BIGINT) + 1],
               CAST(1950 + hash(i, 13) % 60 AS INTEGER),
               ['Member', 'Silver', 'Gold', NULL][CAST(hash(i, 14) % 4 AS BIGINT) + 1],
               CAST(hash(i, 15) % 10000 AS BIGINT),
               false,
               hash(i, 16) % 2 = 0, hash(i, 17) % 3 = 0, hash(i, 18) % 4 = 0, false
        FROM range(0, {members}) t(i)
        """
    )


def hand_sql() -> str:
    """The same audience written by hand for DuckDB."""
    start = f"TIMESTAMPTZ '{(AS_OF - timedelta(days=29)).isoformat()} 00:00:00+00'"
    end = f"TIMESTAMPTZ '{(AS_OF + timedelta(days=1)).isoformat()} 00:00:00+00'"
    cities = ", ".join(f"'{c}'" for c in CITIES)
    return f"""
    SELECT e.member_id FROM (
        SELECT member_id FROM event
        WHERE organization_id = '{ORG}' AND member_id IS NOT NULL
          AND type IN ('add_to_cart', 'purchase') AND ts >= {start} AND ts < {end}
        GROUP BY member_id
        HAVING count(*) FILTER (WHERE type = 'add_to_cart'
                                  AND (brand_id = 'brand-3' OR brand_id IS NULL)) >= 1
           AND count(*) FILTER (WHERE type = 'purchase') = 0
    ) e JOIN member_dim d ON d.member_id = e.member_id
    WHERE d.organization_id = '{ORG}' AND d.city IN ({cities})
    """


def _best(con: Any, sql: str, table: str) -> float:
    best = float("inf")
    for _ in range(2):
        con.raw_sql(f"DROP TABLE IF EXISTS {table}")
        started = time.perf_counter()
        con.raw_sql(f"CREATE TABLE {table} AS {sql}")
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1M events, 100k members")
    parser.add_argument("--events", type=int, default=50_000_000)
    parser.add_argument("--members", type=int, default=5_000_000)
    parser.add_argument("--brands", type=int, default=20)
    parser.add_argument("--memory", default="6GB", help="DuckDB memory_limit")
    args = parser.parse_args()
    if args.quick:
        args.events, args.members = 1_000_000, 100_000
    directory = Path(tempfile.mkdtemp(prefix="newretail-bench-audiences-"))
    try:
        con = ibis.duckdb.connect(str(directory / "warehouse.duckdb"))
        con.raw_sql(f"SET memory_limit = '{args.memory}'")
        con.raw_sql(f"SET temp_directory = '{directory / 'spill'}'")
        con.raw_sql("SET TimeZone = 'UTC'")
        ensure_schema(con)
        ensure_databank_tables(con)
        ensure_audience_tables(con)
        started = time.perf_counter()
        generate(con, args.events, args.members, args.brands)
        log(
            f"generated {args.events} events, {args.members} members in "
            f"{time.perf_counter() - started:.1f} s"
        )

        # days of the UTC zone, as the hand-written SQL counts them
        brands = [f"brand-{b}" for b in range(args.brands)]
        context = compiler.CompileContext(ORG, brands, AS_OF, zone="UTC")
        compile_s = float("inf")
        for _ in range(2):  # the first compile also pays for imports and caches
            compile_started = time.perf_counter()
            expr = compiler.audience_members(con, rules.parse_rules(TREE), context)
            ours_sql = str(con.compile(expr))
            compile_s = min(compile_s, time.perf_counter() - compile_started)
        ours = _best(con, ours_sql, "bench_ours") + compile_s
        hand = _best(con, hand_sql(), "bench_hand")
        equal = bool(
            con.raw_sql(
                "SELECT count(*) FROM ((SELECT member_id FROM bench_ours EXCEPT "
                "SELECT member_id FROM bench_hand) UNION ALL (SELECT member_id FROM bench_hand "
                "EXCEPT SELECT member_id FROM bench_ours))"
            ).fetchone()[0]
            == 0
        )
        ids = [r[0] for r in con.raw_sql("SELECT member_id FROM bench_ours").fetchall()]
        size = len(ids)
        log(
            f"ours {ours:.3f} s (compile {compile_s * 1000:.1f} ms), hand {hand:.3f} s, "
            f"{size} members, equal={equal}"
        )

        index = realtime.MembershipIndex()
        index.put(ORG, "bench", "v1", frozenset(ids))
        rng = random.Random(7)
        probes = [
            rng.choice(ids) if ids and i % 2 == 0 else f"member-{rng.randrange(args.members)}"
            for i in range(200_000)
        ]
        timings = []
        contains, clock = index.contains, time.perf_counter_ns
        for member in probes:
            t0 = clock()
            contains(ORG, "bench", member)
            timings.append(clock() - t0)
        timings.sort()
        p99_us = timings[int(len(timings) * 0.99)] / 1000
        load = os.getloadavg()
        result = {
            "events": args.events,
            "members": args.members,
            "audience_members": size,
            "audience_s": round(ours, 3),
            "hand_sql_s": round(hand, 3),
            "compile_s": round(compile_s, 3),
            "ratio_to_hand_sql": round(ours / hand, 3) if hand else None,
            "equal": equal,
            "membership_p50_us": timings[len(timings) // 2] / 1000,
            "membership_p99_us": p99_us,
            "load_average": [round(v, 2) for v in load],
        }
        con.disconnect()
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
