"""Deciding on trigger events and recording each decision, a batch at a time: the checks of
`reach.decide` in their order, in memory, against the snapshot and what the batch read once
(`decision_facts`: consents, stock, contact counters, budgets, coupons held); then the
writes, one statement per kind for the whole batch — the treated members' coupons issued
through marketing's set-based ledger (`bulk_issue.issue_batch`, one per stage and store),
the counters, the decisions — and each treated offer handed to the delivery port, all in
the caller's transaction.

One decision per (rule, event): an event delivered twice (NATS, a replayed spool) finds its
decision recorded, and two servers deciding it at once meet the unique constraint. A batch
that meets another server (that constraint, a counter it moved, a deadlock) raises; the
listener rolls the batch back and decides its events one at a time (`decide`), each in a
savepoint retried on contention.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from newretail.core.database import get_or_not_found, utcnow
from newretail.marketing import (
    budgets,
    bulk_issue,
    campaigns,
    coupons,
    new_coupons,
    stage_coupons,
)
from newretail.marketing.bulk_issue import BulkPlan
from newretail.marketing.errors import BudgetSpent
from newretail.marketing.models import CampaignState, Coupon, Offer
from newretail.reach import contact_caps, decision_facts
from newretail.reach.decide import (
    INTRUSIVE,
    CompiledRule,
    Reason,
    TriggerEvent,
    local_minute,
)
from newretail.reach.decision_facts import Contended, Counters
from newretail.reach.models import ReachDecision
from newretail.reach.snapshot import OrgSnapshot, TriggerSnapshots
from newretail.tenancy.models import Role
from newretail.tenancy.permissions import Principal, PrincipalKind

ACTOR = "reach"
ATTEMPTS = 3  # an event decided alone, again after contention
RETRYABLE = {"40P01", "40001"}  # deadlock detected, serialization failure
log = logging.getLogger(__name__)


class Deliver(Protocol):
    """The delivery port: hand a batch's treated decisions' coupons to the members' channels,
    in the caller's transaction (the webhooks queue writes its rows there); each decision
    names the organisation, the member, the store and the channel."""

    def __call__(
        self, session: Session, offers: Sequence[tuple[Coupon, ReachDecision]]
    ) -> None: ...


def contended(error: Exception) -> bool:
    """Another server met this batch: a counter moved, a decision recorded meanwhile, or a
    deadlock or serialization failure on PostgreSQL."""
    if isinstance(error, Contended | IntegrityError):
        return True
    return isinstance(error, DBAPIError) and getattr(error.orig, "sqlstate", None) in RETRYABLE


@dataclass
class _Pending:
    """One (event, rule) pair of the batch as it is being decided."""

    event: TriggerEvent
    rule: CompiledRule
    decided_at: datetime
    zone_name: str
    counters: list[contact_caps.Counter]
    reason: Reason | None = None
    plan: BulkPlan | None = None

    @property
    def key(self) -> str:
        """The issue key of the member's coupon of the rule's stage and offer."""
        assert self.plan is not None
        return self.plan.issue_key(self.event.member_id)


class DecisionEngine:
    """Decides on trigger events with the process's snapshots and a delivery port."""

    def __init__(
        self,
        snapshots: TriggerSnapshots,
        deliver: Deliver,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.snapshots = snapshots
        self.deliver = deliver
        self.clock = clock

    def decide(self, session: Session, event: TriggerEvent) -> list[ReachDecision]:
        """One event's decisions in a savepoint, decided again when another server met it
        (nothing recorded twice: a decision recorded meanwhile is found and skipped)."""
        for _attempt in range(ATTEMPTS):
            try:
                with session.begin_nested():
                    return self.decide_many(session, [event])
            except (Contended, IntegrityError, DBAPIError) as error:
                if not contended(error):
                    raise
        log.warning("event %s still contended after %d attempts", event.event_id, ATTEMPTS)
        return []

    def decide_many(self, session: Session, events: Sequence[TriggerEvent]) -> list[ReachDecision]:
        """A decision for every rule each event matches (none recorded twice), the events of
        one organisation in their order; raises `Contended` (or the database's conflict) when
        another server met the batch."""
        if not events:
            return []
        organization_id = events[0].organization_id
        snapshot = self.snapshots.get(session, organization_id)
        matched = [(e, r) for e in events for r in snapshot.rules_for(e)]
        if not matched:
            return []
        done = decision_facts.recorded(session, {e.event_id for e, _ in matched})
        running = decision_facts.campaigns_of(session, {r.campaign_id for _, r in matched})
        pending: list[_Pending] = []
        for event, rule in matched:
            campaign = running.get(rule.campaign_id)
            if (rule.rule_id, event.event_id) in done or campaign is None:
                continue
            state = campaigns.state_at(campaign, snapshot.time_zone, event.occurred_at)
            if state is not CampaignState.RUNNING:
                continue  # paused or ended since the snapshot was built
            zone_name = snapshot.zone_at(event.store_id)
            day, _ = local_minute(event.occurred_at, zone_name)
            counters = contact_caps.counters_of(
                rule, day, event.occurred_at, snapshot.global_daily_cap
            )
            pending.append(_Pending(event, rule, self.clock(), zone_name, counters))
        if not pending:
            return []
        return _Batch(self, session, snapshot, pending).run()


class _Batch:
    """One batch: read once, decide in memory, write once."""

    def __init__(
        self,
        engine: DecisionEngine,
        session: Session,
        snapshot: OrgSnapshot,
        pending: list[_Pending],
    ) -> None:
        self.engine, self.session, self.snapshot, self.pending = engine, session, snapshot, pending
        self.organization_id = pending[0].event.organization_id
        self.now = pending[0].decided_at
        self.held: dict[str, Coupon] = {}  # coupons the members hold already, by issue key

    def run(self) -> list[ReachDecision]:
        session, members = self.session, {p.event.member_id for p in self.pending}
        granted = decision_facts.consents(session, members)
        stock = decision_facts.stocked(
            session,
            {
                (p.event.store_id, sku)
                for p in self.pending
                if p.event.store_id is not None
                for sku in p.rule.sku_ids
            },
            self.now,
        )
        for p in self.pending:
            p.reason = self._eligible(p, granted)
        keys = [
            (p.event.member_id, c.scope, c.period)
            for p in self.pending
            if p.reason is None
            for c in p.counters
        ]
        counters = Counters.read(session, self.organization_id, keys, self.now)
        plans = self._plans()
        rooms = budgets.lock_issue_rooms(session, {(p.stage_key, p.store_id) for p in plans})
        self.held = coupons.find_by_keys(session, {p.key for p in self.pending})
        wanted: set[str] = set()
        for p in self.pending:
            if p.reason is None:
                p.reason = self._evaluate(p, stock, counters, rooms, wanted)
            if p.reason in (Reason.HOLDOUT, Reason.TREATED):
                counters.take(p.event.member_id, p.counters, p.event.occurred_at)
        issued = self._issue(counters)
        counters.write(session, self.now)
        return self._record(issued)

    def _plans(self) -> list[BulkPlan]:
        """Each pair's plan: the stage's coupon of the rule's offer as issued at the store
        (one per rule and store, at the batch's first event of them: a batch spans well under
        a second of events)."""
        made: dict[tuple[uuid.UUID, uuid.UUID | None], BulkPlan] = {}
        offers = {p.rule.offer_id for p in self.pending}
        self.session.scalars(select(Offer).where(Offer.id.in_(offers))).all()  # one read
        for p in self.pending:
            key = (p.rule.rule_id, p.event.store_id)
            if key not in made:
                made[key] = self._plan(p.rule, p.event)
            p.plan = made[key]
        return list(made.values())

    def _plan(self, rule: CompiledRule, event: TriggerEvent) -> BulkPlan:
        session = self.session
        campaign = campaigns.get_campaign(session, rule.campaign_id)
        offer = get_or_not_found(session, Offer, rule.offer_id, "offer", field="offer_id")
        stage = next(s for s in campaign.stages if s.position == rule.stage_position)
        principal = Principal.for_role(
            PrincipalKind.API_KEY, event.organization_id, Role.MARKETER, actor=ACTOR
        )
        return stage_coupons.plan_of(
            session,
            principal,
            campaign,
            stage,
            offer,
            store_id=event.store_id,
            now=event.occurred_at,
        )

    def _eligible(self, p: _Pending, granted: dict[uuid.UUID, set[str]]) -> Reason | None:
        """The reason of the first check before the counters that refuses, if any."""
        rule, event, member = p.rule, p.event, p.event.member_id
        store = None if event.store_id is None else self.snapshot.stores.get(event.store_id)
        _, minute = local_minute(event.occurred_at, p.zone_name)
        quiet = self.snapshot.quiet_hours
        if not self.engine.snapshots.in_audience(self.organization_id, rule, member):
            return Reason.NOT_IN_AUDIENCE
        if not decision_facts.consented(granted.get(member, set()), rule.channel):
            return Reason.NO_CONSENT
        if store is not None and not store.open_at(event.occurred_at):
            return Reason.STORE_CLOSED
        if rule.channel in INTRUSIVE and quiet is not None and quiet.contains(minute):
            return Reason.QUIET_HOURS
        return None

    def _evaluate(
        self,
        p: _Pending,
        stock: set[tuple[uuid.UUID, uuid.UUID]],
        counters: Counters,
        rooms: dict[budgets.StageAt, int | None],
        wanted: set[str],
    ) -> Reason:
        """The eligible pair's reason from the counters on, in `decide.ORDER`; a treated
        member's coupon is wanted (and the budget's room taken) unless held already."""
        rule, event, member = p.rule, p.event, p.event.member_id
        refused = counters.first_refused(member, p.counters)
        if refused is not None:
            return refused.reason
        if event.store_id is not None and any(
            (event.store_id, sku) not in stock for sku in rule.sku_ids
        ):
            return Reason.OUT_OF_STOCK
        assert p.plan is not None
        key, stage = p.key, (p.plan.stage_key, p.plan.store_id)
        has_coupon, room = key in self.held or key in wanted, rooms[stage]
        if not has_coupon and room is not None and room <= 0:
            return Reason.BUDGET_SPENT
        if campaigns.held_out(rule.campaign_id, member, rule.holdout_percent):
            return Reason.HOLDOUT
        if not has_coupon:
            wanted.add(key)
            rooms[stage] = None if room is None else room - 1
        return Reason.TREATED

    def _issue(self, counters: Counters) -> dict[str, Coupon]:
        """Issue the wanted coupons: those of offers without a per-member limit at once
        (`new_coupons.issue_new`), the others by a set-based issue per plan; a treated member the
        ledger refused (the offer's per-member limit) is decided again as refused, or the
        batch is contended when a later pair of theirs counted on the contact (or when a
        budget another path spent refused the batch)."""
        session = self.session
        new: dict[str, coupons.Issue] = {}
        limited: dict[int, tuple[BulkPlan, list[uuid.UUID]]] = {}
        for p in self.pending:
            if p.reason is not Reason.TREATED or p.plan is None:
                continue
            plan, member = p.plan, p.event.member_id
            if plan.member_limit is not None:
                limited.setdefault(id(plan), (plan, []))[1].append(member)
            elif p.key not in self.held:
                new[p.key] = coupons.Issue(
                    offer_id=plan.offer_id,
                    issue_key=p.key,
                    valid_from=plan.valid_from,
                    valid_until=plan.valid_until,
                    member_id=member,
                    stage_key=plan.stage_key,
                    store_id=plan.store_id,
                )
        try:
            issued = new_coupons.issue_new(session, self.organization_id, list(new.values()), ACTOR)
        except BudgetSpent as spent:
            raise Contended(f"a budget was spent meanwhile: {spent}") from spent
        found = {c.issue_key: c for c in issued} | self.held
        for plan, members in limited.values():
            bulk_issue.issue_batch(session, plan, members, self.now)
        found |= coupons.find_by_keys(
            session, {plan.issue_key(m) for plan, ms in limited.values() for m in ms}
        )
        for i, p in enumerate(self.pending):
            if p.reason is not Reason.TREATED or p.key in found:
                continue
            member = p.event.member_id
            if any(q.event.member_id == member for q in self.pending[i + 1 :]):
                raise Contended(f"member {member}'s coupon was refused after a later decision")
            counters.give_back(member, p.counters)
            p.reason = Reason.FREQUENCY_CAP
        return found

    def _record(self, found: dict[str, Coupon]) -> list[ReachDecision]:
        decisions: list[ReachDecision] = []
        rows: list[dict[str, object]] = []
        treated: list[tuple[Coupon, ReachDecision]] = []
        for p in self.pending:
            event, rule = p.event, p.rule
            coupon = found[p.key] if p.reason is Reason.TREATED else None
            day, _ = local_minute(event.occurred_at, p.zone_name)
            row = {
                "id": uuid.uuid4(),
                "created_at": self.now,
                "organization_id": event.organization_id,
                "campaign_id": rule.campaign_id,
                "stage_position": rule.stage_position,
                "rule_id": rule.rule_id,
                "member_id": event.member_id,
                "event_id": event.event_id,
                "event_type": event.event_type,
                "store_id": event.store_id,
                "channel": rule.channel.value,
                "reason": p.reason.value if p.reason else None,
                "occurred_at": event.occurred_at,
                "decided_at": p.decided_at,
                "time_zone": p.zone_name,
                "local_day": day,
                "coupon_id": None if coupon is None else coupon.id,
            }
            rows.append(row)
            decision = ReachDecision(**row)
            decisions.append(decision)
            if coupon is not None:
                treated.append((coupon, decision))
        # through the Core table: no ORM bookkeeping per row
        self.session.execute(insert(cast(Table, ReachDecision.__table__)), rows)
        if treated:
            self.engine.deliver(self.session, treated)
        return decisions
