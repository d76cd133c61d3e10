"""Reach in the events pipeline: each batch of accepted events newly stored in the warehouse
(with the member OneID resolved) is decided on, organisation by organisation — embedded and
NATS loaders alike, through the `on_loaded` hook the composition wires (`bootstrap`).

Only events that may match a rule are read (their type has rules, or a rule takes any type),
with a member, and fresh: an event that happened more than `FRESH_FOR` before it is loaded (an
import of history, a replay after a long outage) is not decided — the moment at the counter
has passed. Treated offers go out by their channel (`delivery_port.ChannelDelivery`: the
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
from sqlalchemy.orm import Session, sessionmaker

from newretail.core import telemetry
from newretail.core.database import session_scope, utcnow
from newretail.core.errors import NewRetailError
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

    def __call__(self, table: pa.Table) -> None:
        for org in pc.unique(table["organization_id"]).to_pylist():
            try:
                self.decide(uuid.UUID(org), table)
            except Exception:  # one organisation's failure leaves the others decided
                log.exception("deciding on the events of organisation %s failed", org)

    def decide(self, organization_id: uuid.UUID, table: pa.Table) -> int:
        """Decide on one organisation's loaded events in one transaction (`decide_many`: a few
        statements whatever the batch's size, so it holds SQLite's one write lock briefly);
        the decisions. A batch another server met is rolled back and its events decided one
        at a time in the same transaction. The batch is narrowed in Arrow first (the
        organisation's events with a member, of a type its rules take), so an organisation
        without trigger rules costs the loader next to nothing."""
        oldest = self.clock() - FRESH_FOR
        types = self.engine.snapshots.refresh(self.sessions, organization_id).rules_by_type
        if not types:
            return 0
        wanted = pc.and_(
            pc.equal(table["organization_id"], str(organization_id)),
            pc.is_valid(table["member_id"]),
        )
        if ANY_TYPE not in types:
            wanted = pc.and_(wanted, pc.is_in(table["type"], pa.array(list(types))))
        rows = (
            table.filter(wanted)
            .select(["message_id", "type", "ts", "store_id", "member_id", "properties"])
            .to_pylist()
        )
        events = [_event(organization_id, row) for row in rows if _aware(row["ts"]) >= oldest]
        if not events:  # no transaction (on SQLite, no write lock) for a batch with none
            return 0
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
