"""Reach tests' plumbing: an owner principal, endpoints, queued deliveries and a sender run
on a moved clock (the HTTP stays real)."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

import httpx

from newretail.bootstrap import Container
from newretail.core.database import session_scope
from newretail.reach import deliveries, endpoints, schemas, sender
from newretail.reach.models import EndpointPurpose, WebhookDelivery, WebhookEndpoint
from newretail.reach.secret_box import SecretBox
from newretail.tenancy.models import Role
from newretail.tenancy.permissions import Principal, PrincipalKind
from tests.conftest import Org

T0 = datetime(2026, 11, 11, 9, 0, tzinfo=UTC)


def owner(org: Org) -> Principal:
    return Principal.for_role(PrincipalKind.USER, org.id, Role.OWNER, actor="test")


def box(container: Container) -> SecretBox:
    return SecretBox.from_settings(container.settings)


def an_endpoint(
    container: Container,
    org: Org,
    url: str,
    *,
    name: str = "SMS gateway",
    purpose: EndpointPurpose = EndpointPurpose.SMS,
    store_id: uuid.UUID | None = None,
) -> tuple[uuid.UUID, str]:
    """A new endpoint's id and its secret."""
    data = schemas.EndpointCreate(name=name, url=url, purpose=purpose, store_id=store_id)
    with session_scope(container.sessions, org.id) as session:
        endpoint, secret = endpoints.create_endpoint(session, owner(org), box(container), data)
        return endpoint.id, secret


def queue(
    container: Container,
    org: Org,
    count: int = 1,
    *,
    purpose: EndpointPurpose = EndpointPurpose.SMS,
    store_id: uuid.UUID | None = None,
    now: datetime = T0,
) -> list[str]:
    """`count` offer.delivered messages; their webhook-ids."""
    ids: list[str] = []
    with session_scope(container.sessions, org.id) as session:
        for n in range(count):
            queued = deliveries.enqueue(
                session,
                org.id,
                "offer.delivered",
                {"member": f"m{n}", "offer": "D11"},
                purpose,
                store_id=store_id,
                now=now,
            )
            ids.extend(d.message_id for d in queued)
    return ids


def run(container: Container, org: Org, now: datetime, seed: int = 7) -> int:
    """One sender run of the organisation's due deliveries at `now`."""
    with httpx.Client(timeout=sender.TIMEOUT_SECONDS) as client:
        return sender.deliver_due(
            container.sessions,
            box(container),
            client,
            now=now,
            rng=random.Random(seed),
            organization_id=org.id,
        )


def run_until(container: Container, org: Org, start: datetime, end: datetime, step: int) -> None:
    """Sender runs every `step` seconds of the moved clock from `start` to `end`."""
    now = start
    while now <= end:
        run(container, org, now)
        now += timedelta(seconds=step)


def delivery(container: Container, org: Org, message_id: str) -> WebhookDelivery:
    with session_scope(container.sessions, org.id) as session:
        found = deliveries.delivery_by_ref(session, message_id)
        session.expunge(found)
        return found


def endpoint(container: Container, org: Org, endpoint_id: uuid.UUID) -> WebhookEndpoint:
    with session_scope(container.sessions, org.id) as session:
        found = endpoints.get_endpoint(session, endpoint_id)
        session.expunge(found)
        return found


def table_cells(printed: str, first: str) -> list[str]:
    """The cells of the Rich table row whose first cell is `first`."""
    for line in printed.splitlines():
        cells = [c.strip() for c in line.strip("│").split("│")]
        if cells[0] == first:
            return cells
    raise AssertionError(f"no row {first!r} in\n{printed}")
