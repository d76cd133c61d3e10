"""Two senders on PostgreSQL (real parallel connections) share the queue: every delivery is
sent once, none twice (`FOR UPDATE SKIP LOCKED` and the lease)."""

from __future__ import annotations

import random
import threading

import httpx
import pytest
from sqlalchemy import select

from newretail.bootstrap import Container
from newretail.core.database import session_scope
from newretail.reach import sender
from newretail.reach.models import WebhookDelivery
from tests.conftest import Org
from tests.reach.helpers import T0, an_endpoint, box, queue
from tests.reach.receiver import Receiver

pytestmark = pytest.mark.postgres
SENDERS = 2
MESSAGES = 300


@pytest.fixture(params=["postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue("postgres_url"))


def test_two_senders_never_send_a_delivery_twice(container: Container, org: Org) -> None:
    receiver = Receiver().up()
    try:
        an_endpoint(container, org, receiver.url)
        sent = queue(container, org, MESSAGES)
        start = threading.Barrier(SENDERS)
        claimed = [0] * SENDERS

        def run(index: int) -> None:
            with httpx.Client(timeout=sender.TIMEOUT_SECONDS) as client:
                start.wait()
                while count := sender.deliver_due(
                    container.sessions,
                    box(container),
                    client,
                    now=T0,
                    rng=random.Random(index),
                    organization_id=org.id,
                    limit=10,
                ):
                    claimed[index] += count

        threads = [threading.Thread(target=run, args=(i,)) for i in range(SENDERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        receiver.down()
    with session_scope(container.sessions, org.id) as session:
        failed = session.execute(
            select(WebhookDelivery.message_id, WebhookDelivery.last_error).where(
                WebhookDelivery.delivered_at.is_(None)
            )
        ).all()
    assert failed == []  # an attempt that failed (its error says why) is put off, not sent
    assert receiver.counts == {message_id: 1 for message_id in sent}
    assert sum(claimed) == MESSAGES
    assert min(claimed) > 0  # both senders took part
