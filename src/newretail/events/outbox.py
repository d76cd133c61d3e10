"""Write commerce facts to the outbox in the fact's transaction; relay them to the warehouse.

`enqueue` is called by services inside the caller's transaction, so the fact and its event
commit together or not at all. `relay_once` copies unpublished rows to the warehouse event
table (message id `outbox:<id>`, skipped when already there) and then marks them published:
a crash between the two steps re-sends rows the warehouse already has, which the message-id
check drops, so every fact lands exactly once.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

import ibis
import pyarrow as pa
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from newretail.core.database import scope_session, utcnow
from newretail.events.models import OutboxMessage
from newretail.warehouse.connection import EVENT_SCHEMA, EVENT_TABLE, Warehouse

MESSAGE_PREFIX = "outbox:"


def enqueue(
    session: Session,
    organization_id: uuid.UUID,
    event_type: str,
    *,
    occurred_at: datetime | None = None,
    brand_id: uuid.UUID | None = None,
    store_id: uuid.UUID | None = None,
    channel: str | None = None,
    member_id: uuid.UUID | None = None,
    amount: Decimal | None = None,
    properties: dict[str, Any] | None = None,
) -> OutboxMessage:
    """Record a fact's event in the current transaction (nothing is sent before commit)."""
    message = OutboxMessage(
        organization_id=organization_id,
        event_type=event_type,
        occurred_at=occurred_at or utcnow(),
        brand_id=brand_id,
        store_id=store_id,
        channel=channel,
        member_id=member_id,
        amount=amount,
        properties=properties or {},
    )
    session.add(message)
    return message


def _row(message: OutboxMessage, received_at: datetime) -> dict[str, Any]:
    def text(value: uuid.UUID | None) -> str | None:
        return None if value is None else str(value)

    return {
        "organization_id": str(message.organization_id),
        "message_id": f"{MESSAGE_PREFIX}{message.id}",
        "type": message.event_type,
        "ts": message.occurred_at,
        "received_at": received_at,
        "brand_id": text(message.brand_id),
        "store_id": text(message.store_id),
        "channel": message.channel,
        "member_id": text(message.member_id),
        "profile_id": text(message.member_id),
        "anonymous_id": None,
        "amount": message.amount,
        "properties": json.dumps(message.properties, ensure_ascii=False, default=str),
    }


def relay_once(
    sessions: sessionmaker[Session], warehouse: Warehouse, batch_size: int = 1000
) -> int:
    """Publish one batch of unpublished outbox rows; returns how many were published.

    Lock order: the warehouse lock is never awaited inside an SQLite transaction (SQLite's
    write lock is database-wide, and the event loader takes the warehouse lock before it
    writes identities). On SQLite the batch is read, the transaction ended, the warehouse
    written, and the rows marked in a second transaction; the message-id check keeps a
    repeat harmless. On PostgreSQL the rows stay locked (SKIP LOCKED) so that several
    relays share the work.
    """
    session = scope_session(sessions(), None)
    try:
        statement = (
            select(OutboxMessage)
            .where(OutboxMessage.published_at.is_(None))
            .order_by(OutboxMessage.created_at, OutboxMessage.id)
            .limit(batch_size)
        )
        postgres = session.get_bind().dialect.name == "postgresql"
        if postgres:
            statement = statement.with_for_update(skip_locked=True)
        messages = list(session.scalars(statement))
        if not messages:
            session.rollback()
            return 0
        now = utcnow()
        rows = [_row(m, now) for m in messages]
        if not postgres:
            session.rollback()  # expire_on_commit is off: the rows keep their values
        _publish(warehouse, rows)
        ids = [m.id for m in messages]
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), OutboxMessage.published_at.is_(None))
            .values(published_at=now)
            .execution_options(synchronize_session=False)
        )
        session.commit()
        return len(messages)
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _publish(warehouse: Warehouse, rows: list[dict[str, Any]]) -> None:
    """Insert the rows whose message ids the warehouse does not hold yet."""
    con = warehouse.connection()
    with warehouse.lock:
        table = con.table(EVENT_TABLE)
        ids = [r["message_id"] for r in rows]
        present = set(table.filter(table.message_id.isin(ids)).message_id.to_pyarrow().to_pylist())
        fresh = [r for r in rows if r["message_id"] not in present]
        if fresh:
            columns = {name: [r[name] for r in fresh] for name in EVENT_SCHEMA.names}
            # through Arrow: pandas cannot carry a decimal column that holds nulls
            table = pa.Table.from_pydict(columns, schema=EVENT_SCHEMA.to_pyarrow())
            con.insert(EVENT_TABLE, ibis.memtable(table))


def relay_all(sessions: sessionmaker[Session], warehouse: Warehouse) -> int:
    """Relay until the outbox is empty."""
    total = 0
    while published := relay_once(sessions, warehouse):
        total += published
    return total
