"""Shared set-up of the reach tests: an approved campaign whose one stage (2027-11-11 to
2027-11-17, Asia/Shanghai) targets an audience held in the realtime index, members with
marketing consent, a counter store open 10:00–22:00, a trigger rule, and an engine whose
delivery port records what it was handed."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from newretail.audiences import realtime
from newretail.audiences.models import Audience
from newretail.bootstrap import Container
from newretail.core.database import session_scope, utcnow
from newretail.marketing import campaigns, offer_library
from newretail.marketing import schemas as marketing_schemas
from newretail.marketing.models import Campaign, Coupon, Offer
from newretail.marketing.offer_specs import OfferSpec
from newretail.members.models import MemberConsent
from newretail.members.profile_graph import Member
from newretail.reach import trigger_schemas, triggers
from newretail.reach.decide import TriggerEvent
from newretail.reach.decisions import DecisionEngine
from newretail.reach.models import ReachDecision
from newretail.reach.snapshot import TriggerSnapshots
from newretail.tenancy.models import Role, Store
from newretail.tenancy.permissions import Principal, PrincipalKind
from tests.conftest import Org

FIRST_DAY = date(2027, 11, 11)  # a Thursday
LAST_DAY = date(2027, 11, 17)
SHANGHAI = "Asia/Shanghai"
WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
OPEN_10_TO_22 = {d: [["10:00", "22:00"]] for d in WEEK}
ALWAYS_OPEN = {d: [["00:00", "24:00"]] for d in WEEK}


def shanghai(day: date, hhmm: str, second: int = 0) -> datetime:
    """A local time in Shanghai as a UTC instant."""
    hours, minutes = (int(x) for x in hhmm.split(":"))
    local = datetime(day.year, day.month, day.day, hours, minutes, second)
    return (local - timedelta(hours=8)).replace(tzinfo=UTC)


def owner_of(org_id: uuid.UUID) -> Principal:
    return Principal.for_role(PrincipalKind.USER, org_id, Role.OWNER, actor="test")


@dataclass
class Recorder:
    """The delivery port, in process: what it was handed, in order."""

    handed: list[tuple[uuid.UUID, uuid.UUID, uuid.UUID]] = field(default_factory=list)

    def __call__(self, session: Session, offers: Sequence[tuple[Coupon, ReachDecision]]) -> None:
        for coupon, decision in offers:
            assert decision.coupon_id == coupon.id and coupon.member_id == decision.member_id
            self.handed.append((decision.member_id, coupon.id, decision.id))

    def members(self) -> set[uuid.UUID]:
        return {member for member, _, _ in self.handed}


@dataclass
class Clock:
    now: datetime = field(default_factory=utcnow)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Reach:
    """A campaign with a trigger rule, its members and an engine to decide with."""

    container: Container
    org: Org
    campaign: Campaign
    offer: Offer
    audience_id: uuid.UUID
    store_id: uuid.UUID
    rule_id: uuid.UUID
    members: list[uuid.UUID]
    recorder: Recorder
    clock: Clock
    engine: DecisionEngine
    counter: int = 0

    def trigger(
        self,
        member: uuid.UUID,
        at: datetime,
        *,
        event_type: str = "counter_approach",
        store_id: uuid.UUID | None = None,
        properties: dict[str, Any] | None = None,
    ) -> list[str]:
        """One event of the member at the store at `at`, decided at once: the reasons."""
        self.counter += 1
        self.clock.now = at
        event = TriggerEvent(
            organization_id=self.org.id,
            event_id=f"evt-{self.counter}",
            event_type=event_type,
            member_id=member,
            store_id=store_id or self.store_id,
            occurred_at=at,
            properties=properties or {},
        )
        with session_scope(self.container.sessions, self.org.id) as session:
            return [d.reason for d in self.engine.decide(session, event)]

    def change_rule(self, **changes: Any) -> None:
        with session_scope(self.container.sessions, self.org.id) as session:
            rule = triggers.get_rule(session, self.rule_id)
            body = triggers.rule_read(session, rule).model_dump()
            keep = set(trigger_schemas.TriggerRuleIn.model_fields)
            body = {k: v for k, v in body.items() if k in keep} | changes
            triggers.update_rule(
                session,
                owner_of(self.org.id),
                self.rule_id,
                trigger_schemas.TriggerRuleIn.model_validate(body),
            )
        self.engine.snapshots.invalidate(self.org.id)

    def settings(self, **values: Any) -> None:
        with session_scope(self.container.sessions, self.org.id) as session:
            triggers.set_settings(
                session, owner_of(self.org.id), trigger_schemas.ReachSettingsIn(**values)
            )
        self.engine.snapshots.invalidate(self.org.id)

    def coupons_of(self) -> dict[uuid.UUID, int]:
        with session_scope(self.container.sessions, self.org.id) as session:
            held: dict[uuid.UUID, int] = {}
            for member in session.scalars(select(Coupon.member_id)):
                assert member is not None
                held[member] = held.get(member, 0) + 1
            return held


def add_members(
    session: Session, org_id: uuid.UUID, count: int, channels: tuple[str, ...] = ("sms", "push")
) -> list[uuid.UUID]:
    """Members with marketing consent on these channels, in id order."""
    ids = sorted(uuid.uuid4() for _ in range(count))
    now = utcnow()
    rows = [{"id": m, "organization_id": org_id, "joined_at": now} for m in ids]
    for start in range(0, count, 2000):
        session.execute(insert(Member), rows[start : start + 2000])
    consents = [
        {
            "id": uuid.uuid4(),
            "organization_id": org_id,
            "member_id": m,
            "purpose": "marketing",
            "channel": channel,
            "granted": True,
            "source": "import",
            "updated_at": now,
        }
        for m in ids
        for channel in channels
    ]
    for start in range(0, len(consents), 2000):
        session.execute(insert(MemberConsent), consents[start : start + 2000])
    return ids


def set_up(
    container: Container,
    org: Org,
    *,
    members: int = 3,
    audience: int | None = None,
    holdout_percent: int = 0,
    issue_limit: int | None = None,
    hours: dict[str, list[list[str]]] | None = None,
    days: tuple[date, date] = (FIRST_DAY, LAST_DAY),
    store_index: int = 1,
    **rule: Any,
) -> Reach:
    """The campaign, its audience (the first `audience` members, all by default) in the
    index, the counter store (Store 1; `store_index`) open 10:00–22:00 in Shanghai, and a
    `counter_approach` rule on sms (other rule fields as given)."""
    owner = owner_of(org.id)
    store_id = org.store_ids[store_index]
    with session_scope(container.sessions, org.id) as session:
        store = session.get(Store, store_id)
        assert store is not None
        store.opening_hours, store.time_zone = hours or OPEN_10_TO_22, SHANGHAI
        people = add_members(session, org.id, members)
        audience_row = Audience(
            organization_id=org.id,
            name="Browsed online, did not buy",
            rules={},
            version="v1",
            size=members,
            created_by="test",
        )
        session.add(audience_row)
        session.flush()
        offer = offer_library.create_offer(
            session,
            owner,
            OfferSpec.model_validate(
                {
                    "code": "COUNTER50",
                    "name": "Counter: 50 off 300",
                    "benefit": {"kind": "threshold", "spend": "300.00", "save": "50.00"},
                    "combination_class": "order",
                }
            ),
        )
        campaign = campaigns.create_campaign(
            session,
            owner,
            marketing_schemas.CampaignIn(
                name="Double 11 at the counter",
                holdout_percent=holdout_percent,
                stages=[
                    marketing_schemas.StageIn(
                        name="Counter week",
                        first_day=days[0],
                        last_day=days[1],
                        audience_ids=[audience_row.id],
                        offer_codes=[offer.code],
                        budget=marketing_schemas.BudgetLimits(issue_limit=issue_limit),
                    )
                ],
            ),
        )
        campaigns.change_state(
            session,
            owner,
            campaign.id,
            marketing_schemas.CampaignChange.APPROVED,
            now=shanghai(days[0], "00:00") - timedelta(days=1),
        )
        body = {
            "name": "Counter approach",
            "campaign_id": campaign.id,
            "stage_position": 1,
            "event_types": ["counter_approach"],
            "store_ids": [store_id],
            "channel": "sms",
            "offer_code": offer.code,
            "reentry_minutes": 0,
        } | rule
        made = triggers.create_rule(
            session, owner, trigger_schemas.TriggerRuleIn.model_validate(body)
        )
        audience_id, rule_id = audience_row.id, made.id
    in_audience = people if audience is None else people[:audience]
    realtime.index_for(container.warehouse).put(
        str(org.id), str(audience_id), "v1", frozenset(str(m) for m in in_audience)
    )
    recorder, clock = Recorder(), Clock()
    engine = DecisionEngine(TriggerSnapshots(container.warehouse), recorder, clock)
    return Reach(
        container,
        org,
        campaign,
        offer,
        audience_id,
        store_id,
        rule_id,
        people,
        recorder,
        clock,
        engine,
    )


def decisions_of(reach: Reach) -> list[tuple[uuid.UUID, str]]:
    with session_scope(reach.container.sessions, reach.org.id) as session:
        return [
            (m, r)
            for m, r in session.execute(
                select(ReachDecision.member_id, ReachDecision.reason).order_by(
                    ReachDecision.decided_at, ReachDecision.event_id
                )
            )
        ]
