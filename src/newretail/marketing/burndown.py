"""A campaign stage's budget burn-down: what is left of each limit of the stage's own budget
at the end of each local day, read from the coupon ledger.

The ledger moves the budget as the guarded UPDATEs of `marketing.budgets` did: `issued` spends
one coupon and `voided` gives it back; `redeemed` spends one redemption and its discount and
`restored` (a refund) gives back both — the discount of the redemption it undoes (same coupon
and order). Changes before the stage's first day count in its opening value, changes after
its last day (coupons valid beyond it) on its last day. Days are the organisation's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import Session, aliased

from newretail.core.localtime import local_day_bounds, today
from newretail.core.money import CENT
from newretail.marketing.models import (
    Budget,
    CampaignStage,
    Coupon,
    CouponChange,
    CouponLedgerEntry,
)

MEASURES = ("issued", "redeemed", "discounted")  # each with its limit on the budget
# what one ledger row of each change does to (issued, redeemed), and the sign of its money
MOVES = {
    CouponChange.ISSUED: (1, 0, 0),
    CouponChange.VOIDED: (-1, 0, 0),
    CouponChange.REDEEMED: (0, 1, 1),
    CouponChange.RESTORED: (0, -1, -1),
}


@dataclass(frozen=True)
class BurnDown:
    """One limit of a stage's budget: what was left when the stage opened (`left[0]`) and at
    the end of each of its local days so far (`left[i]` after `days[i - 1]`)."""

    measure: str  # issued, redeemed or discounted (money)
    limit: Decimal
    days: list[date]  # every day of the stage
    left: list[Decimal]  # 1 + the days elapsed (all of them once the stage is over)
    today: date | None  # within the stage's days, or None


@dataclass(frozen=True)
class Spent:
    """What the ledger spent in one bucket (0: before the first day; i: on day i)."""

    issued: int = 0
    redeemed: int = 0
    discounted: Decimal = Decimal("0")


def _bucket(days: Sequence[date], zone_name: str) -> ColumnElement[Any]:
    """0 before the first local day, i on day i, the last day's number after it."""
    at = CouponLedgerEntry.created_at
    first_start = local_day_bounds(days[0], zone_name)[0]
    whens: list[tuple[ColumnElement[bool], int]] = [(at < first_start, 0)]
    whens += [(at < local_day_bounds(d, zone_name)[1], i) for i, d in enumerate(days, start=1)]
    return case(*whens, else_=len(days))


def spent_by_day(
    session: Session, stage_key: str, days: Sequence[date], zone_name: str
) -> list[Spent]:
    """What the stage's coupons spent of its budget before its first day and on each day."""
    undone = aliased(CouponLedgerEntry)
    redemption_undone = (
        select(undone.discount)
        .where(
            undone.coupon_id == CouponLedgerEntry.coupon_id,
            undone.change == CouponChange.REDEEMED,
            undone.order_ref == CouponLedgerEntry.order_ref,
        )
        .order_by(undone.created_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    money = case(
        (CouponLedgerEntry.change == CouponChange.REDEEMED, CouponLedgerEntry.discount),
        (CouponLedgerEntry.change == CouponChange.RESTORED, redemption_undone),
        else_=None,
    )
    bucket = _bucket(days, zone_name).label("bucket")
    rows = session.execute(
        select(bucket, CouponLedgerEntry.change, func.count(), func.sum(money))
        .join(Coupon, Coupon.id == CouponLedgerEntry.coupon_id)
        .where(Coupon.stage_key == stage_key, CouponLedgerEntry.change.in_(list(MOVES)))
        .group_by(bucket, CouponLedgerEntry.change)
    ).all()
    found = [Spent() for _ in range(len(days) + 1)]
    for index, change, count, amount in rows:
        issued, redeemed, sign = MOVES[CouponChange(change)]
        cents = Decimal(str(amount or 0)).quantize(CENT)
        was = found[index]
        found[index] = Spent(
            was.issued + issued * count,
            was.redeemed + redeemed * count,
            was.discounted + sign * cents,
        )
    return found


def _stage_days(stage: CampaignStage) -> list[date]:
    return [
        stage.first_day + timedelta(days=n)
        for n in range((stage.last_day - stage.first_day).days + 1)
    ]


def stage_burn_downs(
    session: Session, stage: CampaignStage, zone_name: str, now: datetime
) -> list[BurnDown]:
    """The burn-down of each limit of the stage's own budget (none without a limit)."""
    budget = session.scalar(
        select(Budget).where(Budget.stage_key == stage.stage_key, Budget.store_id.is_(None))
    )
    if budget is None:
        return []
    limits = {
        "issued": budget.issue_limit,
        "redeemed": budget.redeem_limit,
        "discounted": budget.amount_limit,
    }
    if all(limit is None for limit in limits.values()):
        return []
    days = _stage_days(stage)
    spent = spent_by_day(session, stage.stage_key, days, zone_name)
    on = today(zone_name, now)
    elapsed = len(days) if on > days[-1] else max(0, (on - days[0]).days + 1)
    charts = []
    for measure in MEASURES:
        limit = limits[measure]
        if limit is None:
            continue
        left, running = [], Decimal(limit)
        for bucket in spent[: elapsed + 1]:
            running -= Decimal(getattr(bucket, measure))
            left.append(running)
        within = days[0] <= on <= days[-1]
        charts.append(BurnDown(measure, Decimal(limit), days, left, on if within else None))
    return charts
