"""kill -9 of a loaded server, restart, resend what was not acknowledged: every event is
stored exactly once (bench/ingest_crash.py runs the same at 200k events)."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

from bench import harness

TOTAL, BATCH = 20_000, 100


def test_kill_9_under_load_then_resend_the_unacknowledged_stores_each_event_once(
    tmp_path: Path,
) -> None:
    target = harness.prepare(tmp_path / "data")
    port = harness.free_port()
    requests, ids = harness.batch_requests(target, port, "crash", TOTAL, BATCH)
    server = harness.start_server(target, port)
    acknowledged: list[int] = []

    async def load_and_kill() -> None:
        sending = asyncio.create_task(
            harness.send_all(port, requests, 8, acknowledged=acknowledged)
        )
        while len(acknowledged) < len(requests) // 4 and not sending.done():
            await asyncio.sleep(0.002)
        os.kill(server.pid, signal.SIGKILL)
        await sending

    asyncio.run(load_and_kill())
    server.wait()
    assert server.returncode == -signal.SIGKILL
    assert len(requests) // 4 <= len(acknowledged) < len(requests)

    server = harness.start_server(target, port)
    try:
        done = set(acknowledged)
        unacknowledged = [i for i in range(len(requests)) if i not in done]
        # resend the unacknowledged ones and, to show the dedupe, two acknowledged ones
        resend = [requests[i] for i in unacknowledged + acknowledged[:2]]
        answered = asyncio.run(harness.send_all(port, resend, 4))
        assert answered == len(resend)
    finally:
        harness.stop_server(server)

    stored = harness.stored_message_ids(target)
    assert len(stored) == TOTAL
    assert sorted(stored) == sorted(mid for chunk in ids for mid in chunk)
