"""The demo's webhook endpoint: a counter's clienteling system with one delivered offer and
one dead letter (its receiver answered 503 through the whole schedule), so the console's
webhooks pages show what they are for."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from newretail.reach import deliveries, endpoints, schedule, schemas
from newretail.reach.models import DeliveryState, EndpointPurpose
from newretail.reach.secret_box import SecretBox
from newretail.tenancy.models import ChannelType, Role, Store
from newretail.tenancy.permissions import Principal, PrincipalKind

DEMO_ENDPOINT = "Counter clienteling (demo)"
DEMO_URL = "https://clienteling.example.com/newretail/webhooks"


def seed_webhooks(
    session: Session, organization_id: uuid.UUID, box: SecretBox, now: datetime
) -> None:
    """One store-system endpoint at the first counter, with a delivered and a dead delivery."""
    owner = Principal.for_role(PrincipalKind.USER, organization_id, Role.OWNER, actor="demo")
    counter = session.scalar(
        select(Store.id).where(Store.channel_type == ChannelType.COUNTER).order_by(Store.code)
    )
    data = schemas.EndpointCreate(
        name=DEMO_ENDPOINT, url=DEMO_URL, purpose=EndpointPurpose.STORE_SYSTEM, store_id=counter
    )
    endpoints.create_endpoint(session, owner, box, data)
    sent_at = now - timedelta(days=4)
    offers = [
        {"member": "demo member 1", "offer": "Double 11 counter gift", "store": "counter"},
        {"member": "demo member 2", "offer": "Double 11 counter gift", "store": "counter"},
    ]
    queued = [
        deliveries.enqueue(
            session,
            organization_id,
            "offer.delivered",
            payload,
            EndpointPurpose.STORE_SYSTEM,
            store_id=counter,
            now=sent_at,
        )[0]
        for payload in offers
    ]
    delivered, dead = queued
    delivered.state, delivered.attempts = DeliveryState.DELIVERED, 1
    delivered.last_status, delivered.last_attempt_at = 200, sent_at
    delivered.delivered_at, delivered.next_attempt_at = sent_at, None
    dead.state, dead.attempts, dead.last_status = DeliveryState.FAILED, schedule.MAX_ATTEMPTS, 503
    dead.last_attempt_at = sent_at + sum(schedule.RETRY_SCHEDULE, timedelta())
    dead.next_attempt_at = None
    session.flush()
