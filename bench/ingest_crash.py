"""kill -9 under load, at full size: 200k events with message ids are sent in batches of 100
over 16 connections; the server is killed once a quarter are acknowledged; after a restart
every unacknowledged batch is sent again. Prints how many events are stored and whether each
is stored exactly once (tests/events/test_durability.py runs the same at 20k).

    .venv/bin/python bench/ingest_crash.py [--quick] [--events N]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20k events, within 60 s")
    parser.add_argument("--events", type=int, default=None)
    args = parser.parse_args()
    total = args.events or (20_000 if args.quick else 200_000)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="nr-crash-") as folder:
        target = harness.prepare(Path(folder) / "data")
        port = harness.free_port()
        requests, ids = harness.batch_requests(target, port, "crash", total, 100)
        run = harness.crash_and_resend(target, port, requests, 16)
        stored = Counter(harness.stored_message_ids(target))
    expected = {mid for chunk in ids for mid in chunk}
    result = {
        "events": total,
        "acknowledged_before_kill": run.acknowledged_before_kill * 100,
        "resent": run.resent * 100,
        "resent_answered": run.resent_answered * 100,
        "stored": sum(stored.values()),
        "missing": len(expected - set(stored)),
        "stored_twice": sum(1 for n in stored.values() if n > 1),
        "exactly_once": set(stored) == expected and all(n == 1 for n in stored.values()),
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
