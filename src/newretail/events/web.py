"""Console pages for events: failed events (replay, discard), the event types, and the
retention settings (under the organisation's settings)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response

from newretail.console.forms import FormError, attempt, render_form
from newretail.console.params import parse_id
from newretail.console.shell import Form, check_csrf, page_locale, redirect, render
from newretail.core.errors import InvalidInput
from newretail.events import retention, schemas, service
from newretail.events.collector import Collector
from newretail.events.models import FailedEventStatus
from newretail.tenancy.dependencies import ContainerDep, Identity, SessionDep, posted_by
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


# ---------------------------------------------------------------- retention
RETENTION_FIELDS = ("default_days", "failed_days", "type_days")


def _retention_page(
    request: Request,
    session: SessionDep,
    identity: Identity,
    container: ContainerDep,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    done: str = "",
) -> Response:
    found = retention.read_retention(
        session, identity.principal, container.settings.failed_event_retention_days
    )
    if values is None:
        values = {
            "default_days": "" if found.default_days is None else str(found.default_days),
            "failed_days": "" if found.failed_days is None else str(found.failed_days),
            "type_days": "\n".join(f"{name} {days}" for name, days in found.type_days.items()),
        }
    return render_form(
        request,
        "events/retention.html",
        identity,
        values,
        errors,
        section="settings",
        retention=found,
        server_failed_days=container.settings.failed_event_retention_days,
        can_edit=identity.principal.can(Permission.MANAGE_ORGANIZATION),
        done=done,
    )


@router.get("/settings/retention")
def retention_page(
    request: Request,
    session: SessionDep,
    identity: Identity,
    container: ContainerDep,
    done: str = "",
) -> Response:
    """How long events and failed events are kept, and what the latest runs deleted."""
    identity.principal.require(Permission.READ)
    return _retention_page(request, session, identity, container, done=done)


def _days(field: str, text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit():
        raise FormError.keyed(field, "retention.not_days")
    return int(text)


def _type_days(text: str) -> dict[str, int]:
    found: dict[str, int] = {}
    for line in text.splitlines():
        name, _, days = line.replace("=", " ").replace(":", " ").strip().partition(" ")
        if not name:
            continue
        if not days.strip().isdigit():
            raise FormError.keyed("type_days", "retention.bad_line", line=line.strip())
        found[name] = int(days)
    return found


@router.post("/settings/retention")
def update_retention(
    request: Request, session: SessionDep, identity: Identity, container: ContainerDep, form: Form
) -> Response:
    """Save the retention settings, or show the form again with its errors."""
    posted_by(identity, form, Permission.MANAGE_ORGANIZATION)
    values = {name: form.get(name, "").strip() for name in RETENTION_FIELDS}
    with attempt(session, page_locale(request, identity)) as refusal:
        data = schemas.RetentionUpdate.model_validate(
            {
                "default_days": _days("default_days", values["default_days"]),
                "failed_days": _days("failed_days", values["failed_days"]),
                "type_days": _type_days(values["type_days"]),
            }
        )
        retention.update_retention(session, identity.principal, data)
    if refusal.errors:
        return _retention_page(request, session, identity, container, values, refusal.errors)
    return redirect("/console/settings/retention?done=saved")


@router.post("/settings/retention/run")
def run_retention(
    session: SessionDep, identity: Identity, container: ContainerDep, form: Form
) -> Response:
    """Apply the retention now."""
    posted_by(identity, form, Permission.MANAGE_ORGANIZATION)
    retention.run_retention(
        session,
        identity.principal,
        container.warehouse,
        container.settings.failed_event_retention_days,
    )
    return redirect("/console/settings/retention?done=ran")
