"""kill -9 of a loaded server, restart, resend what was not acknowledged: every event is
stored exactly once (bench/ingest_crash.py runs the same at 200k events)."""

from __future__ import annotations

from pathlib import Path

from bench import harness

TOTAL, BATCH = 20_000, 100


def test_kill_9_under_load_then_resend_the_unacknowledged_stores_each_event_once(
    tmp_path: Path,
) -> None:
    target = harness.prepare(tmp_path / "data")
    port = harness.free_port()
    requests, ids = harness.batch_requests(target, port, "crash", TOTAL, BATCH)
    run = harness.crash_and_resend(target, port, requests, 8)
    assert len(requests) // 4 <= run.acknowledged_before_kill < len(requests)
    assert run.resent == len(requests) - run.acknowledged_before_kill + 2
    assert run.resent_answered == run.resent
    stored = harness.stored_message_ids(target)
    assert len(stored) == TOTAL
    assert sorted(stored) == sorted(mid for chunk in ids for mid in chunk)
