"""Use cases around the collector: failed events (list, replay, discard), custom event types
and Segment track-name mappings."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from newretail.core.database import get_or_not_found, scope_session, utcnow, where_given
from newretail.core.domain_events import after_commit
from newretail.core.errors import Conflict, InvalidInput, NotFound
from newretail.core.pagination import paginate
from newretail.events import schemas
from newretail.events.checker import SourceRef
from newretail.events.collector import Collector
from newretail.events.models import (
    CustomEventType,
    EventNameMapping,
    FailedEvent,
    FailedEventStatus,
    OutboxMessage,
)
from newretail.events.submission import Submission
from newretail.events.taxonomy import BUILT_IN
from newretail.events.validation import SchemaError, compile_schema
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.models import Source
from newretail.tenancy.permissions import Permission, Principal

REPLAY_BATCH = 500


# ---------------------------------------------------------------- the outbox, as readers see it
@dataclass(frozen=True)
class OutboxDelay:
    """The organisation's outbox rows not yet in the warehouse that were written before
    `cutoff`: how many, and when the oldest was written (None: there are none)."""

    cutoff: datetime
    waiting: int
    oldest: datetime | None


def late_outbox(
    session: Session, principal: Principal, older_than: timedelta, now: datetime | None = None
) -> OutboxDelay:
    """The commerce facts (orders, refunds, stock, coupons) committed more than `older_than`
    ago whose events the relay has not yet delivered to the warehouse: while any wait, the
    warehouse's figures miss them."""
    principal.require(Permission.READ)
    cutoff = (now or utcnow()) - older_than
    waiting, oldest = session.execute(
        select(func.count(), func.min(OutboxMessage.created_at)).where(
            OutboxMessage.published_at.is_(None), OutboxMessage.created_at < cutoff
        )
    ).one()
    return OutboxDelay(cutoff, int(waiting), oldest)


# ---------------------------------------------------------------- failed events
def list_failed(
    session: Session,
    principal: Principal,
    limit: int,
    cursor: str | None,
    status: str | None = FailedEventStatus.OPEN,
    source_id: uuid.UUID | None = None,
    event_type: str | None = None,
) -> tuple[list[FailedEvent], str | None]:
    """Failed events, oldest first, filtered by status, source and type."""
    principal.require(Permission.READ)
    statement = where_given(
        select(FailedEvent),
        (FailedEvent.status, status),
        (FailedEvent.source_id, source_id),
        (FailedEvent.event_type, event_type),
    )
    return paginate(session, statement, FailedEvent, limit, cursor)


def get_failed(session: Session, principal: Principal, failed_id: uuid.UUID) -> FailedEvent:
    """One failed event of the organisation."""
    principal.require(Permission.READ)
    return get_or_not_found(session, FailedEvent, failed_id, "failed event", field="failed_id")


def discard_failed(session: Session, principal: Principal, failed_id: uuid.UUID) -> FailedEvent:
    """Close a failed event without storing it."""
    principal.require(Permission.MANAGE_SOURCES)
    found = get_failed(session, principal, failed_id)
    if found.status != FailedEventStatus.OPEN:
        raise Conflict(f"the failed event is already {found.status}", field="failed_id")
    found.status = FailedEventStatus.DISCARDED
    found.resolved_at = utcnow()
    session.flush()
    return found


def replay_failed(
    session: Session,
    principal: Principal,
    collector: Collector,
    failed_ids: Sequence[uuid.UUID] | None = None,
    corrected: dict[str, Any] | None = None,
    source_id: uuid.UUID | None = None,
    event_type: str | None = None,
) -> schemas.ReplayResult:
    """Send open failed events through the collector again (after a fix of the sender, the
    catalogue or a schema, or with a corrected payload); stored ones are closed."""
    principal.require(Permission.MANAGE_SOURCES)
    statement = select(FailedEvent).where(FailedEvent.status == FailedEventStatus.OPEN)
    if failed_ids is not None:
        statement = statement.where(FailedEvent.id.in_(failed_ids))
    if source_id is not None:
        statement = statement.where(FailedEvent.source_id == source_id)
    if event_type is not None:
        statement = statement.where(FailedEvent.event_type == event_type)
    rows = list(session.scalars(statement.order_by(FailedEvent.created_at, FailedEvent.id)))
    if failed_ids is not None and len(failed_ids) == 1 and not rows:
        get_failed(session, principal, failed_ids[0])  # 404 when unknown
        raise Conflict("the failed event is not open", field="failed_id")
    replayed, still, reasons = 0, 0, []
    submissions: list[Submission] = []
    for start in range(0, len(rows), REPLAY_BATCH):
        chunk = rows[start : start + REPLAY_BATCH]
        for api in ("native", "segment", "import"):
            part = [r for r in chunk if r.api == api]
            if part:
                done, failures = _replay(
                    session, collector, principal, part, api, corrected, submissions
                )
                replayed += done
                still += len(failures)
                reasons.extend(failures)
    session.flush()
    closed = [r.id for r in rows if r.status == FailedEventStatus.REPLAYED]
    after_commit(
        session,
        partial(_write_replayed, session.get_bind(), collector, submissions, principal, closed),
    )
    return schemas.ReplayResult(replayed=replayed, still_failing=still, failed=reasons)


def _write_replayed(
    bind: Engine | Connection,
    collector: Collector,
    submissions: list[Submission],
    principal: Principal,
    closed: list[uuid.UUID],
) -> None:
    """After the commit, the events go to the pipeline (which writes in its own transactions,
    so the caller's, holding SQLite's write lock, must have ended); if that fails, the
    events closed by the replay are opened again."""
    try:
        for submission in submissions:
            collector.pipeline.write_now(submission)
    except Exception:
        with Session(bind) as session, session.begin():
            scope_session(session, principal.organization_id)
            session.execute(
                update(FailedEvent)
                .where(FailedEvent.id.in_(closed))
                .values(status=FailedEventStatus.OPEN, resolved_at=None)
            )
        raise


def _replay(
    session: Session,
    collector: Collector,
    principal: Principal,
    rows: list[FailedEvent],
    api: str,
    corrected: dict[str, Any] | None,
    submissions: list[Submission],
) -> tuple[int, list[schemas.FailedItem]]:
    now = utcnow()
    by_source: dict[uuid.UUID | None, list[FailedEvent]] = {}
    for row in rows:
        by_source.setdefault(row.source_id, []).append(row)
    done, failures = 0, []
    for source_id, items in by_source.items():
        store_id = None
        if source_id is not None and (found := session.get(Source, source_id)) is not None:
            store_id = found.store_id
        source = SourceRef(principal.organization_id, source_id, store_id)
        payloads = [corrected if corrected is not None else r.payload for r in items]
        if api == "segment":
            submission = collector.check_segment(source, payloads, now, "events")
        else:
            submission = collector.check(source, payloads, now, api=api)
        rejected = {r.index: r for r in submission.rejected}
        submission.rejected = []  # they stay as they are, with the new reason
        submissions.append(submission)  # written once the caller commits
        for index, row in enumerate(items):
            if index in rejected:
                row.field, row.reason = rejected[index].field, rejected[index].reason
                if corrected is not None:
                    row.payload = corrected
                failures.append(schemas.FailedItem(index=index, field=row.field, reason=row.reason))
            else:
                row.status = FailedEventStatus.REPLAYED
                row.resolved_at = now
                if corrected is not None:
                    row.payload = corrected
                done += 1
    return done, failures


# ---------------------------------------------------------------- event types
def list_event_types(session: Session, principal: Principal) -> list[schemas.EventTypeRead]:
    """Built-in types and the organisation's custom types with their schemas."""
    principal.require(Permission.READ)
    found = [
        schemas.EventTypeRead(name=name, description="", built_in=True, schema_=schema)
        for name, schema in BUILT_IN.items()
    ]
    for item in session.scalars(select(CustomEventType).order_by(CustomEventType.name)):
        found.append(
            schemas.EventTypeRead(
                name=item.name, description=item.description, built_in=False, schema_=item.schema
            )
        )
    return found


def put_event_type(
    session: Session, principal: Principal, data: schemas.EventTypeIn
) -> schemas.EventTypeRead:
    """Register or change a custom event type (its schema is checked first)."""
    principal.require(Permission.MANAGE_SOURCES)
    if data.name in BUILT_IN:
        raise Conflict("a built-in event type cannot be redefined", field="name")
    try:
        compile_schema(data.schema_)
    except SchemaError as exc:
        raise InvalidInput(exc.reason, field=exc.path) from exc
    found = session.scalar(select(CustomEventType).where(CustomEventType.name == data.name))
    if found is None:
        found = CustomEventType(
            organization_id=principal.organization_id,
            name=data.name,
            description=data.description,
            schema=data.schema_,
        )
        session.add(found)
    else:
        found.description, found.schema, found.updated_at = data.description, data.schema_, utcnow()
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Conflict("the event type was registered concurrently", field="name") from exc
    return schemas.EventTypeRead(
        name=found.name, description=found.description, built_in=False, schema_=found.schema
    )


def delete_event_type(session: Session, principal: Principal, name: str) -> None:
    """Remove a custom event type (stored events keep their type)."""
    principal.require(Permission.MANAGE_SOURCES)
    found = session.scalar(select(CustomEventType).where(CustomEventType.name == name))
    if found is None:
        raise NotFound("no custom event type of that name", field="name")
    session.delete(found)
    session.flush()


# ---------------------------------------------------------------- track mappings
def get_mapping(
    session: Session, principal: Principal, source_id: uuid.UUID
) -> schemas.MappingRead:
    """A source's Segment track-name → event-type mapping."""
    tenancy_service.get_source(session, principal, source_id)
    rows = session.execute(
        select(EventNameMapping.event_name, EventNameMapping.event_type).where(
            EventNameMapping.source_id == source_id
        )
    )
    return schemas.MappingRead(source_id=source_id, mappings={n: t for n, t in rows})


def put_mapping(
    session: Session, principal: Principal, source_id: uuid.UUID, data: schemas.MappingIn
) -> schemas.MappingRead:
    """Replace a source's track-name mapping (types must be built-in or registered)."""
    principal.require(Permission.MANAGE_SOURCES)
    tenancy_service.get_source(session, principal, source_id)
    custom = set(session.scalars(select(CustomEventType.name)))
    for name, kind in data.mappings.items():
        if not name.strip() or len(name) > 200:
            raise InvalidInput("track names have 1-200 characters", field=f"mappings.{name}")
        if kind not in BUILT_IN and kind not in custom:
            raise InvalidInput(f"unknown event type {kind!r}", field=f"mappings.{name}")
    session.execute(delete(EventNameMapping).where(EventNameMapping.source_id == source_id))
    for name, kind in data.mappings.items():
        session.add(
            EventNameMapping(
                organization_id=principal.organization_id,
                source_id=source_id,
                event_name=name,
                event_type=kind,
            )
        )
    session.flush()
    return schemas.MappingRead(source_id=source_id, mappings=dict(data.mappings))
