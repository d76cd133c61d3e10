"""Deliveries are rows: a new server process sends what the last one queued, a sender that
died holding a lease leaves the delivery to be sent again with the same webhook-id, and the
server's job sends what is due."""

from __future__ import annotations

import random
import threading
from datetime import timedelta
from pathlib import Path

import httpx

from newretail.bootstrap import Container, bootstrap
from newretail.core import migrate
from newretail.core.database import session_scope, utcnow
from newretail.core.settings import Settings
from newretail.jobs import webhook_sender
from newretail.reach import sender
from newretail.reach.models import DeliveryState
from tests.conftest import TEST_SECRET, Org, make_org
from tests.reach.helpers import T0, an_endpoint, box, delivery, queue, run
from tests.reach.receiver import Receiver


def test_a_restarted_server_sends_what_was_queued_before(container: Container, org: Org) -> None:
    receiver = Receiver().up()
    try:
        an_endpoint(container, org, receiver.url)
        queued = queue(container, org, 3)
        container.close()  # the server stops before sending anything
        restarted = bootstrap(container.settings)
        try:
            assert run(restarted, org, T0) == 3
        finally:
            restarted.close()
    finally:
        receiver.down()
    assert receiver.counts == {message_id: 1 for message_id in queued}


def test_a_lease_left_by_a_dead_sender_runs_out_and_the_delivery_goes_again(
    container: Container, org: Org
) -> None:
    receiver = Receiver().up()
    try:
        an_endpoint(container, org, receiver.url)
        (message_id,) = queue(container, org)
        with session_scope(container.sessions, org.id) as session:
            (claim,) = sender.claim_due(session, box(container), T0)
        # that sender posted and died before recording: nothing is due until the lease ends
        with httpx.Client() as client:
            answer = sender.post(client, claim, T0)
        assert answer.status == 204
        assert run(container, org, T0 + sender.LEASE - timedelta(seconds=1)) == 0
        assert run(container, org, T0 + sender.LEASE) == 1
        # the dead sender's late record is refused: the lease is another's now
        with session_scope(container.sessions, org.id) as session:
            late = sender.record(session, claim, answer, T0, random.Random(0))
        assert late is None
    finally:
        receiver.down()
    assert receiver.counts == {message_id: 2}  # the same webhook-id: the receiver drops one
    found = delivery(container, org, message_id)
    assert (found.state, found.attempts, found.delivered_at) == (
        DeliveryState.DELIVERED,
        2,
        T0 + sender.LEASE,
    )


def test_the_server_job_sends_the_due_deliveries(tmp_path: Path) -> None:
    # a store of its own: the job sends every organisation's due deliveries, and other tests'
    # endpoints are not for it to call
    own = Settings(
        data_dir=tmp_path / "data",
        database_url=f"sqlite:///{tmp_path / 'own.sqlite3'}",
        warehouse_url=f"duckdb://{tmp_path / 'warehouse.duckdb'}",
        secret_key=TEST_SECRET,
    )
    container = bootstrap(own)
    receiver = Receiver().up()
    try:
        migrate.upgrade(container.engine)
        org = make_org(container)
        an_endpoint(container, org, receiver.url)
        queued = queue(container, org, 2, now=utcnow())
        assert webhook_sender(container, threading.Event()) == 2
        assert webhook_sender(container, threading.Event()) == 0
    finally:
        receiver.down()
        container.close()
    assert receiver.counts == {message_id: 1 for message_id in queued}
