"""What a batch of decisions reads from the operational store, a handful of statements for
the whole batch whatever its size: the decisions recorded already, the campaigns, the
members' consents, the stores' stock and the contact counters (locked on PostgreSQL, so
another server deciding for the same members waits for this batch). The stages' budgets
(`budgets.lock_issue_rooms`, locked too) and the coupons the members hold
(`coupons.find_by_keys`) are marketing's reads.

The counters are then kept in memory as the batch decides (`Counters`) and written back by
one upsert that says what each row holds afterwards: a row that another server moved
meanwhile (one inserted by it since the read) holds another count, and the batch is
`Contended` — its caller rolls it back and decides again.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from newretail.inventory.models import StockLevel
from newretail.inventory.reads import unexpired_reserved
from newretail.marketing.models import Campaign
from newretail.members import consent as members_consent
from newretail.members.models import ConsentChannel, ConsentPurpose
from newretail.reach.contact_caps import Counter
from newretail.reach.decide import Channel
from newretail.reach.models import ReachContactCounter, ReachDecision

# the channels whose own consent a contact needs; the store screen and the inbox need the
# member's marketing consent on at least one channel
OWN_CONSENT = {Channel.SMS: ConsentChannel.SMS, Channel.PUSH: ConsentChannel.PUSH}
CounterKey = tuple[uuid.UUID, str, str]  # member, scope, period


class Contended(Exception):
    """Another server moved a contact counter of this batch's members meanwhile."""


def recorded(session: Session, event_ids: Iterable[str]) -> set[tuple[uuid.UUID, str]]:
    """(rule, event) pairs decided already."""
    rows = session.execute(
        select(ReachDecision.rule_id, ReachDecision.event_id).where(
            ReachDecision.event_id.in_(set(event_ids))
        )
    )
    return {(rule_id, event_id) for rule_id, event_id in rows}


def campaigns_of(session: Session, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Campaign]:
    return {c.id: c for c in session.scalars(select(Campaign).where(Campaign.id.in_(set(ids))))}


def consents(session: Session, members: Iterable[uuid.UUID]) -> dict[uuid.UUID, set[str]]:
    """Each member's channels of explicitly granted marketing consent (the members domain's
    read, `members.consent.granted_channels`)."""
    return members_consent.granted_channels(session, members, ConsentPurpose.MARKETING)


def consented(granted: set[str], channel: Channel) -> bool:
    """The channel's own consent (SMS, push), or any marketing consent (screen, inbox): the
    members domain's one rule (`members.consent.permits`)."""
    return members_consent.permits(granted, OWN_CONSENT.get(channel))


def stocked(
    session: Session, wanted: Iterable[tuple[uuid.UUID, uuid.UUID]], now: datetime
) -> set[tuple[uuid.UUID, uuid.UUID]]:
    """The (store, SKU) pairs with at least one unit available (on hand less allocated and
    unexpired reservations)."""
    pairs = set(wanted)
    if not pairs:
        return set()
    available = StockLevel.on_hand - StockLevel.allocated - unexpired_reserved(now)
    rows = session.execute(
        select(StockLevel.location_id, StockLevel.sku_id).where(
            StockLevel.location_id.in_({store for store, _ in pairs}),
            StockLevel.sku_id.in_({sku for _, sku in pairs}),
            available >= 1,
        )
    )
    return {(store, sku) for store, sku in rows} & pairs


@dataclass
class Counters:
    """The batch's contact counters in memory: read (and locked) once, moved as the batch
    decides, written back once."""

    organization_id: uuid.UUID
    held: dict[CounterKey, tuple[int, datetime]]
    moved: dict[CounterKey, int] = field(default_factory=dict)
    last: dict[CounterKey, datetime] = field(default_factory=dict)

    @classmethod
    def read(
        cls, session: Session, organization_id: uuid.UUID, keys: Sequence[CounterKey], at: datetime
    ) -> Counters:
        """The rows of `keys`, locked. On PostgreSQL the missing ones are first created with
        no contact (`count` 0, `last_at` the batch's moment; the retention job deletes them
        with the rest), so that the lock covers every row the batch may move and a second
        server's batch for the same members waits for this one instead of racing it."""
        held: dict[CounterKey, tuple[int, datetime]] = {}
        wanted = sorted(set(keys))
        if not wanted:
            return cls(organization_id, held)
        table = ReachContactCounter
        if session.get_bind().dialect.name == "postgresql":
            rows = [
                {
                    "id": uuid.uuid4(),
                    "created_at": at,
                    "organization_id": organization_id,
                    "member_id": member,
                    "scope": scope,
                    "period": period,
                    "count": 0,
                    "last_at": at,
                }
                for member, scope, period in wanted
            ]
            session.execute(postgresql.insert(table).on_conflict_do_nothing(), rows)
        statement = (
            select(table.member_id, table.scope, table.period, table.count, table.last_at)
            .where(tuple_(table.member_id, table.scope, table.period).in_(wanted))
            .order_by(table.member_id, table.scope, table.period)
            .with_for_update()
        )
        for member, scope, period, count, last_at in session.execute(statement):
            held[(member, scope, period)] = (count, last_at)
        return cls(organization_id, held)

    def now(self, key: CounterKey) -> tuple[int, datetime | None]:
        count, last_at = self.held.get(key, (0, None))
        moved = self.moved.get(key, 0)
        return count + moved, self.last.get(key, last_at)

    def allows(self, member: uuid.UUID, counter: Counter) -> bool:
        """Whether a contact may move the row: a limit below 1 refuses; a member's first contact in
        the period always counts; then the limit and the re-entry window hold."""
        if counter.limit is not None and counter.limit < 1:
            return False
        count, last_at = self.now((member, counter.scope, counter.period))
        if count == 0 or last_at is None:  # no row, or one made with no contact yet
            return True
        if counter.limit is not None and count >= counter.limit:
            return False
        return counter.cutoff is None or last_at <= counter.cutoff

    def first_refused(self, member: uuid.UUID, counters: list[Counter]) -> Counter | None:
        return next((c for c in counters if not self.allows(member, c)), None)

    def take(self, member: uuid.UUID, counters: list[Counter], at: datetime) -> None:
        for counter in counters:
            key = (member, counter.scope, counter.period)
            self.moved[key] = self.moved.get(key, 0) + 1
            self.last[key] = at

    def give_back(self, member: uuid.UUID, counters: list[Counter]) -> None:
        """Undo a `take` whose contact did not happen (its coupon was refused)."""
        for counter in counters:
            key = (member, counter.scope, counter.period)
            self.moved[key] -= 1
            if not self.moved[key]:
                del self.moved[key]
                self.last.pop(key, None)

    def write(self, session: Session, at: datetime) -> None:
        """One upsert of every moved row; `Contended` if a row holds another count than this
        batch's read plus its moves."""
        if not self.moved:
            return
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        table = ReachContactCounter.__table__
        rows = [
            {
                "id": uuid.uuid4(),
                "created_at": at,
                "organization_id": self.organization_id,
                "member_id": member,
                "scope": scope,
                "period": period,
                "count": moved,
                "last_at": self.last[(member, scope, period)],
            }
            for (member, scope, period), moved in sorted(self.moved.items())
        ]
        insert = dialect.insert(ReachContactCounter)
        upsert = insert.on_conflict_do_update(
            index_elements=["organization_id", "member_id", "scope", "period"],
            set_={
                "count": table.c.count + insert.excluded.count,
                "last_at": insert.excluded.last_at,
            },
        ).returning(table.c.member_id, table.c.scope, table.c.period, table.c.count)
        for member, scope, period, count in session.execute(upsert, rows):
            if count != self.now((member, scope, period))[0]:
                raise Contended(f"member {member}'s {scope} {period} counter moved")
