"""What waits between acknowledgement and the warehouse: one reading for metrics and /readyz.

- the loader's backlog: acknowledged batches in the embedded spool, not yet in the warehouse;
- the outbox's backlog: committed commerce facts the relay has not published yet;
- the stream's lag: with NATS JetStream, messages the loaders have not acknowledged yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func, select

from newretail.core.database import SQLITE_DEFERRED, utcnow
from newretail.events.models import OutboxMessage
from newretail.events.pipeline import Pipeline

STREAM_TIMEOUT = 5.0  # a scrape or a readiness probe does not wait longer for NATS


@dataclass(frozen=True)
class OutboxBacklog:
    rows: int
    oldest_seconds: float  # 0 when empty


class Backlogs:
    """Reads the backlogs of one server's pipeline and of the shared outbox."""

    def __init__(self, engine: Engine, pipeline: Pipeline):
        self.engine = engine
        self.pipeline = pipeline

    @property
    def streams(self) -> bool:
        """Whether events go through NATS JetStream (then the stream has a lag to read)."""
        return self.pipeline.stream is not None

    def loader(self) -> int:
        """Acknowledged batches in the spool not yet loaded (0 without a spool)."""
        return self.pipeline.backlog

    def outbox(self) -> OutboxBacklog:
        """Unpublished outbox rows of every organisation and the age of the oldest (read
        without waiting for SQLite's writers)."""
        statement = select(func.count(), func.min(OutboxMessage.created_at)).where(
            OutboxMessage.published_at.is_(None)
        )
        with self.engine.connect().execution_options(**{SQLITE_DEFERRED: True}) as connection:
            rows, oldest = connection.execute(statement).one()
        return OutboxBacklog(int(rows), _age(oldest))

    def stream_lag(self) -> int | None:
        """Messages in the stream not yet acknowledged by a loader; None without a stream.
        Raises when NATS does not answer within STREAM_TIMEOUT."""
        stream = self.pipeline.stream
        return None if stream is None else stream.pending(timeout=STREAM_TIMEOUT)


def _age(oldest: datetime | None) -> float:
    if oldest is None:
        return 0.0
    if oldest.tzinfo is None:  # SQLite hands back naive UTC
        oldest = oldest.replace(tzinfo=utcnow().tzinfo)
    return max(0.0, (utcnow() - oldest).total_seconds())
