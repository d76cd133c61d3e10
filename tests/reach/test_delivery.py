"""Webhook delivery on SQLite and PostgreSQL to a real HTTP receiver: an outage, 410, 429,
the dead letter and its resend, secrets sealed at rest, a rotation's two signatures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from standardwebhooks import Webhook

from newretail.bootstrap import Container
from newretail.core.database import session_scope
from newretail.reach import deliveries, endpoints, schedule
from newretail.reach.models import EndpointPurpose
from tests.conftest import Org
from tests.reach.helpers import (
    T0,
    an_endpoint,
    box,
    delivery,
    endpoint,
    owner,
    queue,
    run,
    run_until,
)
from tests.reach.receiver import Receiver, Reply


def test_a_receiver_down_for_30_seconds_gets_every_delivery_once_after_it_recovers(
    container: Container, org: Org
) -> None:
    receiver = Receiver()  # down: its port is closed
    an_endpoint(container, org, receiver.url)
    sent = queue(container, org, 20)
    run_until(container, org, T0, T0 + timedelta(seconds=30), step=5)
    assert receiver.received == []
    # at once, then about 5 s later (±20 %), both refused; the next is minutes away
    assert {delivery(container, org, m).attempts for m in sent} == {2}
    receiver.up()
    try:
        # the third retry is about five minutes after the second (±20 %)
        run_until(container, org, T0 + timedelta(seconds=35), T0 + timedelta(minutes=10), step=5)
    finally:
        receiver.down()
    assert receiver.counts == {message_id: 1 for message_id in sent}
    states = {
        (delivery(container, org, m).state, delivery(container, org, m).attempts) for m in sent
    }
    assert states == {("delivered", 3)}
    # nothing is due any more: a later run sends nothing
    assert run(container, org, T0 + timedelta(days=5)) == 0


def test_410_disables_the_endpoint_and_holds_its_deliveries_until_enabled(
    container: Container, org: Org
) -> None:
    gone = True
    receiver = Receiver(lambda _r: Reply(410 if gone else 200)).up()
    try:
        endpoint_id, _ = an_endpoint(container, org, receiver.url)
        first, second = queue(container, org, 2)
        assert run(container, org, T0) == 2
        disabled = endpoint(container, org, endpoint_id)
        assert (disabled.enabled, disabled.disabled_reason, disabled.disabled_at) == (
            False,
            "receiver_gone",
            T0,
        )
        held = delivery(container, org, first)
        assert (held.state, held.last_status, held.next_attempt_at) == ("pending", 410, T0)
        assert queue(container, org, 1) == []  # a disabled endpoint is not queued to
        assert run(container, org, T0 + timedelta(hours=1)) == 0
        gone = False
        with session_scope(container.sessions, org.id) as session:
            endpoints.set_enabled(session, owner(org), endpoint_id, True)
        assert run(container, org, T0 + timedelta(hours=1)) == 2
    finally:
        receiver.down()
    assert receiver.counts == {first: 2, second: 2}  # the 410 answers, then the deliveries
    assert delivery(container, org, second).state == "delivered"


def test_429_with_retry_after_120_is_tried_again_exactly_120_seconds_later(
    container: Container, org: Org
) -> None:
    receiver = Receiver(lambda _r: Reply(429, {"Retry-After": "120"})).up()
    try:
        an_endpoint(container, org, receiver.url)
        (message_id,) = queue(container, org)
        run(container, org, T0)
    finally:
        receiver.down()
    found = delivery(container, org, message_id)
    assert (found.state, found.attempts, found.last_status, found.next_attempt_at) == (
        "pending",
        1,
        429,
        T0 + timedelta(seconds=120),
    )


def test_a_delivery_failing_through_the_schedule_is_dead_and_resent_by_hand(
    container: Container, org: Org
) -> None:
    failing = True
    receiver = Receiver(lambda _r: Reply(500 if failing else 200)).up()
    try:
        an_endpoint(container, org, receiver.url)
        (message_id,) = queue(container, org)
        now = T0
        for _ in range(schedule.MAX_ATTEMPTS):
            assert run(container, org, now) == 1
            due = delivery(container, org, message_id).next_attempt_at
            now = due if due is not None else now
        dead = delivery(container, org, message_id)
        assert (dead.state, dead.attempts, dead.last_status, dead.next_attempt_at) == (
            "failed",
            13,
            500,
            None,
        )
        # the schedule spans about three days (each wait jittered by at most a fifth)
        nominal = sum(schedule.RETRY_SCHEDULE, timedelta()).total_seconds()
        assert 0.8 * nominal <= (now - T0).total_seconds() <= 1.2 * nominal
        assert run(container, org, now + timedelta(days=30)) == 0
        failing = False
        with session_scope(container.sessions, org.id) as session:
            deliveries.resend(session, owner(org), dead.id, now=now)
        assert run(container, org, now) == 1
    finally:
        receiver.down()
    resent = delivery(container, org, message_id)
    assert (resent.state, resent.attempts, resent.delivered_at) == ("delivered", 1, now)
    assert receiver.counts == {message_id: 14}  # the same webhook-id every time


def test_secrets_are_sealed_at_rest(container: Container, org: Org) -> None:
    endpoint_id, secret = an_endpoint(container, org, "https://sms.example.com/hooks")
    with container.engine.connect() as connection:
        stored = connection.execute(
            text("SELECT sealed, prefix FROM webhook_secret WHERE endpoint_id = :id"),
            {"id": endpoint_id.hex if container.settings.is_embedded else endpoint_id},
        ).one()
    sealed, prefix = stored
    assert secret not in sealed and secret.removeprefix("whsec_") not in sealed
    assert prefix == secret[:12]
    assert box(container).open(sealed) == secret


def test_queued_by_purpose_and_store(container: Container, org: Org) -> None:
    shop, counter = org.store_ids
    an_endpoint(container, org, "https://sms.example.com/a", name="all stores sms")
    an_endpoint(container, org, "https://sms.example.com/b", name="shop sms", store_id=shop)
    an_endpoint(
        container,
        org,
        "https://pos.example.com/c",
        name="shop pos",
        purpose=EndpointPurpose.STORE_SYSTEM,
        store_id=shop,
    )
    with session_scope(container.sessions, org.id) as session:

        def names(purpose: EndpointPurpose, store: object) -> list[str]:
            queued = deliveries.enqueue(
                session,
                org.id,
                "offer.delivered",
                {},
                purpose,
                store_id=store,  # type: ignore[arg-type]
            )
            return [d.endpoint.name for d in queued]

        assert names(EndpointPurpose.SMS, None) == ["all stores sms"]
        assert names(EndpointPurpose.SMS, shop) == ["all stores sms", "shop sms"]
        assert names(EndpointPurpose.SMS, counter) == ["all stores sms"]
        assert names(EndpointPurpose.STORE_SYSTEM, shop) == ["shop pos"]
        assert names(EndpointPurpose.PUSH, shop) == []
        session.rollback()  # the caller owns the transaction: nothing was committed
    with session_scope(container.sessions, org.id) as session:
        assert list(deliveries.list_deliveries(session)) == []


def test_a_rotation_signs_with_both_secrets_until_the_old_one_expires(
    container: Container, org: Org
) -> None:
    receiver = Receiver().up()
    try:
        endpoint_id, old = an_endpoint(container, org, receiver.url)
        now = datetime.now(UTC)  # the reference verifier checks the timestamp against its clock
        with session_scope(container.sessions, org.id) as session:
            _, new = endpoints.rotate_secret(
                session, owner(org), box(container), endpoint_id, 24, now
            )
        queue(container, org, now=now)
        run(container, org, now)
        queue(container, org, now=now + timedelta(hours=25))
        run(container, org, now + timedelta(hours=25))
    finally:
        receiver.down()
    during, after = receiver.received
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    assert Webhook(old).verify(during.body, during.headers)["type"] == "offer.delivered"
    assert Webhook(new).verify(during.body, during.headers)["type"] == "offer.delivered"
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    assert int(after.headers["webhook-timestamp"]) == int((now + timedelta(hours=25)).timestamp())
    shown = endpoint(container, org, endpoint_id).secrets
    assert [s.prefix for s in shown] == [new[:12]]  # the old one was dropped
