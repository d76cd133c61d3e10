"""Tiers: upgrade as soon as spend crosses a threshold, downgrade only at the review date."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from newretail.bootstrap import Container
from newretail.members import schemas, service, tiers
from tests.conftest import Org
from tests.members.conftest import org_session, owner_of

JOINED = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)


def test_upgrade_at_once_and_downgrade_only_at_review(container: Container, org: Org) -> None:
    owner = owner_of(org)
    with org_session(container, org) as session:
        ids = {
            name: tiers.create_tier(
                session, owner, schemas.TierCreate(name=name, min_spend=Decimal(spend))
            ).id
            for name, spend in [("Member", "0"), ("Silver", "1000"), ("Gold", "5000")]
        }
        member = service.create_member(session, owner, schemas.MemberCreate(joined_at=JOINED))
        member_id = member.id
        assert member.tier_id == ids["Member"]
        assert member.tier_review_at == JOINED + timedelta(days=365)

    def spend(amount: str, at: datetime, *, refund: bool = False) -> uuid.UUID | None:
        with org_session(container, org) as session:
            reference = uuid.uuid4()
            updated = tiers.record_spend(
                session,
                org.id,
                member_id,
                amount=Decimal(amount),
                occurred_at=at,
                order_id=None if refund else reference,
                refund_id=reference if refund else None,
            )
            return updated.tier_id

    assert spend("600.00", JOINED + timedelta(days=10)) == ids["Member"]
    upgraded_at = JOINED + timedelta(days=20)
    assert spend("400.00", upgraded_at) == ids["Silver"]  # 1000 reached: upgrade at once
    assert spend("700.00", JOINED + timedelta(days=30), refund=True) == ids["Silver"]  # kept
    with org_session(container, org) as session:
        assert tiers.rolling_spend(session, member_id, JOINED + timedelta(days=31)) == Decimal(
            "300.00"
        )
        assert service.get_member(session, owner, member_id).tier_review_at == upgraded_at + (
            timedelta(days=365)
        )
        # before the review date nobody moves
        assert tiers.review_tiers(session, upgraded_at + timedelta(days=364)) == 0
        assert service.get_member(session, owner, member_id).tier_id == ids["Silver"]
    with org_session(container, org) as session:
        review = upgraded_at + timedelta(days=365)
        assert tiers.review_tiers(session, review) == 1
        reviewed = service.get_member(session, owner, member_id)
        # the spend of the 365 days before the review is 0 (all older): back to Member
        assert reviewed.tier_id == ids["Member"]
        assert reviewed.tier_review_at == review + timedelta(days=365)


def test_spend_is_recorded_once_per_order(container: Container, org: Org) -> None:
    owner = owner_of(org)
    with org_session(container, org) as session:
        tiers.create_tier(session, owner, schemas.TierCreate(name="Gold", min_spend=Decimal(500)))
        member_id = service.create_member(session, owner, schemas.MemberCreate()).id
        order_id = uuid.uuid4()
        for _ in range(2):
            tiers.record_spend(
                session,
                org.id,
                member_id,
                amount=Decimal("300"),
                occurred_at=JOINED,
                order_id=order_id,
            )
        assert tiers.rolling_spend(session, member_id, JOINED) == Decimal("300.00")
        assert service.get_member(session, owner, member_id).tier_id is None
