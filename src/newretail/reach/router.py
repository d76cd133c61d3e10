"""REST API of reach's webhooks: endpoints (created and rotated with their secret shown
once), enable and disable, deliveries by endpoint and state, resend of a dead letter."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from newretail.reach import deliveries, endpoints, reads, schemas
from newretail.reach.models import DeliveryState
from newretail.reach.secret_box import SecretBox
from newretail.tenancy.dependencies import ContainerDep, CurrentPrincipal, SessionDep
from newretail.tenancy.permissions import Permission

router = APIRouter(prefix="/api/v1/reach/webhooks", tags=["reach"])


@router.get("/endpoints", response_model=list[schemas.EndpointRead])
def list_endpoints(session: SessionDep, principal: CurrentPrincipal) -> object:
    """Every webhook endpoint, by name (secrets by their prefix only)."""
    principal.require(Permission.READ)
    return reads.endpoint_reads(session, endpoints.list_endpoints(session))


@router.post("/endpoints", response_model=schemas.EndpointWithSecret, status_code=201)
def create_endpoint(
    session: SessionDep,
    principal: CurrentPrincipal,
    container: ContainerDep,
    body: schemas.EndpointCreate,
) -> object:
    """Register a receiver; its signing secret (`whsec_…`) is in this answer only."""
    box = SecretBox.from_settings(container.settings)
    endpoint, secret = endpoints.create_endpoint(session, principal, box, body)
    return reads.with_secret(session, endpoint, secret)


@router.get("/endpoints/{endpoint_id}", response_model=schemas.EndpointRead)
def read_endpoint(
    session: SessionDep, principal: CurrentPrincipal, endpoint_id: uuid.UUID
) -> object:
    """One endpoint."""
    principal.require(Permission.READ)
    return reads.endpoint_read(session, endpoints.get_endpoint(session, endpoint_id))


@router.post("/endpoints/{endpoint_id}/enable", response_model=schemas.EndpointRead)
def enable_endpoint(
    session: SessionDep, principal: CurrentPrincipal, endpoint_id: uuid.UUID
) -> object:
    """Send to the endpoint again; the deliveries it held go out at the sender's next run."""
    endpoint = endpoints.set_enabled(session, principal, endpoint_id, True)
    return reads.endpoint_read(session, endpoint)


@router.post("/endpoints/{endpoint_id}/disable", response_model=schemas.EndpointRead)
def disable_endpoint(
    session: SessionDep, principal: CurrentPrincipal, endpoint_id: uuid.UUID
) -> object:
    """Stop sending to the endpoint; its deliveries wait until it is enabled."""
    endpoint = endpoints.set_enabled(session, principal, endpoint_id, False)
    return reads.endpoint_read(session, endpoint)


@router.post("/endpoints/{endpoint_id}/rotate", response_model=schemas.EndpointWithSecret)
def rotate_secret(
    session: SessionDep,
    principal: CurrentPrincipal,
    container: ContainerDep,
    endpoint_id: uuid.UUID,
    body: schemas.RotationRequest,
) -> object:
    """A new signing secret (in this answer only); the old one keeps signing beside it for
    `keep_old_hours`, so the receiver can switch without a failed delivery."""
    box = SecretBox.from_settings(container.settings)
    endpoint, secret = endpoints.rotate_secret(
        session, principal, box, endpoint_id, body.keep_old_hours
    )
    return reads.with_secret(session, endpoint, secret)


@router.get("/deliveries", response_model=list[schemas.DeliveryRead])
def list_deliveries(
    session: SessionDep,
    principal: CurrentPrincipal,
    endpoint_id: uuid.UUID | None = None,
    state: DeliveryState | None = None,
) -> object:
    """The newest 200 deliveries, of one endpoint or in one state if asked."""
    principal.require(Permission.READ)
    found = deliveries.list_deliveries(session, endpoint_id=endpoint_id, state=state)
    return [reads.delivery_read(d) for d in found]


@router.get("/deliveries/{delivery_id}", response_model=schemas.DeliveryRead)
def read_delivery(
    session: SessionDep, principal: CurrentPrincipal, delivery_id: uuid.UUID
) -> object:
    """One delivery, with its attempts and last answer."""
    principal.require(Permission.READ)
    return reads.delivery_read(deliveries.get_delivery(session, delivery_id))


@router.post("/deliveries/{delivery_id}/resend", response_model=schemas.DeliveryRead)
def resend_delivery(
    session: SessionDep, principal: CurrentPrincipal, delivery_id: uuid.UUID
) -> object:
    """Send a failed (dead) or cancelled delivery again: same webhook-id, a fresh schedule."""
    return reads.delivery_read(deliveries.resend(session, principal, delivery_id))


@router.post("/deliveries/{delivery_id}/cancel", response_model=schemas.DeliveryRead)
def cancel_delivery(
    session: SessionDep, principal: CurrentPrincipal, delivery_id: uuid.UUID
) -> object:
    """Withdraw a pending delivery; it is not sent unless resent."""
    return reads.delivery_read(deliveries.cancel(session, principal, delivery_id))
