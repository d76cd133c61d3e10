"""The durable outbound queue: `enqueue` (in the caller's transaction) writes one delivery
per matching enabled endpoint; reads for the console, API and CLI; resending a dead letter."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from newretail.core.database import get_or_raise, utcnow
from newretail.reach import signing
from newretail.reach.errors import (
    DeliveryNotCancellable,
    DeliveryNotFound,
    DeliveryNotResendable,
)
from newretail.reach.models import (
    DeliveryState,
    EndpointPurpose,
    WebhookDelivery,
    WebhookEndpoint,
)
from newretail.tenancy.permissions import Permission, Principal

RESENDABLE = frozenset({DeliveryState.FAILED, DeliveryState.CANCELLED})
LISTED = 200  # deliveries a list shows, newest first


@dataclass(frozen=True)
class Outgoing:
    """One message to queue: its payload, to the enabled endpoints of a purpose (those of the
    store and those of no store)."""

    payload: dict[str, Any]
    purpose: EndpointPurpose
    store_id: uuid.UUID | None = None


def _endpoints(
    session: Session,
    organization_id: uuid.UUID,
    purpose: EndpointPurpose,
    store_id: uuid.UUID | None,
) -> list[WebhookEndpoint]:
    statement = select(WebhookEndpoint).where(
        WebhookEndpoint.organization_id == organization_id,
        WebhookEndpoint.purpose == purpose,
        WebhookEndpoint.enabled.is_(True),
    )
    if store_id is None:
        statement = statement.where(WebhookEndpoint.store_id.is_(None))
    else:
        statement = statement.where(
            or_(WebhookEndpoint.store_id.is_(None), WebhookEndpoint.store_id == store_id)
        )
    return list(session.scalars(statement.order_by(WebhookEndpoint.name)))


def enqueue_many(
    session: Session,
    organization_id: uuid.UUID,
    event_type: str,
    messages: Sequence[Outgoing],
    *,
    now: datetime | None = None,
) -> list[WebhookDelivery]:
    """Queue each message as an `event_type` message (e.g. `offer.delivered`) to every
    enabled endpoint of its purpose and store (the endpoints read once per purpose and store).
    Flushed in the caller's transaction (it commits, or the messages vanish with its
    rollback); the sender sends them from the next run on, due at once."""
    now = now or utcnow()
    targets: dict[tuple[EndpointPurpose, uuid.UUID | None], list[WebhookEndpoint]] = {}
    created: list[WebhookDelivery] = []
    for message in messages:
        where = (message.purpose, message.store_id)
        if where not in targets:
            targets[where] = _endpoints(session, organization_id, *where)
        created.extend(
            WebhookDelivery(
                organization_id=organization_id,
                message_id=signing.new_message_id(),
                endpoint_id=endpoint.id,
                event_type=event_type,
                payload=message.payload,
                state=DeliveryState.PENDING,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
            for endpoint in targets[where]
        )
    session.add_all(created)
    session.flush()
    return created


def enqueue(
    session: Session,
    organization_id: uuid.UUID,
    event_type: str,
    payload: dict[str, Any],
    purpose: EndpointPurpose,
    *,
    store_id: uuid.UUID | None = None,
    now: datetime | None = None,
) -> list[WebhookDelivery]:
    """`enqueue_many` of one message."""
    message = Outgoing(payload, purpose, store_id)
    return enqueue_many(session, organization_id, event_type, [message], now=now)


def list_deliveries(
    session: Session,
    *,
    endpoint_id: uuid.UUID | None = None,
    state: DeliveryState | None = None,
    limit: int = LISTED,
) -> Sequence[WebhookDelivery]:
    """The organisation's deliveries, newest first, of one endpoint or state if given."""
    statement = select(WebhookDelivery)
    if endpoint_id is not None:
        statement = statement.where(WebhookDelivery.endpoint_id == endpoint_id)
    if state is not None:
        statement = statement.where(WebhookDelivery.state == state)
    order = (WebhookDelivery.created_at.desc(), WebhookDelivery.id)
    return session.scalars(statement.order_by(*order).limit(limit)).all()


def get_delivery(session: Session, delivery_id: uuid.UUID) -> WebhookDelivery:
    """One delivery of the organisation."""
    return get_or_raise(session, WebhookDelivery, delivery_id, DeliveryNotFound)


def delivery_by_ref(session: Session, ref: str) -> WebhookDelivery:
    """A delivery by id or by its webhook-id (`msg_…`, the CLI)."""
    if ref.startswith("msg_"):
        found = session.scalar(select(WebhookDelivery).where(WebhookDelivery.message_id == ref))
        if found is None:
            raise DeliveryNotFound()
        return found
    try:
        return get_delivery(session, uuid.UUID(ref))
    except ValueError as exc:
        raise DeliveryNotFound() from exc


def resend(
    session: Session, principal: Principal, delivery_id: uuid.UUID, now: datetime | None = None
) -> WebhookDelivery:
    """Send a dead (or cancelled) delivery again, with the same webhook-id and a fresh retry
    schedule, from the sender's next run (held while its endpoint is disabled)."""
    principal.require(Permission.MANAGE_MARKETING)
    delivery = get_delivery(session, delivery_id)
    if delivery.state not in RESENDABLE:
        raise DeliveryNotResendable()
    delivery.state = DeliveryState.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = now or utcnow()
    session.flush()
    return delivery


def cancel(session: Session, principal: Principal, delivery_id: uuid.UUID) -> WebhookDelivery:
    """Withdraw a pending delivery (an offer sent by mistake): it is not sent again unless
    resent. Guarded: a delivery the sender is recording at this moment keeps its outcome."""
    principal.require(Permission.MANAGE_MARKETING)
    delivery = get_delivery(session, delivery_id)
    cancelled = session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.state == DeliveryState.PENDING,
        )
        .values(state=DeliveryState.CANCELLED, next_attempt_at=None)
        .execution_options(synchronize_session=False)
    )
    if not getattr(cancelled, "rowcount", 0):
        raise DeliveryNotCancellable()
    session.refresh(delivery)
    return delivery
