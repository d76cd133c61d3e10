"""The retry schedule (about three days, jittered ±20 %) and Retry-After."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from newretail.reach import schedule

NOW = datetime(2026, 11, 11, 8, 0, tzinfo=UTC)


class Edge(random.Random):
    """A Random whose uniform(a, b) is always a (low) or b (high)."""

    def __init__(self, high: bool) -> None:
        super().__init__(0)
        self.high = high

    def uniform(self, a: float, b: float) -> float:
        return b if self.high else a


def test_the_schedule_is_the_standard_webhooks_one_stretched_to_three_days() -> None:
    waits = [schedule.next_wait(n, Edge(high=False)) for n in range(1, 14)]
    nominal = [w / 0.8 if w is not None else None for w in waits]
    assert nominal == [
        timedelta(seconds=5),
        timedelta(minutes=5),
        timedelta(minutes=30),
        timedelta(hours=2),
        timedelta(hours=5),
        *[timedelta(hours=10)] * 7,
        None,
    ]
    assert sum(schedule.RETRY_SCHEDULE, timedelta()) == timedelta(hours=77, minutes=35, seconds=5)
    assert schedule.MAX_ATTEMPTS == 13


def test_the_jitter_is_bounded_to_a_fifth_of_the_step() -> None:
    assert schedule.next_wait(1, Edge(high=False)) == timedelta(seconds=4)
    assert schedule.next_wait(1, Edge(high=True)) == timedelta(seconds=6)
    assert schedule.next_wait(12, Edge(high=False)) == timedelta(hours=8)
    assert schedule.next_wait(12, Edge(high=True)) == timedelta(hours=12)


def test_seeded_jitter_gives_exact_waits() -> None:
    rng = random.Random(42)
    waits = [schedule.next_wait(n, rng) for n in (1, 2, 3)]
    # random.Random(42).random() is 0.6394…, 0.0250…, 0.2750…: step × (0.8 + 0.4 × r)
    assert waits == [
        timedelta(seconds=5.279),
        timedelta(seconds=243.001),
        timedelta(seconds=1638.021),
    ]


def test_retry_after_in_seconds_or_as_an_http_date_capped_at_ten_hours() -> None:
    assert schedule.retry_after("120", NOW) == timedelta(seconds=120)
    assert schedule.retry_after(" 0 ", NOW) == timedelta(0)
    assert schedule.retry_after("Wed, 11 Nov 2026 08:02:30 GMT", NOW) == timedelta(seconds=150)
    assert schedule.retry_after("Wed, 11 Nov 2026 07:00:00 GMT", NOW) == timedelta(0)
    assert schedule.retry_after("86400", NOW) == timedelta(hours=10)
    assert schedule.retry_after("soon", NOW) is None
    assert schedule.retry_after("", NOW) is None
    assert schedule.retry_after(None, NOW) is None
