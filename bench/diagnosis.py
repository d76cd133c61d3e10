"""Benchmark of the operations centre's diagnosis (runs alone; the last line is one JSON object).

    .venv/bin/python bench/diagnosis.py            # 1,000 stores, 50M events, 5M orders
    .venv/bin/python bench/diagnosis.py --quick    # 200 stores, 1M events, 100k orders (< 60 s)

An organisation is made through the tenancy service (3 brands, its stores across channel types,
main categories and time zones) in an embedded data folder under the temp directory, and two
months of its events (61 local days up to now) are written straight into the DuckDB warehouse
by SQL (bench/diagnosis_data.py: fixed seed; purchases with `order_id` and `lines`, refunds,
store visits, people-counter `footfall`, online sessions of page and product views, carts).

Measured in the same run, on the same warehouse:
- the diagnosis of every store for a month — the last 30 complete local days against the 30
  before — as the product computes it, in parts (`parts_s`, each the best of `--runs` runs
  after a warm-up): `gmv_change_s`, the metrics of both months and each store's decomposition
  (`service.gmv_change`, both months in one query); `tiers_s`, the month's peer tiers and
  grades (`peers.peer_tiers` in the same session, one unit of work as a page or a command
  is: the month's store-days gmv_change read are not read again, so this is the tiering);
  `causes_s`,
  the cause search (`causes.store_causes`, one store at a time) of the `--cause-stores`
  stores with the largest change (default 5 quick, 20 full; 0: every store that changed; it
  costs about a second or more per store, so every store's causes would take minutes:
  `diagnosis_every_store_estimated_s` adds the measured rate times the stores that changed).
  diagnosis_s = the sum of the three parts as measured.
- hand_sql_s: one hand-written DuckDB SQL computing the same metrics per store and month and
  the peer tiers (with each cell's mean, median and 10th/90th percentiles of the graded
  metrics and the stores' grades); the best of `--runs` after one warm-up. One scan of the
  events; an event's local day from its store's UTC offset (epoch arithmetic: DuckDB's
  per-row `timezone()` costs seconds per million events), each order document parsed once.
  Its figures are compared with the diagnosis's (`same_figures`: GMV, paid, refunded,
  transactions, buyers, units and visitors of every store and month, and every store's tier).
- ratio_to_hand_sql = (gmv_change_s + tiers_s) ÷ hand_sql_s, the same work (target ≤ 1.5);
  the causes have no hand-written counterpart.
- home_page_ms: the console's home page `GET /console` through real HTTP from a
  `newretail serve` child process on the same data folder, signed in through the login form as
  the organisation's owner: the median of `--repeat` loads after a first (cold) one, which is
  given apart. The console keeps the home page's figures while the warehouse's events are
  unchanged (NEWRETAIL_DIAGNOSIS_HOME_CACHE_SECONDS, default 60): the first load reads the
  warehouse, the repeated ones are served from what it read; `cold_ms` is the read.
  While `/console` only redirects (the operations centre's home page is not on
  main), the figure is null and `home_page` says why; `diagnosis_page_ms` times the console's
  *Why GMV moved* page the same way (its default: the last 7 local days against the 7 before).
The machine's load average is printed with the figures: every figure grows under load.
"""

# ruff: noqa: S608 (the SQL is built from constants, dates and ids made by this script)

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from bench import diagnosis_data, harness  # noqa: E402
from newretail.bootstrap import Container, bootstrap  # noqa: E402
from newretail.core import migrate  # noqa: E402
from newretail.core.database import session_scope  # noqa: E402
from newretail.core.localtime import local_day_bounds  # noqa: E402
from newretail.core.settings import Settings  # noqa: E402
from newretail.diagnosis import causes, peers, service, tiers  # noqa: E402
from newretail.diagnosis.metrics import SOURCES  # noqa: E402

MONTH_DAYS = 30
FULL = diagnosis_data.Size(stores=1000, events=50_000_000, orders=5_000_000)
QUICK = diagnosis_data.Size(stores=200, events=1_000_000, orders=100_000)
TIER_METRICS = peers.PEER_METRICS


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Months:
    """The month diagnosed (the last 30 complete local days) and the month before."""

    base: service.Period
    period: service.Period


def months_of(today: date) -> Months:
    last = today - timedelta(days=1)
    first = last - timedelta(days=MONTH_DAYS - 1)
    base_last = first - timedelta(days=1)
    return Months(
        service.Period(base_last - timedelta(days=MONTH_DAYS - 1), base_last),
        service.Period(first, last),
    )


@dataclass
class Diagnosis:
    """What one run of the diagnosis found, and the time of each part."""

    change: service.GmvChange
    peers: peers.PeerReport
    causes: list[causes.StoreCauses]
    parts_s: dict[str, float] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    changed_stores: int = 0  # stores whose figures moved between the months


def _timed(parts: dict[str, float], name: str, function: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    result = function()
    parts[name] = time.perf_counter() - started
    return result


def diagnose(
    container: Container,
    org: diagnosis_data.Organisation,
    months: Months,
    cause_stores: int | None = None,
) -> Diagnosis:
    """The diagnosis of every store for the month, as the product computes it: each store's
    change split into visitors, conversion and order value (`service.gmv_change`), the peer
    tiers of the month (`peers.peer_tiers`) and the causes of each store's change
    (`causes.store_causes`; of the `cause_stores` stores with the largest change when given,
    otherwise of every store with a change)."""
    parts: dict[str, float] = {}
    notes: dict[str, str] = {}
    with session_scope(container.sessions, org.organization_id) as session:
        change = _timed(
            parts,
            "gmv_change_s",
            lambda: service.gmv_change(
                session,
                org.owner,
                container.warehouse,
                months.period.first,
                months.period.last,
                months.base.first,
                months.base.last,
            ),
        )
        report = _timed(
            parts,
            "tiers_s",
            lambda: peers.peer_tiers(
                session, org.owner, container.warehouse, last_day=months.period.last
            ),
        )
        notes["tiers"] = (
            "measured: peers.peer_tiers in gmv_change's session (the month's store-days it "
            "read are reused: no query of its own)"
        )
        # gmv_change ranks the stores by the size of their change
        changed = [c for c in change.stores if c.store.code is not None and c.base != c.comparison]
        chosen = changed if cause_stores is None else changed[:cause_stores]
        found_causes = _timed(
            parts,
            "causes_s",
            lambda: [
                causes.store_causes(
                    session,
                    org.owner,
                    container.warehouse,
                    str(c.store.code),
                    months.period.first,
                    months.period.last,
                    months.base.first,
                    months.base.last,
                )
                for c in chosen
            ],
        )
        if len(chosen) == len(changed):
            notes["causes"] = f"measured: causes.store_causes of all {len(chosen)} stores"
        else:
            notes["causes"] = (
                f"measured: causes.store_causes of the {len(chosen)} stores with the largest "
                f"change of the {len(changed)} that changed (--cause-stores)"
            )
    return Diagnosis(change, report, found_causes, parts, notes, len(changed))


def _types(names: tuple[str, ...] | list[str]) -> str:
    return "(" + ", ".join(f"'{n}'" for n in names) + ")"


def zone_offsets(zones: set[str], low: datetime, high: datetime) -> str:
    """A SQL expression of an event's UTC offset in seconds from its store's zone (`zone`
    column; the organisation's for events without a store) and `ts`, the zones' offsets and
    their changes between low and high found hour by hour with zoneinfo."""
    cases = []
    for name in sorted(zones):
        zone = ZoneInfo(name)
        spans: list[tuple[datetime, int]] = []
        at = low.replace(minute=0, second=0, microsecond=0)
        current = _utc_offset(zone, at)
        while at < high:
            at += timedelta(hours=1)
            offset = _utc_offset(zone, at)
            if offset != current:
                spans.append((at, current))
                current = offset
        if spans:
            inner = " ".join(
                f"WHEN ts < TIMESTAMPTZ '{until.isoformat()}' THEN {offset}"
                for until, offset in spans
            )
            cases.append(f"WHEN '{name}' THEN CASE {inner} ELSE {current} END")
        else:
            cases.append(f"WHEN '{name}' THEN {current}")
    return f"CAST(CASE zone {' '.join(cases)} END AS BIGINT)"


def _utc_offset(zone: ZoneInfo, at: datetime) -> int:
    offset = at.astimezone(zone).utcoffset()
    return 0 if offset is None else int(offset.total_seconds())


def hand_sql(org: diagnosis_data.Organisation, months: Months) -> str:
    """The month's and the month before's metrics per store, and the month's peer tiers with
    their cells' statistics and the stores' grades, written by hand for DuckDB: one scan of
    the events, each one's local day from its store's UTC offset (epoch arithmetic), each
    order document parsed once."""
    zones = {s["time_zone"] for s in org.stores} | {diagnosis_data.ORG_ZONE}
    low = min(local_day_bounds(months.base.first, z)[0] for z in zones)
    high = max(local_day_bounds(months.period.last, z)[1] for z in zones)
    b1, b2, c1, c2 = (
        f"DATE '{d.isoformat()}'"
        for d in (months.base.first, months.base.last, months.period.first, months.period.last)
    )
    paid, refund = _types(SOURCES.purchase_events), _types(SOURCES.refund_events)
    visit, counter = _types(SOURCES.visit_events), _types(SOURCES.footfall_events)
    cuts = [int(c) for c in tiers.TierConfig().cut_points]
    tier = " + ".join(f"CAST(100 * at_or_below > {c} * n AS INTEGER)" for c in cuts)

    def listed_units(position: int) -> str:
        # a line without a quantity is one unit
        return (
            f"list_sum(CAST(json_extract(doc[{position}], '$[*].quantity') AS BIGINT[])) "
            f"+ json_array_length(doc[{position}]) "
            f"- len(json_extract(doc[{position}], '$[*].quantity'))"
        )

    stats = ",\n".join(
        f"avg({m}) AS {m}_mean, quantile_cont({m}, 0.5) AS {m}_median, "
        f"quantile_cont({m}, 0.1) AS {m}_p10, quantile_cont({m}, 0.9) AS {m}_p90, "
        f"count({m}) AS {m}_values"
        for m in TIER_METRICS
    )
    grades = ",\n".join(
        f"CASE WHEN c.stores < 5 OR c.{m}_values < 5 OR t.{m} IS NULL THEN NULL "
        + (
            f"WHEN t.{m} <= c.{m}_p10 THEN 'excellent' WHEN t.{m} <= c.{m}_median THEN 'good' "
            if m in peers.LOWER_IS_BETTER
            else f"WHEN t.{m} >= c.{m}_p90 THEN 'excellent' WHEN t.{m} >= c.{m}_median THEN 'good' "
        )
        + f"ELSE 'poor' END AS {m}_grade"
        for m in TIER_METRICS
    )
    return f"""
    WITH ev AS (
        SELECT e.store_id, e.type, e.member_id, e.anonymous_id, e.message_id, e.amount,
               e.properties, e.ts,
               coalesce(s.time_zone, '{diagnosis_data.ORG_ZONE}') AS zone
        FROM event e LEFT JOIN bench_store s ON s.store_id = e.store_id
        WHERE e.organization_id = '{org.organization_id}'
          AND e.type IN {_types(SOURCES.types)}
          AND e.ts >= TIMESTAMPTZ '{low.isoformat()}' AND e.ts < TIMESTAMPTZ '{high.isoformat()}'
    ), dated AS (
        SELECT *,
               DATE '1970-01-01' + CAST((epoch_us(ts) + {zone_offsets(zones, low, high)}
                   * 1000000) // 86400000000 AS INTEGER) AS day,
               CASE WHEN type IN {paid} OR type IN {refund} OR type IN {counter}
                    THEN json_extract(properties,
                        ['$.order_id', '$.count', '$.lines', '$.items', '$.quantity'])
               END AS doc
        FROM ev
    ), parsed AS (
        SELECT store_id, day, CASE WHEN day >= {c1} THEN 1 ELSE 0 END AS period, type, amount,
               CASE WHEN type IN {paid} OR type IN {refund}
                    THEN coalesce(nullif(doc[1]->>'$', ''), 'e:' || message_id)
               END AS order_key,
               CASE WHEN type IN {visit}
                    THEN coalesce('m:' || member_id, 'a:' || anonymous_id, 'e:' || message_id)
               END AS visitor,
               CASE WHEN type IN {counter} THEN CAST(doc[2] AS BIGINT) END AS entries,
               CASE WHEN type NOT IN {paid} THEN NULL
                    WHEN json_type(doc[3]) = 'ARRAY' THEN {listed_units(3)}
                    WHEN json_type(doc[4]) = 'ARRAY' THEN {listed_units(4)}
                    ELSE TRY_CAST(doc[5] AS BIGINT) END AS units,
               member_id, anonymous_id
        FROM dated
        WHERE day BETWEEN {b1} AND {b2} OR day BETWEEN {c1} AND {c2}
    ), store_day AS (
        SELECT store_id, day, period,
               coalesce(sum(amount) FILTER (WHERE type IN {paid}), 0) AS paid,
               coalesce(sum(amount) FILTER (WHERE type IN {refund}), 0) AS refunded,
               count(DISTINCT order_key) FILTER (WHERE type IN {paid}) AS transactions,
               count(DISTINCT coalesce('m:' || member_id, 'a:' || anonymous_id,
                                       'o:' || order_key)) FILTER (WHERE type IN {paid})
                   AS buyers,
               coalesce(sum(units), 0) AS units,
               count(DISTINCT order_key) FILTER (WHERE units IS NOT NULL)
                   AS transactions_with_units,
               count(DISTINCT visitor) AS visit_visitors,
               count(*) FILTER (WHERE type IN {counter}) AS reports,
               coalesce(sum(entries), 0) AS footfall
        FROM parsed GROUP BY ALL
    ), per_store AS (
        SELECT store_id, period, sum(paid) AS paid, sum(refunded) AS refunded,
               sum(paid) - sum(refunded) AS gmv,
               sum(transactions) AS transactions, sum(buyers) AS buyers, sum(units) AS units,
               sum(transactions_with_units) AS transactions_with_units,
               sum(CASE WHEN reports > 0 THEN footfall ELSE visit_visitors END) AS visitors,
               count(*) AS store_days
        FROM store_day GROUP BY ALL
    ), month AS (
        SELECT s.store_id, s.category, s.channel_type, coalesce(p.gmv, 0) AS gmv,
               coalesce(p.visitors, 0) AS visitors,
               CAST(p.buyers AS DOUBLE) / nullif(p.visitors, 0) AS conversion,
               p.gmv / nullif(p.buyers, 0) AS order_value,
               CAST(p.units AS DOUBLE) / nullif(p.transactions_with_units, 0)
                   AS units_per_transaction,
               CASE WHEN p.paid > 0 THEN CAST(p.refunded AS DOUBLE) / p.paid END AS refund_rate
        FROM bench_store s LEFT JOIN per_store p ON p.store_id = s.store_id AND p.period = 1
        WHERE s.channel_type <> 'warehouse'
    ), ranked AS (
        SELECT *,
               count(*) FILTER (WHERE gmv > 0) OVER (PARTITION BY category, channel_type) AS n,
               count(*) FILTER (WHERE gmv > 0)
                   OVER (PARTITION BY category, channel_type ORDER BY gmv) AS at_or_below
        FROM month
    ), tiered AS (
        SELECT *, CASE WHEN gmv <= 0 THEN 1 ELSE 2 + {tier} END AS tier FROM ranked
    ), cells AS (
        SELECT category, channel_type, tier, count(*) AS stores,
               {stats}
        FROM tiered GROUP BY ALL
    ), graded AS (
        SELECT t.store_id, t.tier, c.* EXCLUDE (category, channel_type, tier), {grades}
        FROM tiered t JOIN cells c USING (category, channel_type, tier)
    )
    SELECT p.store_id, p.period, p.gmv, p.paid, p.refunded, p.transactions, p.buyers, p.units,
           p.visitors, NULL AS tier, NULL AS conversion_grade, NULL AS order_value_grade
    FROM per_store p
    UNION ALL
    SELECT store_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, tier, conversion_grade,
           order_value_grade
    FROM graded
    """


def run_hand_sql(con: Any, sql: str) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in con.raw_sql(sql).fetchall()]


def compare(found: Diagnosis, rows: list[tuple[Any, ...]]) -> list[str]:
    """Where the diagnosis and the hand SQL disagree (empty: the same figures)."""
    figures: dict[tuple[str | None, int], tuple[Any, ...]] = {}
    tier_of: dict[str, int] = {}
    for row in rows:
        if row[1] is None:
            tier_of[row[0]] = int(row[9])
        else:
            figures[(row[0], int(row[1]))] = tuple(
                Decimal(v).quantize(Decimal("0.01")) if i < 3 else int(v)
                for i, v in enumerate(row[2:9])
            )
    ours: dict[tuple[str | None, int], tuple[Any, ...]] = {}
    for change in found.change.stores:
        key = None if change.store.id is None else str(change.store.id)
        for period, m in ((0, change.base), (1, change.comparison)):
            if m.store_days:
                ours[(key, period)] = (
                    m.gmv,
                    m.paid,
                    m.refunded,
                    m.transactions,
                    m.buyers,
                    m.units,
                    m.visitors,
                )
    problems = [
        f"{key}: diagnosis {ours.get(key)} hand SQL {figures.get(key)}"
        for key in sorted(set(ours) | set(figures), key=str)
        if ours.get(key) != figures.get(key)
    ]
    our_tiers = {str(s.store.id): s.tier.tier for s in found.peers.stores}
    problems += [
        f"tier of {key}: diagnosis {our_tiers.get(key)} hand SQL {tier_of.get(key)}"
        for key in sorted(set(our_tiers) | set(tier_of))
        if our_tiers.get(key) != tier_of.get(key)
    ]
    return problems


def best(runs: int, function: Callable[[], Any], warm_up: bool = True) -> tuple[float, Any]:
    """One warm-up run (unless told not to), then the best time of `runs` (and the last
    result)."""
    result = function() if warm_up else None
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return min(times), result


def _page_times(client: httpx.Client, url: str, repeat: int) -> dict[str, Any]:
    started = time.perf_counter()
    first = client.get(url)
    cold = time.perf_counter() - started
    if first.status_code != 200:
        return {"status": first.status_code, "location": first.headers.get("location")}
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise RuntimeError(f"{url}: {response.status_code}")
    return {
        "status": 200,
        "cold_ms": round(cold * 1000, 1),
        "median_ms": round(statistics.median(times) * 1000, 1),
        "max_ms": round(max(times) * 1000, 1),
    }


def pages(data_dir: Path, org: diagnosis_data.Organisation, repeat: int) -> dict[str, Any]:
    """The console's home page and *Why GMV moved* page through real HTTP, signed in."""
    env = {
        **os.environ,
        "NEWRETAIL_DATA_DIR": str(data_dir),
        "NEWRETAIL_SECRET_KEY": harness.SECRET,
        "NEWRETAIL_OUTBOX_RELAY_SECONDS": "0",
        "NEWRETAIL_MAINTENANCE_SECONDS": "0",
    }
    target = harness.Target(env, str(org.organization_id), "", [], data_dir)
    port = harness.free_port()
    server = harness.start_server(target, port, timeout=300)
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=600, follow_redirects=False) as client:
            page = client.get("/console/login")
            token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
            signed = client.post(
                "/console/login",
                data={
                    "email": org.owner_email,
                    "password": diagnosis_data.OWNER_PASSWORD,
                    "csrf_token": token,
                },
            )
            if signed.status_code != 303:
                raise RuntimeError(f"login: {signed.status_code} {signed.text[:300]}")
            home = _page_times(client, "/console", repeat)
            diagnosis_page = _page_times(client, "/console/diagnosis", repeat)
    finally:
        harness.stop_server(server)
    for found in (home, diagnosis_page):
        if found["status"] >= 500:  # the server's own words, before the folder goes
            found["server_log"] = (data_dir / "server.log").read_text(errors="replace")[-3000:]
    return {"home": home, "diagnosis_page": diagnosis_page}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="200 stores, 1M events, 100k orders")
    parser.add_argument("--stores", type=int, default=None)
    parser.add_argument("--events", type=int, default=None)
    parser.add_argument("--orders", type=int, default=None)
    parser.add_argument("--runs", type=int, default=None, help="timed runs after a warm-up")
    parser.add_argument(
        "--cause-stores",
        type=int,
        default=None,
        help="causes of the N stores with the largest change (default 5 quick, 20 full; "
        "0: every store that changed)",
    )
    parser.add_argument("--repeat", type=int, default=None, help="page loads after the first")
    parser.add_argument(
        "--no-warm-up",
        dest="warm_up",
        action="store_false",
        help="time the first runs (on a busy machine a full-size warm-up costs minutes)",
    )
    parser.add_argument("--memory", default="6GB", help="DuckDB memory_limit")
    parser.add_argument("--workdir", type=Path, default=None, help="default: a temp directory")
    args = parser.parse_args()
    size = QUICK if args.quick else FULL
    size = diagnosis_data.Size(
        stores=args.stores or size.stores,
        events=args.events or size.events,
        orders=args.orders or size.orders,
    )
    runs = args.runs or (1 if args.quick else 2)
    repeat = args.repeat or (3 if args.quick else 10)
    cause_stores = (5 if args.quick else 20) if args.cause_stores is None else args.cause_stores
    workdir = Path(tempfile.mkdtemp(prefix="newretail-diagnosis-", dir=args.workdir))
    data_dir = workdir / "data"
    settings = Settings(data_dir=data_dir, secret_key=harness.SECRET)
    container = bootstrap(settings)
    try:
        migrate.upgrade(container.engine)
        started = time.perf_counter()
        org = diagnosis_data.create_organisation(container, size.stores)
        stores_s = time.perf_counter() - started
        con = container.warehouse.connection()
        con.raw_sql(f"SET memory_limit = '{args.memory}'")
        con.raw_sql(f"SET temp_directory = '{workdir / 'spill'}'")
        log(f"generating {size.events:,} events, {size.orders:,} orders, {size.stores} stores")
        started = time.perf_counter()
        counts = diagnosis_data.generate(con, org, size, log)
        con.raw_sql("CHECKPOINT")
        generate_s = time.perf_counter() - started
        log(f"generated {counts} in {generate_s:.1f}s")
        months = months_of(org.today)
        sql = hand_sql(org, months)
        hand_s, rows = best(runs, lambda: run_hand_sql(con, sql), args.warm_up)
        log(f"hand SQL: {hand_s:.2f}s")
        if args.warm_up:
            diagnose(container, org, months, cause_stores=0)  # without causes
        found = [diagnose(container, org, months, cause_stores or None) for _ in range(runs)]
        diagnosis = found[-1]
        parts = {name: min(d.parts_s[name] for d in found) for name in diagnosis.parts_s}
        log(f"diagnosis: {parts}")
        same_work_s = parts["gmv_change_s"] + parts["tiers_s"]
        diagnosis_s = same_work_s + parts["causes_s"]
        explained = len(diagnosis.causes)
        every_store_s = same_work_s + parts["causes_s"] / max(explained, 1) * (
            diagnosis.changed_stores
        )
        problems = compare(diagnosis, rows)
        for problem in problems[:20]:
            log(f"DIFFERENT {problem}")
        tier_counts: dict[int, int] = {}
        for store in diagnosis.peers.stores:
            tier_counts[store.tier.tier] = tier_counts.get(store.tier.tier, 0) + 1
    finally:
        container.close()
    log("timing the console's pages through a server")
    page = pages(data_dir, org, repeat)
    home = page["home"]
    result = {
        "bench": "diagnosis",
        "stores": size.stores,
        "events": counts["events"],
        "orders": counts["orders"],
        "refunds": counts["refunds"],
        "month": [months.period.first.isoformat(), months.period.last.isoformat()],
        "against": [months.base.first.isoformat(), months.base.last.isoformat()],
        "diagnosis_s": round(diagnosis_s, 3),
        "parts_s": {name: round(value, 3) for name, value in parts.items()},
        "causes_stores": explained,
        "changed_stores": diagnosis.changed_stores,
        "causes_per_store_s": round(parts["causes_s"] / max(explained, 1), 3),
        "diagnosis_every_store_estimated_s": round(every_store_s, 1),
        "hand_sql_s": round(hand_s, 3),
        "ratio_to_hand_sql": round(same_work_s / hand_s, 3),
        "ratio_covers": "gmv_change + peer_tiers (metrics, decomposition, tiers) over the "
        "hand SQL (metrics, tiers); the causes have no hand-SQL counterpart",
        "ratio_target": 1.5,
        "same_figures": not problems,
        "differences": len(problems),
        "tiers": diagnosis.notes["tiers"],
        "tier_counts": dict(sorted(tier_counts.items())),
        "causes": diagnosis.notes["causes"],
        "home_page_ms": home.get("median_ms"),
        "home_page": home
        if home.get("status") == 200
        else (
            f"not measured: GET /console answers {home['status']} to {home.get('location')} "
            "(the operations centre's home page is not on main)"
        ),
        "home_page_target_ms": 300,
        "diagnosis_page_ms": page["diagnosis_page"].get("median_ms"),
        "diagnosis_page": page["diagnosis_page"],
        "generate_s": round(generate_s, 1),
        "stores_created_s": round(stores_s, 1),
        "runs": runs,
        "warm_up": args.warm_up,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
