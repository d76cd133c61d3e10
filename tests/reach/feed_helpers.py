"""Set-up of the inbox and counter screen tests: the trigger tests' campaign and rule (on a
given channel, the store always open) decided by an engine whose port is the server's
(`delivery_port.ChannelDelivery`), a broadcaster that keeps what it was told, and endpoints
of every purpose."""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import select

from newretail.bootstrap import Container
from newretail.core.database import session_scope
from newretail.members.models import MemberTier
from newretail.members.profile_graph import Member
from newretail.reach.decisions import DecisionEngine
from newretail.reach.delivery_port import ChannelDelivery
from newretail.reach.models import EndpointPurpose, ReachDecision
from newretail.reach.screen_feed import BROADCASTER, Broadcaster
from newretail.reach.snapshot import TriggerSnapshots
from tests.conftest import Org
from tests.reach.helpers import an_endpoint
from tests.reach.trigger_helpers import ALWAYS_OPEN, FIRST_DAY, Reach, set_up, shanghai


class Told(Broadcaster):
    """A broadcaster that also keeps each (organisation, store) it was told of."""

    def __init__(self) -> None:
        super().__init__()
        self.told: list[tuple[uuid.UUID, uuid.UUID]] = []

    def notify(self, organization_id: uuid.UUID, store_id: uuid.UUID) -> None:
        self.told.append((organization_id, store_id))
        super().notify(organization_id, store_id)


def reach_on(
    container: Container, org: Org, channel: str, broadcaster: Broadcaster = BROADCASTER
) -> Reach:
    """The trigger tests' campaign with its rule on `channel`, decided through the server's
    delivery port."""
    reach = set_up(container, org, hours=ALWAYS_OPEN, channel=channel)
    reach.engine = DecisionEngine(
        TriggerSnapshots(container.warehouse), ChannelDelivery(broadcaster), reach.clock
    )
    return reach


def every_endpoint(container: Container, org: Org, store_id: uuid.UUID) -> None:
    """An SMS gateway and a push gateway of every store, the counter store's POS and the
    other store's POS."""
    other = next(s for s in org.store_ids if s != store_id)
    for name, purpose, store in (
        ("SMS gateway", EndpointPurpose.SMS, None),
        ("Push gateway", EndpointPurpose.PUSH, None),
        ("Counter POS", EndpointPurpose.STORE_SYSTEM, store_id),
        ("Other POS", EndpointPurpose.STORE_SYSTEM, other),
    ):
        an_endpoint(
            container, org, "https://hooks.example.com/", name=name, purpose=purpose, store_id=store
        )


def describe(
    container: Container,
    org: Org,
    member_id: uuid.UUID,
    *,
    name: str | None,
    phone: str | None,
    tier: str | None,
) -> None:
    """Give a member a name, a phone and a tier."""
    with session_scope(container.sessions, org.id) as session:
        member = session.get(Member, member_id)
        assert member is not None
        member.name, member.phone = name, phone
        if tier is not None:
            row = MemberTier(organization_id=org.id, name=tier, min_spend=Decimal("1000.00"))
            session.add(row)
            session.flush()
            member.tier_id = row.id


def decided(reach: Reach, member: uuid.UUID, hhmm: str, second: int = 0) -> str:
    """A treated counter-screen decision of the member at that time; its id."""
    before = set(decision_ids(reach))
    assert reach.trigger(member, shanghai(FIRST_DAY, hhmm, second)) == ["treated"]
    (made,) = set(decision_ids(reach)) - before
    return made


def decision_ids(reach: Reach) -> list[str]:
    with session_scope(reach.container.sessions, reach.org.id) as session:
        return [str(d) for d in session.scalars(select(ReachDecision.id))]
