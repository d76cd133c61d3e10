"""The lift of a campaign stage measured from what happened: its arms read from the decisions
recorded, its conversions from the warehouse's purchases, its cost from the ledger's redeemed
coupons, fed to `reach.lift.lift_report` (docs/reach.md, "Lift report").

- Arms (intent to treat): the members with a `treated` decision and those with a `holdout`
  decision on the stage (every stage of the campaign when no stage is asked). A member's first
  such decision is their exposure: its event's moment, and the store it happened at. The hash
  puts a member in one arm for the whole campaign; a member found in both is left out of both
  and counted (`both_arms`), since no arm can claim them.
- Conversion: a purchase event (online or offline, the Data Bank's purchase event types) in
  [exposure, exposure + window). Spend is the sum of those purchases' amounts (0 without one);
  the pre-period spend, CUPED's covariate, is the same sum over the window's length before the
  exposure.
- Cost: the discounts of the treated arm's coupons of the campaign redeemed in the member's
  window (the holdout holds none).

The warehouse is asked twice whatever the arms' sizes: the arms go in as one Ibis memtable
joined to the purchases and the online interest events (per-arm aggregates), then to the
purchases again (where they bought).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import ibis
import pyarrow as pa
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newretail.databank import service as databank_service
from newretail.marketing import campaigns
from newretail.marketing.models import Campaign, Coupon
from newretail.reach import lift
from newretail.reach.decide import Reason
from newretail.reach.errors import InvalidLiftInput, StageNotFound
from newretail.reach.models import ReachDecision
from newretail.reach.spend_lift import SpendSummary
from newretail.tenancy.permissions import Permission, Principal
from newretail.warehouse.connection import EVENT_TABLE, UTC_TIMESTAMP, Warehouse

DEFAULT_WINDOW_DAYS = 14
MAX_WINDOW_DAYS = 90
ARMS = (Reason.TREATED, Reason.HOLDOUT)
ONLINE = "online"  # the channel of the online shop's events and orders

_ARM_SCHEMA = pa.schema(
    [
        ("member_id", pa.string()),
        ("arm", pa.string()),
        ("reached_store", pa.string()),
        ("pre_start", UTC_TIMESTAMP.to_pyarrow()),
        ("exposed_at", UTC_TIMESTAMP.to_pyarrow()),
        ("window_end", UTC_TIMESTAMP.to_pyarrow()),
    ]
)


@dataclass(frozen=True)
class Exposure:
    """A member's first decision in an arm: when, and at which store."""

    member_id: uuid.UUID
    arm: Reason
    exposed_at: datetime
    store_id: uuid.UUID | None


@dataclass(frozen=True)
class Exposures:
    """The arms of a stage: one exposure per member, and the members found in both arms."""

    members: list[Exposure]
    both_arms: int

    def count(self, arm: Reason) -> int:
        return sum(1 for e in self.members if e.arm is arm)


@dataclass(frozen=True)
class WhereBought:
    """Converters of an arm who bought at one store (None: online) on one channel."""

    arm: Reason
    store_id: uuid.UUID | None
    channel: str | None
    converters: int
    purchases: int
    gmv: Decimal


@dataclass(frozen=True)
class ArmOutcome:
    """One arm in the window: members, converters, the reached store's own converters, the
    spend summary (with the pre-period), and the online-to-offline view: members with online
    interest in the pre-period, how many of them bought, and how many bought offline."""

    members: int
    converted: int
    converted_where_reached: int
    spend: SpendSummary
    online_interest: int = 0
    online_interest_converted: int = 0
    online_interest_bought_offline: int = 0


@dataclass(frozen=True)
class Measurement:
    """Everything the report shows of one campaign (stage): the figures of `lift_report`
    and what they were computed from."""

    campaign: Campaign
    stage_position: int | None
    window_days: int
    both_arms: int
    first_exposure: datetime | None
    last_exposure: datetime | None
    treated: ArmOutcome
    holdout: ArmOutcome
    redeemed_members: int
    redeemed_coupons: int
    cost: Decimal
    where_bought: list[WhereBought] = field(default_factory=list)
    report: lift.LiftReport | None = None


def exposures(session: Session, campaign_id: uuid.UUID, stage_position: int | None) -> Exposures:
    """Each member's first treated or holdout decision of the stage (of the campaign)."""
    order = func.row_number().over(
        partition_by=(ReachDecision.member_id, ReachDecision.reason),
        order_by=(ReachDecision.occurred_at, ReachDecision.decided_at, ReachDecision.event_id),
    )
    ranked = select(
        ReachDecision.member_id,
        ReachDecision.reason,
        ReachDecision.occurred_at,
        ReachDecision.store_id,
        order.label("rank"),
    ).where(ReachDecision.campaign_id == campaign_id, ReachDecision.reason.in_(ARMS))
    if stage_position is not None:
        ranked = ranked.where(ReachDecision.stage_position == stage_position)
    first = ranked.subquery()
    rows = session.execute(
        select(first.c.member_id, first.c.reason, first.c.occurred_at, first.c.store_id)
        .where(first.c.rank == 1)
        .order_by(first.c.member_id)
    ).all()
    arms: dict[uuid.UUID, list[Exposure]] = {}
    for member_id, reason, occurred_at, store_id in rows:
        exposure = Exposure(member_id, Reason(reason), occurred_at, store_id)
        arms.setdefault(member_id, []).append(exposure)
    kept = [found[0] for found in arms.values() if len(found) == 1]
    return Exposures(kept, sum(1 for found in arms.values() if len(found) > 1))


def _arm_table(found: Sequence[Exposure], window: timedelta) -> Any:
    rows = [
        {
            "member_id": str(e.member_id),
            "arm": e.arm.value,
            "reached_store": None if e.store_id is None else str(e.store_id),
            "pre_start": e.exposed_at - window,
            "exposed_at": e.exposed_at,
            "window_end": e.exposed_at + window,
        }
        for e in found
    ]
    return ibis.memtable(pa.Table.from_pylist(rows, schema=_ARM_SCHEMA))


@dataclass(frozen=True)
class _Span:
    """What the warehouse scans for a stage's arms: from the earliest exposure's pre-period
    to the latest exposure's window end."""

    first_pre_start: datetime
    last_exposure: datetime
    last_end: datetime

    @classmethod
    def of(cls, found: Sequence[Exposure], window: timedelta) -> _Span:
        earliest = min(e.exposed_at for e in found)
        latest = max(e.exposed_at for e in found)
        return cls(earliest - window, latest, latest + window)


def _member_events(
    con: Any,
    organization_id: str,
    types: Sequence[str],
    since: datetime,
    until: datetime,
    *conditions: Any,
) -> Any:
    """The organisation's events of these types with a member, from `since` to before
    `until` (one scan, bounded by the earliest and latest exposure around it)."""
    events = con.table(EVENT_TABLE)
    return events.filter(
        events.organization_id == organization_id,
        events.type.isin(list(types)),
        events.member_id.notnull(),
        events.ts >= ibis.literal(since, type=UTC_TIMESTAMP),
        events.ts < ibis.literal(until, type=UTC_TIMESTAMP),
        *(condition(events) for condition in conditions),
    )


def _purchases(con: Any, organization_id: str, arms: Any, types: Sequence[str], span: _Span) -> Any:
    """The arms joined to their members' purchases from the pre-period's start to the
    window's end."""
    events = _member_events(con, organization_id, types, span.first_pre_start, span.last_end)
    events = events.select(
        buyer="member_id",
        ts="ts",
        store_id="store_id",
        channel="channel",
        amount=events.amount.cast("float64").fill_null(0.0),
    )
    joined = arms.inner_join(events, arms.member_id == events.buyer)
    return joined.filter(joined.ts >= joined.pre_start, joined.ts < joined.window_end)


def _online_interest(
    con: Any, organization_id: str, arms: Any, types: Sequence[str], span: _Span
) -> Any:
    """The arms' members with an online interest event (the Data Bank's interest types) in
    their pre-period: one row per member (`i_member`)."""
    events = _member_events(
        con,
        organization_id,
        types,
        span.first_pre_start,
        span.last_exposure,
        lambda e: e.channel == ONLINE,
    ).select(viewer="member_id", seen_at="ts")
    joined = arms.inner_join(events, arms.member_id == events.viewer)
    joined = joined.filter(joined.seen_at >= joined.pre_start, joined.seen_at < joined.exposed_at)
    return joined.select(i_member=joined.member_id).distinct()


def _arm_outcomes(arms: Any, purchases: Any, interest: Any) -> dict[str, dict[str, Any]]:
    """Per arm: members, converted, converted where reached, spend mean/variance, pre-period
    mean/variance and the covariance, and the online-interest counts (one query)."""
    inside = purchases.ts >= purchases.exposed_at
    per_member = purchases.group_by(p_member=purchases.member_id).aggregate(
        bought_offline=ibis.ifelse(inside & (purchases.channel != ONLINE), 1, 0).sum(),
        bought=ibis.ifelse(inside, 1, 0).sum(),
        bought_where_reached=ibis.ifelse(
            inside & (purchases.store_id == purchases.reached_store), 1, 0
        ).sum(),
        spend=purchases.amount.sum(where=inside),
        pre_spend=purchases.amount.sum(where=~inside),
    )
    joined = arms.left_join(per_member, arms.member_id == per_member.p_member)
    joined = joined.left_join(interest, joined.member_id == interest.i_member)
    interested = joined.i_member.notnull()
    members = joined.select(
        arm=joined.arm,
        interested=ibis.ifelse(interested, 1, 0),
        interested_converted=ibis.ifelse(interested & (joined.bought.fill_null(0) > 0), 1, 0),
        interested_offline=ibis.ifelse(interested & (joined.bought_offline.fill_null(0) > 0), 1, 0),
        converted=ibis.ifelse(joined.bought.fill_null(0) > 0, 1, 0),
        where_reached=ibis.ifelse(joined.bought_where_reached.fill_null(0) > 0, 1, 0),
        spend=joined.spend.fill_null(0.0),
        pre_spend=joined.pre_spend.fill_null(0.0),
    )
    totals = members.group_by("arm").aggregate(
        members=members.count(),
        converted=members.converted.sum(),
        where_reached=members.where_reached.sum(),
        mean=members.spend.mean(),
        variance=members.spend.var(how="sample"),
        pre_mean=members.pre_spend.mean(),
        pre_variance=members.pre_spend.var(how="sample"),
        covariance=members.spend.cov(members.pre_spend, how="sample"),
        interested=members.interested.sum(),
        interested_converted=members.interested_converted.sum(),
        interested_offline=members.interested_offline.sum(),
    )
    return {row["arm"]: row for row in totals.to_pyarrow().to_pylist()}


def _where_bought(purchases: Any) -> list[WhereBought]:
    bought = purchases.filter(purchases.ts >= purchases.exposed_at)
    rows = (
        bought.group_by("arm", "store_id", "channel")
        .aggregate(
            converters=bought.member_id.nunique(),
            purchases=bought.count(),
            gmv=bought.amount.sum(),
        )
        .to_pyarrow()
        .to_pylist()
    )
    found = [
        WhereBought(
            Reason(r["arm"]),
            None if r["store_id"] is None else uuid.UUID(r["store_id"]),
            r["channel"],
            int(r["converters"]),
            int(r["purchases"]),
            Decimal(str(round(r["gmv"] or 0.0, 2))).quantize(Decimal("0.01")),
        )
        for r in rows
    ]
    order = {arm: n for n, arm in enumerate(ARMS)}
    return sorted(
        found,
        key=lambda w: (order[w.arm], -w.converters, -w.gmv, str(w.store_id), w.channel or ""),
    )


def _outcome(row: dict[str, Any] | None) -> ArmOutcome:
    if row is None:
        return ArmOutcome(0, 0, 0, SpendSummary(0, 0.0, 0.0, 0.0, 0.0, 0.0))
    spend = SpendSummary(
        int(row["members"]),
        float(row["mean"] or 0.0),
        max(float(row["variance"] or 0.0), 0.0),
        float(row["pre_mean"] or 0.0),
        max(float(row["pre_variance"] or 0.0), 0.0),
        float(row["covariance"] or 0.0),
    )
    return ArmOutcome(
        int(row["members"]),
        int(row["converted"]),
        int(row["where_reached"]),
        spend,
        int(row["interested"]),
        int(row["interested_converted"]),
        int(row["interested_offline"]),
    )


def _redeemed(
    session: Session, campaign_id: uuid.UUID, found: Sequence[Exposure], window: timedelta
) -> tuple[int, int, Decimal]:
    """The treated members' coupons of the campaign redeemed inside their window: members,
    coupons and the discount they gave (the campaign's cost)."""
    exposed = {e.member_id: e.exposed_at for e in found if e.arm is Reason.TREATED}
    issued = select(ReachDecision.coupon_id).where(
        ReachDecision.campaign_id == campaign_id,
        ReachDecision.reason == Reason.TREATED,
        ReachDecision.coupon_id.is_not(None),
    )
    rows = session.execute(
        select(Coupon.member_id, Coupon.redeemed_at, Coupon.discount).where(
            Coupon.id.in_(issued), Coupon.redeemed_at.is_not(None)
        )
    ).all()
    members: set[uuid.UUID] = set()
    coupons, cost = 0, Decimal("0.00")
    for member_id, redeemed_at, discount in rows:
        at = None if member_id is None else exposed.get(member_id)
        if at is None or member_id is None or redeemed_at is None:
            continue
        if not at <= redeemed_at < at + window:
            continue
        members.add(member_id)
        coupons += 1
        cost += discount or Decimal("0")
    return len(members), coupons, cost


def check_window(window_days: int) -> None:
    """An attribution window of 1 to 90 days."""
    if isinstance(window_days, bool) or not 1 <= window_days <= MAX_WINDOW_DAYS:
        raise InvalidLiftInput(
            f"window_days must be 1 to {MAX_WINDOW_DAYS}, not {window_days!r}",
            field="window_days",
        )


def measure(
    session: Session,
    principal: Principal,
    warehouse: Warehouse,
    campaign_id: uuid.UUID,
    stage_position: int | None = None,
    window_days: int = DEFAULT_WINDOW_DAYS,
) -> Measurement:
    """The measured arms of a campaign (stage) and their lift report."""
    principal.require(Permission.READ)
    check_window(window_days)
    campaign = campaigns.get_campaign(session, campaign_id)
    if stage_position is not None and all(s.position != stage_position for s in campaign.stages):
        raise StageNotFound()
    window = timedelta(days=window_days)
    arms_found = exposures(session, campaign_id, stage_position)
    found, both = arms_found.members, arms_found.both_arms
    outcomes: dict[str, dict[str, Any]] = {}
    where: list[WhereBought] = []
    if found:
        scope = databank_service.scope_of(session, principal)
        con = warehouse.connection()
        with warehouse.lock:
            arms = _arm_table(found, window)
            span = _Span.of(found, window)
            purchases = _purchases(
                con, scope.organization_id, arms, scope.config.purchase_events, span
            )
            interest = _online_interest(
                con, scope.organization_id, arms, scope.config.interest_events, span
            )
            outcomes = _arm_outcomes(arms, purchases, interest)
            where = _where_bought(purchases)
    redeemed_members, redeemed_coupons, cost = _redeemed(session, campaign_id, found, window)
    treated = _outcome(outcomes.get(Reason.TREATED.value))
    holdout = _outcome(outcomes.get(Reason.HOLDOUT.value))
    moments = [e.exposed_at for e in found]
    measured = Measurement(
        campaign=campaign,
        stage_position=stage_position,
        window_days=window_days,
        both_arms=both,
        first_exposure=min(moments, default=None),
        last_exposure=max(moments, default=None),
        treated=treated,
        holdout=holdout,
        redeemed_members=redeemed_members,
        redeemed_coupons=redeemed_coupons,
        cost=cost,
        where_bought=where,
    )
    return _with_report(measured)


def holdout_share(campaign: Campaign) -> float:
    """The configured holdout share; the sample-ratio check needs one strictly in (0, 1)."""
    return min(max(campaign.holdout_percent, 1), 99) / 100


def _with_report(measured: Measurement) -> Measurement:
    treated, holdout = measured.treated, measured.holdout
    report = lift.lift_report(
        lift.Arm(treated.members, treated.converted, treated.spend),
        lift.Arm(holdout.members, holdout.converted, holdout.spend),
        holdout_share=holdout_share(measured.campaign),
        cost=measured.cost,
    )
    return replace(measured, report=report)
