"""When a failed delivery is tried again: the Standard Webhooks (Svix) style schedule,
stretched to about three days, each wait jittered so that the deliveries that failed
together during an outage do not all come back at the same second; `Retry-After` of a 429
or 5xx answer wins over the schedule.

The jitter is bounded (±20 % of the step) rather than "full" (anywhere from 0 to the step):
with a fixed schedule, full jitter could turn a 10-hour wait into seconds and shorten the
three days a receiver is given to recover to about half."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

# wait after the n-th failed attempt (the first attempt is at once); after the last, dead
RETRY_SCHEDULE: tuple[timedelta, ...] = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    *(timedelta(hours=10),) * 7,
)
JITTER = 0.2
MAX_ATTEMPTS = len(RETRY_SCHEDULE) + 1
LONGEST_WAIT = max(RETRY_SCHEDULE)


def next_wait(failed_attempts: int, rng: random.Random) -> timedelta | None:
    """The wait after `failed_attempts` failures (≥ 1), jittered; None: no attempt is left."""
    if failed_attempts >= MAX_ATTEMPTS:
        return None
    step = RETRY_SCHEDULE[failed_attempts - 1].total_seconds()
    return timedelta(seconds=round(step * rng.uniform(1 - JITTER, 1 + JITTER), 3))


def retry_after(value: str | None, now: datetime) -> timedelta | None:
    """A `Retry-After` header's wait (delay-seconds or an HTTP date), at most the schedule's
    longest step; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        wait = timedelta(seconds=int(value))
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            return None
        wait = max(when - now, timedelta(0))
    return min(wait, LONGEST_WAIT)
