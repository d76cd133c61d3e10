"""Shared set-up of the coupon ledger tests: an offer, a stage, coupons issued one by one."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newretail.marketing import coupons, redemption
from newretail.marketing.models import Budget, Coupon, CouponLedgerEntry, CouponState

OFFER = uuid.UUID("00000000-0000-4000-8000-00000000000a")
STAGE = "00000000-0000-4000-8000-0000000000d1:2"  # a campaign id and a stage position
NOW = datetime(2026, 11, 11, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai on the main day
VALID_FROM = datetime(2026, 10, 31, 16, 0, tzinfo=UTC)  # 2026-11-01 00:00 Shanghai
VALID_UNTIL = datetime(2026, 11, 11, 16, 0, tzinfo=UTC)  # 2026-11-12 00:00 Shanghai


def a_coupon(
    session: Session,
    org_id: uuid.UUID,
    key: str,
    *,
    member_id: uuid.UUID | None = None,
    stage_key: str | None = STAGE,
    store_id: uuid.UUID | None = None,
    valid_until: datetime = VALID_UNTIL,
) -> Coupon:
    request = coupons.Issue(
        offer_id=OFFER,
        issue_key=key,
        valid_from=VALID_FROM,
        valid_until=valid_until,
        member_id=member_id,
        stage_key=stage_key,
        store_id=store_id,
    )
    return coupons.issue(session, org_id, request, "test")


def use(
    order_ref: str,
    discount: str = "30.00",
    *,
    store_id: uuid.UUID | None = None,
    member_id: uuid.UUID | None = None,
    reservation: str | None = None,
) -> redemption.Redemption:
    return redemption.Redemption(order_ref, store_id, Decimal(discount), member_id, reservation)


def later(minutes: int) -> datetime:
    return NOW + timedelta(minutes=minutes)


def ledger(session: Session, coupon_id: uuid.UUID) -> list[str]:
    return list(
        session.scalars(
            select(CouponLedgerEntry.change)
            .where(CouponLedgerEntry.coupon_id == coupon_id)
            .order_by(CouponLedgerEntry.created_at, CouponLedgerEntry.id)
        )
    )


def check_invariants(session: Session) -> None:
    """Redeemed coupons and budgets agree, and no budget is over its limits or negative."""
    for budget in session.scalars(select(Budget).execution_options(populate_existing=True)):
        assert budget.issued >= 0 and budget.redeemed >= 0 and budget.discounted >= 0
        assert budget.issue_limit is None or budget.issued <= budget.issue_limit
        assert budget.redeem_limit is None or budget.redeemed <= budget.redeem_limit
        assert budget.amount_limit is None or budget.discounted <= budget.amount_limit
        if budget.store_id is None:
            redeemed = session.scalar(
                select(func.count())
                .select_from(Coupon)
                .where(Coupon.stage_key == budget.stage_key, Coupon.state == CouponState.REDEEMED)
            )
            assert budget.redeemed == redeemed
    for coupon_id, redemptions in session.execute(
        select(CouponLedgerEntry.coupon_id, func.count())
        .where(CouponLedgerEntry.change == "redeemed")
        .group_by(CouponLedgerEntry.coupon_id)
    ):
        restored = session.scalar(
            select(func.count())
            .select_from(CouponLedgerEntry)
            .where(CouponLedgerEntry.coupon_id == coupon_id, CouponLedgerEntry.change == "restored")
        )
        assert redemptions - (restored or 0) <= 1, coupon_id
