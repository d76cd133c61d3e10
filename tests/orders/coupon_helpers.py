"""Set-up of the sale-with-coupons tests: saved offers and coupons issued through the
marketing services, on the shop of `tests.orders.factory` (SKUs at 10.00 in shops, 12.00
online, category Skincare/Serums)."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from newretail.bootstrap import Container
from newretail.core.database import session_scope, utcnow
from newretail.marketing import budgets, coupons, offer_library
from newretail.marketing.models import Coupon, CouponLedgerEntry, RedemptionConflict
from newretail.marketing.offer_specs import OfferSpec
from newretail.orders.models import Order
from tests.orders.factory import Shop

STAGE = "00000000-0000-4000-8000-0000000000d1:1"
OFFERS: dict[str, dict[str, Any]] = {
    # 满减: spend 30 save 5 (on the price charged)
    "SPEND-30-SAVE-5": {
        "benefit": {"kind": "threshold", "spend": "30.00", "save": "5.00"},
        "combination_class": "order",
        "combines_with": ["SERUM-10PCT"],
    },
    "ONLINE-3": {
        "benefit": {"kind": "amount_off", "amount": "3.00"},
        "combination_class": "order",
        "channels": {"reach": "online"},
    },
    "SERUM-10PCT": {
        "benefit": {"kind": "percent_off", "percent": "10"},
        "combination_class": "product",
        "scope": {"include": {"category_paths": ["Skincare"]}},
        "combines_with": ["SPEND-30-SAVE-5"],
    },
    "FORFEIT-2": {
        "benefit": {"kind": "amount_off", "amount": "2.00"},
        "combination_class": "order",
        "refund_rule": "forfeit",
    },
}


def save_offers(container: Container, shop: Shop) -> dict[str, uuid.UUID]:
    """The offers above, saved for the shop's organisation; their ids by code."""
    ids = {}
    with session_scope(container.sessions, shop.org.id) as session:
        for code, spec in OFFERS.items():
            offer = offer_library.create_offer(
                session,
                shop.principal,
                OfferSpec.model_validate({**spec, "code": code, "name": code.title()}),
            )
            ids[code] = offer.id
    return ids


def issue(
    container: Container,
    shop: Shop,
    offer_id: uuid.UUID,
    key: str,
    *,
    code: str | None = None,
    member_id: uuid.UUID | None = None,
    stage_key: str | None = None,
    valid_until: datetime | None = None,
) -> uuid.UUID:
    """One coupon of the offer, valid from a day ago for 30 days (or until `valid_until`)."""
    now = utcnow()
    request = coupons.Issue(
        offer_id=offer_id,
        issue_key=key,
        valid_from=now - timedelta(days=1),
        valid_until=valid_until or now + timedelta(days=30),
        member_id=member_id,
        stage_key=stage_key,
    )
    with session_scope(container.sessions, shop.org.id) as session:
        return coupons.issue(session, shop.org.id, request, "test", code=code).id


def stage_budget(container: Container, shop: Shop, **limits: Any) -> None:
    with session_scope(container.sessions, shop.org.id) as session:
        budgets.create_budget(session, shop.org.id, name="stage", stage_key=STAGE, **limits)


def coupon(container: Container, shop: Shop, coupon_id: uuid.UUID) -> Coupon:
    with session_scope(container.sessions, shop.org.id) as session:
        found = session.get(Coupon, coupon_id)
        assert found is not None
        session.expunge(found)
        return found


def ledger(container: Container, shop: Shop, coupon_id: uuid.UUID) -> list[tuple[str, Any]]:
    """The coupon's ledger: (change, order_ref) in order."""
    with session_scope(container.sessions, shop.org.id) as session:
        return [
            (change, order_ref)
            for change, order_ref in session.execute(
                select(CouponLedgerEntry.change, CouponLedgerEntry.order_ref)
                .where(CouponLedgerEntry.coupon_id == coupon_id)
                .order_by(CouponLedgerEntry.created_at, CouponLedgerEntry.id)
            )
        ]


def totals(container: Container, shop: Shop) -> tuple[int, int, int]:
    """Orders, redemption ledger rows and conflicts of the organisation."""
    with session_scope(container.sessions, shop.org.id) as session:
        redeemed = (
            select(func.count())
            .select_from(CouponLedgerEntry)
            .where(CouponLedgerEntry.change == "redeemed")
        )
        return (
            session.scalar(select(func.count()).select_from(Order)) or 0,
            session.scalar(redeemed) or 0,
            session.scalar(select(func.count()).select_from(RedemptionConflict)) or 0,
        )


def outcomes(results: list[object]) -> Counter[str]:
    return Counter(str(result) for result in results)
