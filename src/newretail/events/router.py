"""The events admin API: failed events, custom event types and track-name mappings.

The ingestion routes themselves are served by events/gateway.py.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from newretail.core.http import no_content, page
from newretail.events import retention, schemas, service
from newretail.events.collector import Collector
from newretail.events.models import FailedEventStatus
from newretail.tenancy.dependencies import ContainerDep, CurrentPrincipal, Cursor, Limit, SessionDep

router = APIRouter()


async def get_collector(request: Request) -> Collector:
    collector: Collector = request.app.state.collector
    return collector


CollectorDep = Annotated[Collector, Depends(get_collector)]


# ---------------------------------------------------------------- failed events
@router.get("/api/v1/events/failed", response_model=schemas.FailedEventPage, tags=["events"])
def list_failed_events(
    session: SessionDep,
    principal: CurrentPrincipal,
    limit: Limit = 50,
    cursor: Cursor = None,
    status_: Annotated[
        FailedEventStatus | None, Query(alias="status", description="Default: open")
    ] = FailedEventStatus.OPEN,
    source_id: uuid.UUID | None = None,
    type: Annotated[str | None, Query(max_length=64)] = None,
) -> object:
    """Events the collector refused, with the field and the reason."""
    return page(service.list_failed(session, principal, limit, cursor, status_, source_id, type))


@router.get(
    "/api/v1/events/failed/{failed_id}", response_model=schemas.FailedEventRead, tags=["events"]
)
def read_failed_event(
    session: SessionDep, principal: CurrentPrincipal, failed_id: uuid.UUID
) -> object:
    """One failed event with its payload."""
    return service.get_failed(session, principal, failed_id)


@router.post(
    "/api/v1/events/failed/{failed_id}/replay",
    response_model=schemas.ReplayResult,
    tags=["events"],
)
def replay_failed_event(
    session: SessionDep,
    principal: CurrentPrincipal,
    collector: CollectorDep,
    failed_id: uuid.UUID,
    body: schemas.ReplayIn,
) -> object:
    """Send a failed event again, as stored or corrected; it closes once stored."""
    return service.replay_failed(
        session, principal, collector, failed_ids=[failed_id], corrected=body.payload
    )


@router.post("/api/v1/events/failed/replay", response_model=schemas.ReplayResult, tags=["events"])
def replay_failed_events(
    session: SessionDep,
    principal: CurrentPrincipal,
    collector: CollectorDep,
    body: schemas.ReplayAllIn,
) -> object:
    """Send every open failed event (of a source, of a type) again after a fix."""
    return service.replay_failed(
        session, principal, collector, source_id=body.source_id, event_type=body.event_type
    )


@router.post(
    "/api/v1/events/failed/{failed_id}/discard",
    response_model=schemas.FailedEventRead,
    tags=["events"],
)
def discard_failed_event(
    session: SessionDep, principal: CurrentPrincipal, failed_id: uuid.UUID
) -> object:
    """Close a failed event without storing it."""
    return service.discard_failed(session, principal, failed_id)


# ---------------------------------------------------------------- types and mappings
@router.get("/api/v1/events/types", response_model=list[schemas.EventTypeRead], tags=["events"])
def list_event_types(session: SessionDep, principal: CurrentPrincipal) -> object:
    """Built-in and custom event types with the JSON Schema of their properties."""
    return service.list_event_types(session, principal)


@router.post("/api/v1/events/types", response_model=schemas.EventTypeRead, tags=["events"])
def put_event_type(
    session: SessionDep,
    principal: CurrentPrincipal,
    collector: CollectorDep,
    body: schemas.EventTypeIn,
) -> object:
    """Register a custom event type, or replace the schema of one (by name)."""
    found = service.put_event_type(session, principal, body)
    collector.forget_caches()
    return found


@router.delete("/api/v1/events/types/{name}", status_code=204, tags=["events"])
def delete_event_type(
    session: SessionDep, principal: CurrentPrincipal, collector: CollectorDep, name: str
) -> Response:
    """Remove a custom event type."""
    service.delete_event_type(session, principal, name)
    collector.forget_caches()
    return no_content()


@router.get(
    "/api/v1/sources/{source_id}/event-mappings",
    response_model=schemas.MappingRead,
    tags=["events"],
)
def read_mapping(session: SessionDep, principal: CurrentPrincipal, source_id: uuid.UUID) -> object:
    """A source's Segment track-name → event-type mapping."""
    return service.get_mapping(session, principal, source_id)


@router.put(
    "/api/v1/sources/{source_id}/event-mappings",
    response_model=schemas.MappingRead,
    tags=["events"],
)
def put_mapping(
    session: SessionDep,
    principal: CurrentPrincipal,
    collector: CollectorDep,
    source_id: uuid.UUID,
    body: schemas.MappingIn,
) -> object:
    """Replace a source's track-name mapping."""
    found = service.put_mapping(session, principal, source_id, body)
    collector.forget_caches()
    return found


# ---------------------------------------------------------------- retention
@router.get("/api/v1/events/retention", response_model=schemas.RetentionRead, tags=["events"])
def read_retention(
    session: SessionDep, principal: CurrentPrincipal, container: ContainerDep
) -> object:
    """How long the organisation keeps its events and failed events, and the latest runs."""
    days = container.settings.failed_event_retention_days
    return retention.read_retention(session, principal, days)


@router.put("/api/v1/events/retention", response_model=schemas.RetentionRead, tags=["events"])
def put_retention(
    session: SessionDep,
    principal: CurrentPrincipal,
    container: ContainerDep,
    body: schemas.RetentionUpdate,
) -> object:
    """Replace the retention settings: default days, days per event type, failed events' days
    (each 1 … 3650; null keeps the events, or the failed events' server default)."""
    retention.update_retention(session, principal, body)
    days = container.settings.failed_event_retention_days
    return retention.read_retention(session, principal, days)


@router.post(
    "/api/v1/events/retention/runs",
    response_model=schemas.RetentionRunRead,
    status_code=201,
    tags=["events"],
)
def run_retention(
    session: SessionDep, principal: CurrentPrincipal, container: ContainerDep
) -> object:
    """Apply the retention now (the server's job also does, every maintenance interval); the
    events deleted per type and the failed events deleted."""
    days = container.settings.failed_event_retention_days
    return retention.run_retention(session, principal, container.warehouse, days)
