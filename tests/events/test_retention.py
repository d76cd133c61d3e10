"""Failed events keep raw payloads, so they are deleted after the retention period."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from newretail.bootstrap import Container
from newretail.core.database import session_scope, utcnow
from newretail.events.models import FailedEvent
from newretail.events.service import purge_failed_events
from newretail.jobs import failed_event_retention
from tests.conftest import Org
from tests.events.test_collector import event, post


def test_failed_events_older_than_the_retention_are_deleted_in_every_organisation(
    client: TestClient, container: Container, org: Org, other_org: Org
) -> None:
    for owner in (org, other_org):
        bad = [event(owner, f"{owner.slug}-{i}", "no_such_type") for i in range(3)]
        assert post(client, owner, bad).status_code == 400
    with session_scope(container.sessions) as session:
        old = utcnow() - timedelta(days=31)
        for owner in (org, other_org):  # two of each organisation's three are old
            session.execute(
                update(FailedEvent)
                .where(FailedEvent.message_id.in_([f"{owner.slug}-0", f"{owner.slug}-1"]))
                .values(received_at=old),
                execution_options={"include_all_organizations": True},
            )
    with session_scope(container.sessions) as session:
        assert purge_failed_events(session, 32) == 0
    assert failed_event_retention(container, None) == 4  # type: ignore[arg-type]
    with session_scope(container.sessions) as session:
        left = session.scalars(
            select(FailedEvent.message_id)
            .where(FailedEvent.organization_id.in_([org.id, other_org.id]))
            .order_by(FailedEvent.message_id),
            execution_options={"include_all_organizations": True},
        ).all()
    assert left == sorted([f"{org.slug}-2", f"{other_org.slug}-2"])
