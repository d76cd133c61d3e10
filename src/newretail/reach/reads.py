"""Endpoints and deliveries as the API, the console and the CLI show them: with the store's
and the endpoint's names, secrets by their prefix only."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from newretail.reach import schemas
from newretail.reach.models import (
    DeliveryState,
    EndpointPurpose,
    WebhookDelivery,
    WebhookEndpoint,
)
from newretail.tenancy.models import Store


def store_names(session: Session, store_ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    """Store id → name, for the stores given."""
    wanted = {s for s in store_ids if s is not None}
    if not wanted:
        return {}
    rows = session.execute(select(Store.id, Store.name).where(Store.id.in_(wanted)))
    return {row.id: row.name for row in rows}


def endpoint_reads(
    session: Session, found: Sequence[WebhookEndpoint]
) -> list[schemas.EndpointRead]:
    """Endpoints with their store's name and their secrets' prefixes."""
    names = store_names(session, (e.store_id for e in found))
    return [
        schemas.EndpointRead(
            id=e.id,
            name=e.name,
            url=e.url,
            purpose=EndpointPurpose(e.purpose),
            store_id=e.store_id,
            store_name=names.get(e.store_id) if e.store_id else None,
            enabled=e.enabled,
            disabled_reason=e.disabled_reason,
            disabled_at=e.disabled_at,
            secrets=[schemas.SecretRead.model_validate(s) for s in e.secrets],
            created_at=e.created_at,
            updated_at=e.updated_at,
        )
        for e in found
    ]


def endpoint_read(session: Session, endpoint: WebhookEndpoint) -> schemas.EndpointRead:
    return endpoint_reads(session, [endpoint])[0]


def with_secret(
    session: Session, endpoint: WebhookEndpoint, secret: str
) -> schemas.EndpointWithSecret:
    """An endpoint just created or rotated, with the secret shown this once."""
    return schemas.EndpointWithSecret(endpoint=endpoint_read(session, endpoint), secret=secret)


def delivery_read(delivery: WebhookDelivery) -> schemas.DeliveryRead:
    """One delivery with its endpoint's name."""
    return schemas.DeliveryRead(
        id=delivery.id,
        message_id=delivery.message_id,
        endpoint_id=delivery.endpoint_id,
        endpoint_name=delivery.endpoint.name,
        event_type=delivery.event_type,
        payload=delivery.payload,
        state=DeliveryState(delivery.state),
        attempts=delivery.attempts,
        next_attempt_at=delivery.next_attempt_at,
        last_status=delivery.last_status,
        last_error=delivery.last_error,
        last_attempt_at=delivery.last_attempt_at,
        delivered_at=delivery.delivered_at,
        created_at=delivery.created_at,
    )
