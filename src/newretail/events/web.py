"""Console page for events: failed events (replay, discard) and the event types."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response

from newretail.console.params import parse_id
from newretail.console.shell import Form, check_csrf, redirect, render
from newretail.core.errors import InvalidInput
from newretail.events import service
from newretail.events.collector import Collector
from newretail.events.models import FailedEventStatus
from newretail.tenancy.dependencies import Identity, SessionDep
from newretail.tenancy.permissions import Permission

router = APIRouter(prefix="/console", include_in_schema=False)
SHOWN = 200


def _failed_id(value: str) -> uuid.UUID:
    return parse_id(value, "failed_id", "not a failed event id")


@router.get("/events")
def events_page(
    request: Request,
    session: SessionDep,
    identity: Identity,
    status: str = FailedEventStatus.OPEN,
    done: str = "",
) -> Response:
    """Failed events with their field and reason, and the event types."""
    principal = identity.principal
    if status not in set(FailedEventStatus):
        raise InvalidInput("must be open, replayed or discarded", field="status")
    failed, _ = service.list_failed(session, principal, SHOWN, None, status)
    return render(
        request,
        "events/events.html",
        identity,
        section="events",
        failed=failed,
        status=status,
        statuses=list(FailedEventStatus),
        types=service.list_event_types(session, principal),
        can_manage=principal.can(Permission.MANAGE_SOURCES),
        done=done,
    )


@router.post("/events/failed/{failed_id}/replay")
def replay(
    request: Request, session: SessionDep, identity: Identity, failed_id: str, form: Form
) -> Response:
    """Send one failed event again."""
    check_csrf(identity, form)
    collector: Collector = request.app.state.collector
    result = service.replay_failed(
        session, identity.principal, collector, failed_ids=[_failed_id(failed_id)]
    )
    return redirect(f"/console/events?done={'replayed' if result.replayed else 'still_failing'}")


@router.post("/events/failed/{failed_id}/discard")
def discard(session: SessionDep, identity: Identity, failed_id: str, form: Form) -> Response:
    """Close one failed event without storing it."""
    check_csrf(identity, form)
    service.discard_failed(session, identity.principal, _failed_id(failed_id))
    return redirect("/console/events?done=discarded")
