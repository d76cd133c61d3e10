"""Realtime reach through real HTTP: trigger events into a running server, decided in the
collector's path against an audience of 1M members and 20 running campaigns.

For each store — the embedded stores (SQLite + DuckDB) and PostgreSQL (the operational store,
a throw-away database; the warehouse the DuckDB file, as the embedded pipeline loads) — a
`newretail serve` child process (bench/harness.py) receives:
1. set-up (not timed, bench/reach_setup.py): the people resolved to OneID members; the
   audience stored as a refresh stores it, 90 % of the people in it; 95 % with SMS consent;
   20 campaigns (10 % holdout, a large stage budget, a daily cap of 3, re-entry after 5
   minutes) each with a `counter_approach` rule on one store and one beacon; an SMS webhook
   endpoint (the sender job off: sending is not the decision; its deliveries stay queued);
2. the server, primed with a few events (its snapshot and membership index loaded,
   as a running server has them), then at a fixed rate (open loop, single-event requests
   with the source's write key, 16 keep-alive connections):
   - baseline: the same kind of events to a second organisation of the same server that has
     no trigger rules → `baseline_request_p50_ms`, `baseline_request_p99_ms` (client side);
   - reach: `counter_approach` events of the people at the 4 stores, beacons b0–b5 (b5 no
     rule's: 1 in 6 events matches nothing) → every decision's latency = `decided_at` of its
     `reach_decision` row − `received_at` of its event (stamped by the collector when the
     request arrived), both the server's clock: p50/p99 over all decisions; decisions and
     decided trigger events per second (from the first arrival to the last decision);
     requests' latency client side; the reasons' histogram.
After the run, by SQL: `holdout_contacted` = members held out of a campaign who have a coupon
of that campaign's stage or a webhook delivery of that campaign (must be 0).

`decided_at` is taken when the decision is taken (before its checks and its commit), so the
latency is arrival → decision, the commit (a few ms more) not included.

The loader's linger (`event_load_interval_ms`, product default 200 ms: events wait up to that
long to be loaded in larger batches) is set to `--load-interval-ms` (default 0: load at once,
as a server used for realtime reach is configured); the figure is in the JSON.

Last line: one JSON object. PostgreSQL figures under `trigger_events_per_s`,
`decision_p50_ms`, `decision_p99_ms`, `holdout_contacted` (and `decisions_per_s`, …), the
embedded ones under the same names prefixed `embedded_`. Target: p99 ≤ 10 ms at 1,000
trigger events/s; `holdout_contacted` 0.

    .venv/bin/python bench/reach.py [--quick] [--seconds N] [--rate N] [--audience N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import duckdb
import orjson
from sqlalchemy import select

from bench import harness, reach_setup, scratch_db
from newretail.bootstrap import bootstrap
from newretail.core.database import session_scope
from newretail.core.settings import Settings
from newretail.marketing.campaigns import held_out
from newretail.marketing.models import Coupon
from newretail.reach.models import ReachDecision, WebhookDelivery

CONNECTIONS = 16
BEACONS = reach_setup.BEACONS + 1  # one beacon no rule listens to
PRIMING = 20


def percentile(ordered: list[float], share: float) -> float:
    return ordered[max(0, int(len(ordered) * share) - 1)]


def ms(seconds: float) -> float | None:
    """Milliseconds; None for a decision still missing when the run ended."""
    return None if seconds == float("inf") else round(seconds * 1000, 2)


_clock = time.perf_counter()


def phase(name: str) -> None:
    print(f"{time.perf_counter() - _clock:7.1f} s  {name}", file=sys.stderr, flush=True)


def caught_up(port: int, seconds: float) -> bool:
    """Whether the server loaded (and decided on) every accepted event within `seconds`."""
    try:
        harness.wait_loaded(port, timeout=seconds)
    except RuntimeError:
        return False
    return True


async def open_loop(
    port: int, requests: list[bytes], rate: float, latencies: list[float], failed: Counter[str]
) -> float:
    """Send request i at start + i / rate whatever the answers so far (open loop), over a pool
    of keep-alive connections; each latency from its due time to its answer, each answer
    other than 200 counted by status (a dropped connection as "reset"). Returns the seconds
    the sending took."""
    loop = asyncio.get_running_loop()
    pool: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for _ in range(CONNECTIONS):
        pool.put_nowait(await asyncio.open_connection("127.0.0.1", port))

    async def one(request: bytes, due: float) -> None:
        reader, writer = await pool.get()
        try:
            writer.write(request)
            await writer.drain()
            status, _ = await harness.read_response(reader)
        except (OSError, asyncio.IncompleteReadError):  # the server dropped the connection
            writer.close()
            failed["reset"] += 1
            pool.put_nowait(await asyncio.open_connection("127.0.0.1", port))
            return
        latencies.append(loop.time() - due)
        pool.put_nowait((reader, writer))
        if status != 200:
            failed[str(status)] += 1

    start = loop.time()
    tasks = []
    for index, request in enumerate(requests):
        due = start + index / rate
        if (wait := due - loop.time()) > 0:
            await asyncio.sleep(wait)
        tasks.append(asyncio.create_task(one(request, due)))
    sent = loop.time() - start
    await asyncio.gather(*tasks)
    while not pool.empty():
        pool.get_nowait()[1].close()
    return sent


def trigger_requests(
    target: harness.Target, port: int, prefix: str, count: int, people: int, seed: int
) -> list[bytes]:
    """Single-event `counter_approach` requests of random people at random stores/beacons."""
    rng = random.Random(seed)
    stamp = datetime.now(UTC).isoformat()
    requests = []
    for n in range(count):
        event = {
            "message_id": f"{prefix}-{n}",
            "type": "counter_approach",
            "ts": stamp,
            "store_id": rng.choice(target.store_ids),
            "identifiers": {"anonymous_id": f"anon-{rng.randrange(people)}"},
            "properties": {"beacon_id": f"b{rng.randrange(BEACONS)}"},
        }
        body = orjson.dumps({"events": [event]})
        requests.append(harness.request_bytes(port, target.write_key, body))
    return requests


def arrivals(target: harness.Target, prefix: str) -> dict[str, datetime]:
    """When each run event's request arrived (`received_at`), by message id."""
    with duckdb.connect(str(target.warehouse_path)) as con:  # replays a killed server's WAL
        rows = con.execute(
            "SELECT message_id, received_at FROM event "
            "WHERE organization_id = ? AND message_id LIKE ?",
            [target.organization_id, f"{prefix}-%"],
        ).fetchall()
    return {m: _aware(at) for m, at in rows}


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def outcome(target: harness.Target, plan: reach_setup.Reach, prefix: str) -> dict[str, Any]:
    """Decisions, their latency and the holdout's contacts, read from the stores."""
    container = bootstrap(Settings(data_dir=target.data_dir, secret_key=harness.SECRET))
    org = uuid.UUID(target.organization_id)
    try:
        with session_scope(container.sessions, org) as session:
            decisions = session.execute(
                select(
                    ReachDecision.event_id,
                    ReachDecision.decided_at,
                    ReachDecision.reason,
                    ReachDecision.campaign_id,
                    ReachDecision.member_id,
                ).where(ReachDecision.event_id.like(f"{prefix}-%"))
            ).all()
            coupons = session.execute(select(Coupon.stage_key, Coupon.member_id)).all()
            payloads = session.scalars(select(WebhookDelivery.payload)).all()
    finally:
        container.close()
    arrived = arrivals(target, prefix)
    latencies = sorted(
        (_aware(d.decided_at) - arrived[d.event_id]).total_seconds() for d in decisions
    )
    held = {(d.campaign_id, d.member_id) for d in decisions if d.reason == "holdout"}
    treated = {(d.campaign_id, d.member_id) for d in decisions if d.reason == "treated"}
    issued = {(plan.stage_campaign.get(key or ""), member) for key, member in coupons}
    queued = {(uuid.UUID(p["campaign_id"]), uuid.UUID(p["member_id"])) for p in payloads}
    treated_held = sum(
        1
        for d in decisions
        if d.reason == "treated"
        and held_out(d.campaign_id, d.member_id, reach_setup.HOLDOUT_PERCENT)
    )
    first = min(arrived.values())
    last = max(_aware(d.decided_at) for d in decisions)
    span = (last - first).total_seconds()
    return {
        "decisions": len(decisions),
        "decided_events": len({d.event_id for d in decisions}),
        "events_stored": len(arrived),
        "span_s": span,
        "latencies": latencies,
        "reasons": dict(Counter(d.reason for d in decisions).most_common()),
        "holdout_contacted": len({m for c, m in held if (c, m) in issued or (c, m) in queued}),
        # the same check on the treated finds every one of them (it is not blind)
        "treated_contacted": len(
            {(c, m) for c, m in treated if (c, m) in issued and (c, m) in queued}
        ),
        "treated_pairs": len(treated),
        "treated_in_holdout": treated_held,
        "holdout_members": len({m for _, m in held}),
    }


@contextmanager
def environment(**values: str) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def measure(args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    """One store's run (the operational store as the environment names it)."""
    data = folder / "data"
    target = harness.prepare(data)
    baseline_org = harness.prepare(data)
    port = harness.free_port()
    phase("prepared")
    started = time.perf_counter()
    plan = reach_setup.set_up(target, baseline_org, args.people, args.audience)
    setup_s = time.perf_counter() - started
    phase("set up")

    count = int(args.rate * args.seconds)
    priming = trigger_requests(target, port, "prime", PRIMING, args.people, seed=1)
    baseline = trigger_requests(baseline_org, port, "base", count // 3, args.people, seed=2)
    run = trigger_requests(target, port, "run", count, args.people, seed=3)
    matched = sum(1 for r in run if b'"beacon_id":"b5"' not in r)  # one rule each
    base_latencies: list[float] = []
    run_latencies: list[float] = []
    failed: Counter[str] = Counter()
    server = harness.start_server(target, port)
    drained = False
    phase("started")
    try:
        assert asyncio.run(harness.send_all(port, priming, 1)) == PRIMING
        harness.wait_loaded(port)  # the snapshot and its audience loaded, decided
        phase("primed")
        base_s = asyncio.run(open_loop(port, baseline, args.rate, base_latencies, failed))
        harness.wait_loaded(port)
        phase("baseline")
        run_s = asyncio.run(open_loop(port, run, args.rate, run_latencies, failed))
        phase("sent")
        drained = caught_up(port, args.drain_seconds)  # a batch counts loaded once decided on
        phase(f"drained={drained}")
    except Exception:
        print((target.data_dir / "server.log").read_text()[-8000:], file=sys.stderr)
        raise
    finally:
        if drained:
            harness.stop_server(server)
        else:  # what is left undecided is left: the figures count it as missing
            server.kill()
            server.wait()
    if failed:  # the server's side of its failures
        print((target.data_dir / "server.log").read_text()[-4000:], file=sys.stderr)
    found = outcome(target, plan, "run")
    missing = matched - found["decisions"]
    latencies = found.pop("latencies") + [float("inf")] * missing
    base_latencies.sort()
    run_latencies.sort()
    return {
        "trigger_events_per_s": round(found["decided_events"] / found["span_s"]),
        "decisions_per_s": round(found["decisions"] / found["span_s"]),
        "decision_p50_ms": ms(percentile(latencies, 0.5)),
        "decision_p99_ms": ms(percentile(latencies, 0.99)),
        "decision_max_ms": ms(latencies[-1]),
        "decisions_missing": missing,
        "decided_share": round(found["decisions"] / max(matched, 1), 4),
        "holdout_contacted": found["holdout_contacted"],
        "treated_in_holdout": found["treated_in_holdout"],
        "treated_contacted": found["treated_contacted"],
        "treated_pairs": found["treated_pairs"],
        "holdout_members": found["holdout_members"],
        "requests_per_s": round(count / run_s),
        "request_p50_ms": ms(statistics.median(run_latencies)),
        "request_p99_ms": ms(percentile(run_latencies, 0.99)),
        "baseline_requests_per_s": round(len(baseline) / base_s),
        "baseline_request_p50_ms": ms(statistics.median(base_latencies)),
        "baseline_request_p99_ms": ms(percentile(base_latencies, 0.99)),
        "requests_failed": dict(sorted(failed.items())),
        "events_sent": count,
        "events_stored": found["events_stored"],
        "decided_events": found["decided_events"],
        "decisions": found["decisions"],
        "reasons": found["reasons"],
        "audience_members": plan.audience_size,
        "setup_s": round(setup_s, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller run, within 60 s")
    parser.add_argument("--seconds", type=float, default=None, help="timed run (default 60)")
    parser.add_argument("--rate", type=float, default=1000.0, help="trigger events/s")
    parser.add_argument("--audience", type=int, default=None, help="members (default 1M)")
    parser.add_argument("--people", type=int, default=None, help="people sending events")
    parser.add_argument("--load-interval-ms", type=int, default=0, help="the loader's linger")
    parser.add_argument(
        "--drain-seconds", type=float, default=None, help="wait for the decisions after sending"
    )
    parser.add_argument("--stores", choices=("both", "embedded", "postgres"), default="both")
    args = parser.parse_args()
    args.seconds = args.seconds or (3.0 if args.quick else 60.0)
    args.audience = args.audience or (50_000 if args.quick else 1_000_000)
    args.people = args.people or (5_000 if args.quick else 50_000)
    args.drain_seconds = args.drain_seconds or (3.0 if args.quick else 60.0)

    result: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "load_average_1m_start": round(os.getloadavg()[0], 2),
    }
    settings = {
        "NEWRETAIL_EVENT_LOAD_INTERVAL_MS": str(args.load_interval_ms),
        "NEWRETAIL_WEBHOOK_SEND_SECONDS": "0",
    }
    embedded: dict[str, Any] = {}
    if args.stores in ("both", "embedded"):
        with environment(**settings), tempfile.TemporaryDirectory(prefix="nr-reach-") as folder:
            embedded = measure(args, Path(folder) / "embedded")
    postgres: dict[str, Any] = {}
    if args.stores in ("both", "postgres"):
        with (
            scratch_db.throwaway_database() as url,
            environment(**settings, NEWRETAIL_DATABASE_URL=url),
            tempfile.TemporaryDirectory(prefix="nr-reach-pg-") as folder,
        ):
            postgres = measure(args, Path(folder) / "postgres")
    result.update(postgres)
    result.update({f"embedded_{k}": v for k, v in embedded.items()})
    result.update(
        {
            "rate_target": args.rate,
            "seconds": args.seconds,
            "people": args.people,
            "event_load_interval_ms": args.load_interval_ms,
            "load_average_1m_end": round(os.getloadavg()[0], 2),
        }
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
