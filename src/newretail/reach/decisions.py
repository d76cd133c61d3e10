"""Deciding on trigger events and recording each decision: the checks of `reach.decide` in
their order against the snapshot, the member's consent, the store's stock, the stage's budget
and the contact counters; a treated member's coupon issued through marketing's ledger and
handed to the delivery port, all in the caller's transaction.

One decision per (rule, event): an event delivered twice (NATS, a replayed spool) finds its
decision recorded, and two servers deciding it at once meet the unique constraint — the
second one's savepoint is rolled back and it records nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from newretail.core.database import get_or_not_found, utcnow
from newretail.inventory.models import StockLevel
from newretail.inventory.reads import unexpired_reserved
from newretail.marketing import budgets, campaigns, coupons, stage_coupons
from newretail.marketing.bulk_issue import BulkPlan
from newretail.marketing.errors import LedgerError, LedgerErrorCode
from newretail.marketing.models import Campaign, CampaignState, Coupon, Offer
from newretail.members.models import ConsentPurpose, MemberConsent
from newretail.reach import contact_caps
from newretail.reach.decide import (
    INTRUSIVE,
    Channel,
    CompiledRule,
    Reason,
    TriggerEvent,
    first_refusal,
    local_minute,
)
from newretail.reach.models import ReachDecision
from newretail.reach.snapshot import OrgSnapshot, TriggerSnapshots
from newretail.tenancy.models import Role
from newretail.tenancy.permissions import Principal, PrincipalKind

ACTOR = "reach"
# the channels whose own consent a contact needs; the store screen and the inbox need the
# member's marketing consent on at least one channel
OWN_CONSENT = {Channel.SMS: "sms", Channel.PUSH: "push"}


class Deliver(Protocol):
    """The delivery port: hand a treated decision's coupon to the member's channel, in the
    caller's transaction (the webhooks queue writes its row there); the decision names the
    organisation, the member, the store and the channel."""

    def __call__(self, session: Session, coupon: Coupon, decision: ReachDecision) -> None: ...


def consented(session: Session, member_id: uuid.UUID, channel: Channel) -> bool:
    """The member's marketing consent for the channel (explicitly granted)."""
    granted = set(
        session.scalars(
            select(MemberConsent.channel).where(
                MemberConsent.member_id == member_id,
                MemberConsent.purpose == ConsentPurpose.MARKETING,
                MemberConsent.granted.is_(True),
            )
        )
    )
    own = OWN_CONSENT.get(channel)
    return own in granted if own is not None else bool(granted)


def in_stock(
    session: Session, store_id: uuid.UUID | None, sku_ids: tuple[uuid.UUID, ...], now: datetime
) -> bool:
    """At least one unit of every SKU the offer needs available at the store (on hand less
    allocated and unexpired reservations); no store or no SKU: nothing to check."""
    if store_id is None or not sku_ids:
        return True
    available = StockLevel.on_hand - StockLevel.allocated - unexpired_reserved(now)
    stocked = session.scalar(
        select(func.count())
        .select_from(StockLevel)
        .where(
            StockLevel.location_id == store_id,
            StockLevel.sku_id.in_(sku_ids),
            available >= 1,
        )
    )
    return stocked == len(set(sku_ids))


class DecisionEngine:
    """Decides on each trigger event with the process's snapshots and a delivery port."""

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
        """A decision for every rule the event matches (none recorded twice)."""
        snapshot = self.snapshots.get(session, event.organization_id)
        decided = []
        for rule in snapshot.rules_for(event):
            decision = self._decide_rule(session, snapshot, rule, event)
            if decision is not None:
                decided.append(decision)
        return decided

    def _decide_rule(
        self, session: Session, snapshot: OrgSnapshot, rule: CompiledRule, event: TriggerEvent
    ) -> ReachDecision | None:
        recorded = session.scalar(
            select(ReachDecision.id).where(
                ReachDecision.rule_id == rule.rule_id, ReachDecision.event_id == event.event_id
            )
        )
        if recorded is not None:
            return None
        campaign = session.get(Campaign, rule.campaign_id)
        if campaign is None or (
            campaigns.state_at(campaign, snapshot.time_zone, event.occurred_at)
            is not CampaignState.RUNNING
        ):
            return None  # paused or ended since the snapshot was built
        zone_name = snapshot.zone_at(event.store_id)
        day, _ = local_minute(event.occurred_at, zone_name)
        decided_at = self.clock()
        try:
            with session.begin_nested():
                reason, coupon = self._evaluate(session, snapshot, rule, event, decided_at)
                decision = ReachDecision(
                    organization_id=event.organization_id,
                    campaign_id=rule.campaign_id,
                    stage_position=rule.stage_position,
                    rule_id=rule.rule_id,
                    member_id=event.member_id,
                    event_id=event.event_id,
                    event_type=event.event_type,
                    store_id=event.store_id,
                    channel=rule.channel,
                    reason=reason,
                    occurred_at=event.occurred_at,
                    decided_at=decided_at,
                    time_zone=zone_name,
                    local_day=day,
                    coupon_id=None if coupon is None else coupon.id,
                )
                session.add(decision)
                session.flush()
                if coupon is not None:
                    self.deliver(session, coupon, decision)
        except IntegrityError:
            return None  # another server recorded this event's decision meanwhile
        return decision

    def _evaluate(
        self,
        session: Session,
        snapshot: OrgSnapshot,
        rule: CompiledRule,
        event: TriggerEvent,
        now: datetime,
    ) -> tuple[Reason, Coupon | None]:
        """The reason, in `decide.ORDER`, and the coupon issued when treated."""
        org, member, at = event.organization_id, event.member_id, event.occurred_at
        store = None if event.store_id is None else snapshot.stores.get(event.store_id)
        zone_name = snapshot.zone_at(event.store_id)
        day, minute = local_minute(at, zone_name)
        quiet = snapshot.quiet_hours
        refused = first_refusal(
            [
                (Reason.NOT_IN_AUDIENCE, lambda: self.snapshots.in_audience(org, rule, member)),
                (Reason.NO_CONSENT, lambda: consented(session, member, rule.channel)),
                (Reason.STORE_CLOSED, lambda: store is None or store.open_at(at)),
                (
                    Reason.QUIET_HOURS,
                    lambda: (
                        rule.channel not in INTRUSIVE or quiet is None or not quiet.contains(minute)
                    ),
                ),
            ]
        )
        if refused is not None:
            return refused, None
        counters = contact_caps.counters_of(rule, day, at, snapshot.global_daily_cap)
        contacts = session.begin_nested()  # the contact counts, undone unless it is a contact
        plan = self._plan(session, rule, event)
        refused = contact_caps.first_refused(session, org, member, counters, at) or first_refusal(
            [
                (Reason.OUT_OF_STOCK, lambda: in_stock(session, event.store_id, rule.sku_ids, now)),
                (Reason.BUDGET_SPENT, lambda: _budget_left(session, plan, member)),
            ]
        )
        coupon = None
        if refused is None and not campaigns.held_out(
            rule.campaign_id, member, rule.holdout_percent
        ):
            coupon, refused = _issue(session, plan, member)
        if refused is not None:
            contacts.rollback()
            return refused, None
        contacts.commit()
        return (Reason.HOLDOUT, None) if coupon is None else (Reason.TREATED, coupon)

    def _plan(self, session: Session, rule: CompiledRule, event: TriggerEvent) -> BulkPlan:
        """The stage's coupon of the rule's offer as issued at the event's moment and store
        (an event in the stage's last second decided just after it is still the stage's)."""
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


def _budget_left(session: Session, plan: BulkPlan, member_id: uuid.UUID) -> bool:
    """Room in the stage's budgets at the store, or the member holds the coupon already."""
    if coupons.find_by_key(session, plan.issue_key(member_id)) is not None:
        return True
    room = budgets.issue_room(session, plan.stage_key, plan.store_id)
    return room is None or room > 0


def _issue(
    session: Session, plan: BulkPlan, member_id: uuid.UUID
) -> tuple[Coupon | None, Reason | None]:
    """The member's coupon of the stage (the one held already, or a new one); a refusal by
    the ledger is the budget spent meanwhile, or the offer's per-member limit (a cap)."""
    request = coupons.Issue(
        offer_id=plan.offer_id,
        issue_key=plan.issue_key(member_id),
        valid_from=plan.valid_from,
        valid_until=plan.valid_until,
        member_id=member_id,
        stage_key=plan.stage_key,
        store_id=plan.store_id,
    )
    try:
        coupon, _ = coupons.issue_or_find(session, plan.organization_id, request, plan.actor)
    except LedgerError as refused:
        if refused.code is LedgerErrorCode.BUDGET_SPENT:
            return None, Reason.BUDGET_SPENT
        return None, Reason.FREQUENCY_CAP
    return coupon, None
