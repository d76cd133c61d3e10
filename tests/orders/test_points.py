"""Orders earn and give back member points and spend: POS sales by member id or identifier,
idempotent resends (also concurrent, on PostgreSQL), refunds of one line."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from newretail.bootstrap import Container
from newretail.core.database import (
    create_db_engine,
    make_session_factory,
    session_scope,
    utcnow,
)
from newretail.core.errors import InvalidInput
from newretail.members import points, tiers
from newretail.members import schemas as member_schemas
from newretail.members import service as members_service
from newretail.members.models import LedgerKind, Member, PointsAward, PointsLedgerEntry
from newretail.orders import pos, refunds, schemas
from newretail.orders.models import Order
from tests.conftest import Org
from tests.orders.factory import Shop, build_shop, check_ledger, level
from tests.orders.test_concurrency import run_parallel

# an hour ago: inside the return window, so the sale's points are still locked when a test
# refunds it (a fixed date made the tests depend on the day they ran)
SOLD_AT = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
PHONE = "13800138000"


def earn_rules(container: Container, shop: Shop) -> None:
    """1.5 points per yuan, skincare (the shop's products) doubled; tiers Silver 5, Gold 25."""
    with session_scope(container.sessions, shop.org.id) as session:
        points.create_earn_rule(
            session,
            shop.principal,
            member_schemas.EarnRuleCreate(
                brand_id=shop.org.brand_id,
                points_per_unit=Decimal("1.5"),
                category_multipliers={"skincare": Decimal(2)},
            ),
        )
        for name, spend in (("Silver", "5"), ("Gold", "25")):
            tiers.create_tier(
                session, shop.principal, member_schemas.TierCreate(name=name, min_spend=spend)
            )


def new_member(container: Container, shop: Shop) -> uuid.UUID:
    with session_scope(container.sessions, shop.org.id) as session:
        return members_service.create_member(
            session, shop.principal, member_schemas.MemberCreate(name="Han Meimei", phone=PHONE)
        ).id


def sale(shop: Shop, external: str, **member: object) -> schemas.PosSaleCreate:
    a, b = shop.sku_ids
    return schemas.PosSaleCreate.model_validate(
        {
            "store_id": shop.counter_id,
            "external_order_id": external,
            "sold_at": SOLD_AT,
            "lines": [{"sku_id": a, "quantity": 2}, {"sku_id": b, "quantity": 1}],
            **member,
        }
    )


def state(container: Container, shop: Shop, member_id: uuid.UUID) -> tuple[int, int, str | None]:
    """(available, locked, tier name) of the member; the points ledger must be sound."""
    with session_scope(container.sessions, shop.org.id) as session:
        assert points.check_invariants(session, member_id) == []
        balance = points.points_balance(session, shop.principal, member_id)
        member = session.get(Member, member_id)
        assert member is not None
        names = members_service.member_tier_names(session, [member])
        tier = names.get(member.tier_id) if member.tier_id else None
        return balance.available, balance.locked, tier


def earn_entries(container: Container, shop: Shop, member_id: uuid.UUID) -> list[str]:
    with session_scope(container.sessions, shop.org.id) as session:
        return list(
            session.scalars(
                select(PointsLedgerEntry.kind)
                .where(PointsLedgerEntry.member_id == member_id)
                .order_by(PointsLedgerEntry.created_at)
            )
        )


def test_pos_sale_by_member_id_awards_points_once(container: Container, org: Org) -> None:
    shop = build_shop(container, org, stock=5)
    earn_rules(container, shop)
    member_id = new_member(container, shop)
    for attempt in range(3):
        with session_scope(container.sessions, org.id) as session:
            result = pos.pos_sale(
                session, shop.principal, sale(shop, "C-9", member_id=str(member_id))
            )
            assert result.replayed is (attempt > 0)
    # 30.00 × 1.5 × 2 (skincare) = 90 points, locked for the return window; spend 30 → Gold
    assert state(container, shop, member_id) == (0, 90, "Gold")
    assert earn_entries(container, shop, member_id) == [LedgerKind.EARN]
    with session_scope(container.sessions, org.id) as session:
        award = session.scalar(select(PointsAward).where(PointsAward.member_id == member_id))
        assert award is not None
        assert sorted(int(line["points"]) for line in award.lines) == [30, 60]
        assert tiers.rolling_spend(session, member_id, SOLD_AT) == Decimal("30.00")


def test_pos_sale_names_the_member_by_identifier(container: Container, org: Org) -> None:
    shop = build_shop(container, org, stock=5)
    earn_rules(container, shop)
    # an unknown phone enrols the member at the till
    with session_scope(container.sessions, org.id) as session:
        first = pos.pos_sale(
            session, shop.principal, sale(shop, "C-1", member={"type": "phone", "value": PHONE})
        ).order
    assert first.member_id is not None
    # the same person in another format is found, not enrolled again
    with session_scope(container.sessions, org.id) as session:
        second = pos.pos_sale(
            session,
            shop.principal,
            sale(shop, "C-2", member={"type": "phone", "value": "+86 138 0013 8000"}),
        ).order
        found = members_service.find_member(session, shop.principal, "phone", PHONE)
        assert found is not None
        assert session.scalar(select(func.count()).select_from(Member)) == 1
        assert session.get(Member, first.member_id) is not None
        stored = session.get(Order, first.id)
        assert stored is not None and stored.member_id == found.id
    assert second.member_id == found.id
    assert state(container, shop, found.id) == (0, 180, "Gold")
    with (
        pytest.raises(InvalidInput) as caught,
        session_scope(container.sessions, org.id) as session,
    ):
        pos.pos_sale(
            session,
            shop.principal,
            sale(
                shop,
                "C-3",
                member={"type": "phone", "value": PHONE},
                member_id=str(uuid.uuid4()),
            ),
        )
    assert caught.value.field == "member"


def test_refund_of_one_line_reverses_its_points_and_spend(container: Container, org: Org) -> None:
    shop = build_shop(container, org, stock=5)
    earn_rules(container, shop)
    member_id = new_member(container, shop)
    a = shop.sku_ids[0]
    with session_scope(container.sessions, org.id) as session:
        order = pos.pos_sale(
            session, shop.principal, sale(shop, "C-7", member={"type": "phone", "value": PHONE})
        ).order
        line_a = next(line for line in order.lines if line.sku_id == a)
    assert order.member_id == member_id
    assert level(container, org.id, a, shop.counter_id).on_hand == 3
    with session_scope(container.sessions, org.id) as session:
        refund = refunds.refund(
            session,
            shop.principal,
            order.id,
            schemas.RefundCreate(lines=[schemas.RefundLineIn(order_line_id=line_a.id, quantity=2)]),
        )
        assert refund.amount == Decimal("20.00")
    # the units are back at the counter they left; the line's 60 points are taken back
    assert level(container, org.id, a, shop.counter_id).on_hand == 5
    assert level(container, org.id, a, shop.shop_id).on_hand == 5
    check_ledger(container, org.id)
    assert earn_entries(container, shop, member_id) == [LedgerKind.EARN, LedgerKind.REVERSE]
    # spend is 10.00 now: Gold stays until the review date (upgrade at once, downgrade at
    # review), where the member is re-evaluated to Silver
    assert state(container, shop, member_id) == (0, 30, "Gold")
    with session_scope(container.sessions, org.id) as session:
        now = utcnow()
        assert tiers.rolling_spend(session, member_id, now) == Decimal("10.00")
        session.execute(update(Member).where(Member.id == member_id).values(tier_review_at=now))
        assert tiers.review_tiers(session, now) == 1
    assert state(container, shop, member_id) == (0, 30, "Silver")
    # refunding the rest takes back the remaining 30 points
    with session_scope(container.sessions, org.id) as session:
        refunds.refund(session, shop.principal, order.id, schemas.RefundCreate())
        assert tiers.rolling_spend(session, member_id, utcnow()) == Decimal("0.00")
    assert state(container, shop, member_id) == (0, 0, "Silver")


@pytest.fixture
def wide(container: Container) -> Iterator[Container]:
    """A pool with a connection for every concurrent sender."""
    engine = create_db_engine(container.settings.resolved_database_url, pool_size=4)
    yield Container(container.settings, engine, make_session_factory(engine), container.warehouse)
    engine.dispose()


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_the_same_member_sale_sent_3_times_at_once_awards_once(wide: Container, org: Org) -> None:
    shop = build_shop(wide, org, stock=5)
    earn_rules(wide, shop)
    data = sale(shop, "till-3-000042", member={"type": "phone", "value": PHONE})
    results = run_parallel(
        wide,
        org.id,
        [lambda s: pos.pos_sale(s, shop.principal, data).replayed for _ in range(3)],
    )
    assert sorted(results, key=str) == [False, True, True]
    with session_scope(wide.sessions, org.id) as session:
        assert session.scalar(select(func.count()).select_from(Order)) == 1
        assert session.scalar(select(func.count()).select_from(Member)) == 1
        assert session.scalar(select(func.count()).select_from(PointsAward)) == 1
        member_id = session.scalar(select(Member.id))
    assert member_id is not None
    assert state(wide, shop, member_id) == (0, 90, "Gold")
    assert earn_entries(wide, shop, member_id) == [LedgerKind.EARN]
    assert level(wide, org.id, shop.sku_ids[0], shop.counter_id).on_hand == 3
    check_ledger(wide, org.id)
