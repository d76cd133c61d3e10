"""Reach in the events pipeline: each batch of accepted events newly stored in the warehouse
(with the member OneID resolved) is decided on, organisation by organisation — embedded and
NATS loaders alike, through the `on_loaded` hook the composition wires (`bootstrap`).

Only events that may match a rule are read (their type has rules, or a rule takes any type),
with a member, and fresh: an event that happened more than `FRESH_FOR` before it is loaded (an
import of history, a replay after a long outage) is not decided — the moment at the counter
has passed. A batch whose transaction the database gave up on (SQLite's write lock not freed
within its timeout, a PostgreSQL conflict met again one event at a time) is not dropped: its
events wait in memory and are decided again, with the next batch the loader hands over, while
they are fresh. Treated offers go out by their channel (`delivery_port.ChannelDelivery`: the
webhooks queue, the member inbox, the store's counter screen).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from newretail.core import telemetry
from newretail.core.database import session_scope, utcnow
from newretail.core.errors import NewRetailError
from newretail.core.retry import busy, retryable
from newretail.reach.decide import TriggerEvent
from newretail.reach.decision_facts import Contended
from newretail.reach.decisions import DecisionEngine, Deliver, contended
from newretail.reach.delivery_port import ChannelDelivery
from newretail.reach.snapshot import ANY_TYPE, TriggerSnapshots
from newretail.warehouse.connection import Warehouse

FRESH_FOR = timedelta(minutes=10)
log = logging.getLogger(__name__)


class TriggerListener:
    """The `on_loaded` hook: decides on the trigger events of each loaded batch."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        warehouse: Warehouse,
        deliver: Deliver = ChannelDelivery(),
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.engine = DecisionEngine(TriggerSnapshots(warehouse), deliver, clock)
        self.clock = clock
        # per organisation, the events of a batch the database gave up on: decided next time
        self.waiting: dict[uuid.UUID, list[TriggerEvent]] = {}

    def __call__(self, table: pa.Table) -> None:
        loaded = [uuid.UUID(org) for org in pc.unique(table["organization_id"]).to_pylist()]
        for org in dict.fromkeys([*self.waiting, *loaded]):
            try:
                self.decide(org, table)
            except Exception:  # one organisation's failure leaves the others decided
                log.exception("deciding on the events of organisation %s failed", org)

    def decide(self, organization_id: uuid.UUID, table: pa.Table) -> int:
        """Decide on one organisation's loaded events, and those of its batch that waits, in
        one transaction (`decide_many`: a few statements whatever the batch's size, so it
        holds SQLite's one write lock briefly); the decisions. A batch another server met is
        rolled back and its events decided one at a time in the same transaction; one the
        database gave up on (`retryable`) waits for the next call. The batch is narrowed in
        Arrow first (the organisation's events with a member, of a type its rules take), so
        an organisation without trigger rules costs the loader next to nothing."""
        oldest = self.clock() - FRESH_FOR
        waiting = [e for e in self.waiting.pop(organization_id, []) if e.occurred_at >= oldest]
        mine = pc.and_(
            pc.equal(table["organization_id"], str(organization_id)),
            pc.is_valid(table["member_id"]),
        )
        events = waiting
        try:
            types = self.engine.snapshots.refresh(self.sessions, organization_id).rules_by_type
            if not types:
                return 0
            if ANY_TYPE not in types:
                kinds = pa.array(list(types))
                mine = pc.and_(mine, pc.is_in(table["type"], kinds))
                events = [e for e in waiting if e.event_type in types]
            events = events + _events(organization_id, table.filter(mine), oldest)
            if not events:  # no transaction (on SQLite, no write lock) for a batch with none
                return 0
            return self._decide(organization_id, events)
        except (DBAPIError, PoolTimeout) as error:
            if not (busy(error) or retryable(error)):
                raise
            if events is waiting:  # the rules were not read: every event of a member waits
                events = waiting + _events(organization_id, table.filter(mine), oldest)
            self.waiting[organization_id] = events  # nothing of it was kept
            log.warning(
                "deciding on %d events of organisation %s failed (%s); they wait for the next "
                "batch",
                len(events),
                organization_id,
                getattr(error, "orig", error),
            )
            return 0

    def _decide(self, organization_id: uuid.UUID, events: list[TriggerEvent]) -> int:
        with (
            telemetry.REACH_DECISION_SECONDS.time(),
            session_scope(self.sessions, organization_id) as session,
        ):
            try:
                with session.begin_nested():
                    return len(self.engine.decide_many(session, events))
            except (Contended, IntegrityError, DBAPIError, NewRetailError) as error:
                if not (contended(error) or isinstance(error, NewRetailError)):
                    raise
                log.info("a batch of %d events is decided one at a time: %s", len(events), error)
            decided = 0
            for event in events:
                try:
                    decided += len(self.engine.decide(session, event))
                except NewRetailError:  # its savepoint is rolled back; the batch goes on
                    log.exception("deciding on event %s failed", event.event_id)
            return decided


def _events(organization_id: uuid.UUID, table: pa.Table, oldest: datetime) -> list[TriggerEvent]:
    rows = table.select(["message_id", "type", "ts", "store_id", "member_id", "properties"])
    return [_event(organization_id, row) for row in rows.to_pylist() if _aware(row["ts"]) >= oldest]


def _event(organization_id: uuid.UUID, row: dict[str, Any]) -> TriggerEvent:
    return TriggerEvent(
        organization_id=organization_id,
        event_id=row["message_id"],
        event_type=row["type"],
        member_id=uuid.UUID(row["member_id"]),
        store_id=None if row["store_id"] is None else uuid.UUID(row["store_id"]),
        occurred_at=_aware(row["ts"]),
        properties=orjson.loads(row["properties"] or "{}"),
    )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
