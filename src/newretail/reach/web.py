"""Console pages of reach's webhooks: the endpoints (create, and the secret shown once), one
endpoint's page (enable, disable, rotate its secret, its deliveries with state, attempts,
last answer and next attempt in the organisation's time, a Resend button for dead letters)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from newretail.console.forms import FormError, attempt
from newretail.console.shell import Form, page_locale, redirect, render
from newretail.reach import deliveries, endpoints, reads, schemas
from newretail.reach.models import DeliveryState, EndpointPurpose
from newretail.reach.secret_box import SecretBox
from newretail.tenancy.auth import ConsoleIdentity
from newretail.tenancy.dependencies import ContainerDep, Identity, SessionDep, posted_by
from newretail.tenancy.models import Store
from newretail.tenancy.permissions import Permission

router = APIRouter(prefix="/console/reach/webhooks", include_in_schema=False)
PAGE = "/console/reach/webhooks"


def _stores(session: Session) -> list[tuple[uuid.UUID, str]]:
    rows = session.execute(select(Store.id, Store.name).order_by(Store.name))
    return [(row.id, row.name) for row in rows]


def _list_page(
    request: Request,
    session: Session,
    identity: ConsoleIdentity,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "reach/webhooks.html",
        identity,
        status_code,
        section="marketing",
        endpoints=reads.endpoint_reads(session, endpoints.list_endpoints(session)),
        purposes=list(EndpointPurpose),
        stores=_stores(session),
        form=form or {},
        errors=errors or {},
    )


def _endpoint_page(
    request: Request,
    session: Session,
    identity: ConsoleIdentity,
    endpoint_id: uuid.UUID,
    *,
    state: str = "",
    new_secret: str = "",
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    endpoint = reads.endpoint_read(session, endpoints.get_endpoint(session, endpoint_id))
    chosen = DeliveryState(state) if state in set(DeliveryState) else None
    found = deliveries.list_deliveries(session, endpoint_id=endpoint_id, state=chosen)
    return render(
        request,
        "reach/endpoint.html",
        identity,
        status_code,
        section="marketing",
        endpoint=endpoint,
        deliveries=[reads.delivery_read(d) for d in found],
        states=list(DeliveryState),
        state=chosen.value if chosen else "",
        resendable=deliveries.RESENDABLE,
        new_secret=new_secret,
        errors=errors or {},
    )


@router.get("")
def webhooks_page(request: Request, session: SessionDep, identity: Identity) -> Response:
    """The organisation's webhook endpoints and the form that adds one."""
    identity.principal.require(Permission.READ)
    return _list_page(request, session, identity)


def _endpoint_of(form: dict[str, str]) -> schemas.EndpointCreate:
    store = form.get("store_id", "").strip()
    try:
        store_id = uuid.UUID(store) if store else None
    except ValueError as exc:
        raise FormError.keyed("store_id", "reach.webhooks.choose_store") from exc
    data: dict[str, Any] = {
        "name": form.get("name", "").strip(),
        "url": form.get("url", "").strip(),
        "purpose": form.get("purpose", ""),
        "store_id": store_id,
    }
    return schemas.EndpointCreate.model_validate(data)


@router.post("")
def create_endpoint(
    request: Request, session: SessionDep, identity: Identity, container: ContainerDep, form: Form
) -> Response:
    """Add an endpoint; its page shows the signing secret this once."""
    principal = posted_by(identity, form, Permission.MANAGE_MARKETING)
    with attempt(session, page_locale(request, identity)) as refused:
        box = SecretBox.from_settings(container.settings)
        endpoint, secret = endpoints.create_endpoint(session, principal, box, _endpoint_of(form))
    if refused.errors:
        return _list_page(
            request,
            session,
            identity,
            form=dict(form),
            errors=refused.errors,
            status_code=refused.status_code,
        )
    return _endpoint_page(request, session, identity, endpoint.id, new_secret=secret)


@router.get("/{endpoint_id}")
def endpoint_page(
    request: Request,
    session: SessionDep,
    identity: Identity,
    endpoint_id: uuid.UUID,
    state: str = "",
) -> Response:
    """One endpoint and its deliveries (newest 200), of one state if chosen."""
    identity.principal.require(Permission.READ)
    return _endpoint_page(request, session, identity, endpoint_id, state=state)


@router.post("/{endpoint_id}/enable")
def enable_endpoint(
    session: SessionDep, identity: Identity, endpoint_id: uuid.UUID, form: Form
) -> Response:
    principal = posted_by(identity, form, Permission.MANAGE_MARKETING)
    endpoints.set_enabled(session, principal, endpoint_id, True)
    return redirect(f"{PAGE}/{endpoint_id}?changed=enabled")


@router.post("/{endpoint_id}/disable")
def disable_endpoint(
    session: SessionDep, identity: Identity, endpoint_id: uuid.UUID, form: Form
) -> Response:
    principal = posted_by(identity, form, Permission.MANAGE_MARKETING)
    endpoints.set_enabled(session, principal, endpoint_id, False)
    return redirect(f"{PAGE}/{endpoint_id}?changed=disabled")


@router.post("/{endpoint_id}/rotate")
def rotate_secret(
    request: Request,
    session: SessionDep,
    identity: Identity,
    container: ContainerDep,
    endpoint_id: uuid.UUID,
    form: Form,
) -> Response:
    """A new secret, shown this once on the page; the old one signs beside it for a while."""
    principal = posted_by(identity, form, Permission.MANAGE_MARKETING)
    endpoints.get_endpoint(session, endpoint_id)  # another organisation's: not found
    secret = ""
    with attempt(session, page_locale(request, identity)) as refused:
        body = schemas.RotationRequest.model_validate(
            {"keep_old_hours": form.get("keep_old_hours", "").strip()}
        )
        box = SecretBox.from_settings(container.settings)
        _, secret = endpoints.rotate_secret(
            session, principal, box, endpoint_id, body.keep_old_hours
        )
    return _endpoint_page(
        request,
        session,
        identity,
        endpoint_id,
        new_secret=secret,
        errors=refused.errors,
        status_code=refused.status_code if refused.errors else 200,
    )


@router.post("/deliveries/{delivery_id}/resend")
def resend_delivery(
    session: SessionDep, identity: Identity, delivery_id: uuid.UUID, form: Form
) -> Response:
    """Send a dead letter again (same webhook-id); back on its endpoint's page."""
    principal = posted_by(identity, form, Permission.MANAGE_MARKETING)
    delivery = deliveries.resend(session, principal, delivery_id)
    return redirect(f"{PAGE}/{delivery.endpoint_id}?resent={delivery.message_id}")


@router.post("/deliveries/{delivery_id}/cancel")
def cancel_delivery(
    session: SessionDep, identity: Identity, delivery_id: uuid.UUID, form: Form
) -> Response:
    """Withdraw a pending delivery; back on its endpoint's page."""
    principal = posted_by(identity, form, Permission.MANAGE_MARKETING)
    delivery = deliveries.cancel(session, principal, delivery_id)
    return redirect(f"{PAGE}/{delivery.endpoint_id}?cancelled={delivery.message_id}")
