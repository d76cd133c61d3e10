"""The demo commerce seeding: exact counts for a fixed random seed, consistent ledgers, and
purchases that reach the warehouse through the outbox relay."""

from __future__ import annotations

import random
import secrets
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from newretail.bootstrap import Container
from newretail.catalog.models import Product, Sku, SkuPrice
from newretail.core.database import scope_session, session_scope
from newretail.demo import catalog as catalog_demo
from newretail.demo import members as members_demo
from newretail.demo import orders as orders_demo
from newretail.demo import organisation as demo
from newretail.demo.catalog import ean13
from newretail.demo.members import seed_members
from newretail.demo.orders import seed_commerce
from newretail.events.models import OutboxMessage
from newretail.events.outbox import relay_all
from newretail.inventory import reads as stock_reads
from newretail.inventory.models import StockLevel, StockMovement
from newretail.orders.models import Order, OrderLine, OrderStatus, Refund
from newretail.tenancy import service as tenancy_service
from newretail.warehouse.connection import EVENT_TABLE
from tests.orders.factory import check_ledger, owner

FROZEN_NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def _demo_org(container: Container, monkeypatch: pytest.MonkeyPatch) -> uuid.UUID:
    """The demo's brands and stores in a fresh organisation (without the demo's role logins,
    whose e-mail addresses other tests of the same database use)."""
    monkeypatch.setattr(demo, "ROLE_LOGINS", [])
    # the demo's times are relative to now, and which orders are still open depends on it
    for module in (catalog_demo, members_demo, orders_demo):
        monkeypatch.setattr(module, "utcnow", lambda: FROZEN_NOW)
    with session_scope(container.sessions) as session:
        suffix = secrets.token_hex(4)
        org = tenancy_service.create_organization(
            scope_session(session, None),
            f"demo {suffix}",
            owner_email=f"demo-{suffix}@example.com",
            owner_password="correct horse battery",
            slug=f"demo-{suffix}",
        ).organization
        demo._seed_tenancy(session, org)
        seed_members(session, org.id, 200, random.Random(7))
        return org.id


def test_seeding_gives_exact_counts_and_consistent_ledgers(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    org_id = _demo_org(container, monkeypatch)
    with session_scope(container.sessions, org_id) as session:
        seeded = seed_commerce(session, org_id, random.Random(42), days=7)
        assert seed_commerce(session, org_id, random.Random(42), days=7).skus == 0  # once only
    assert seeded.skus == 200
    # the warehouse, 7 beauty and 3 tea shops, counters and pop-ups, 5 vending machines
    assert seeded.stocked_locations == 16
    assert seeded.stock_levels == 200 + 10 * 100 + 5 * 8
    assert seeded.low_stock_levels == 8
    assert seeded.orders_by_channel == EXPECTED_ORDERS
    with session_scope(container.sessions, org_id) as session:
        assert session.scalar(select(func.count()).select_from(Product)) == 50
        assert session.scalar(select(func.count()).select_from(Sku)) == 200
        assert (
            session.scalar(select(func.count()).select_from(SkuPrice)) == 200 * 5 + 16
        )  # drinks also on vending
        barcodes = list(session.scalars(select(Sku.barcode)))
        assert all(b is not None and b == ean13(b[:12]) for b in barcodes)
        by_channel = dict(
            session.execute(select(Order.channel, func.count()).group_by(Order.channel)).all()
        )
        assert by_channel == EXPECTED_ORDERS
        stocked = session.scalar(select(func.count(func.distinct(StockLevel.location_id))))
        assert stocked == 16
        assert session.scalar(select(func.count()).select_from(Refund)) == seeded.refunds
        # allocated = units of paid orders not shipped yet
        open_units = session.scalar(
            select(func.coalesce(func.sum(OrderLine.quantity), 0))
            .join(Order, Order.id == OrderLine.order_id)
            .where(Order.status == OrderStatus.PAID)
        )
        assert session.scalar(select(func.sum(StockLevel.allocated))) == open_units
        # on hand = receipts − sales + refunds, per reason
        totals = dict(
            session.execute(
                select(StockMovement.reason, func.sum(StockMovement.delta)).group_by(
                    StockMovement.reason
                )
            ).all()
        )
        assert set(totals) == {"receipt", "sale", "refund"}
        on_hand = session.scalar(select(func.sum(StockLevel.on_hand)))
        assert on_hand == totals["receipt"] + totals["sale"] + totals["refund"]
        low = stock_reads.list_levels(
            session, owner(org_id), stock_reads.StockFilter(low_only=True), 100
        )
        assert len(low) == 8
        purchases = session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.event_type == "purchase")
        )
        not_cancelled = sum(EXPECTED_ORDERS.values()) - session.scalar(
            select(func.count()).select_from(Order).where(Order.status == OrderStatus.CANCELLED)
        )
        assert purchases == not_cancelled
    check_ledger(container, org_id)

    relay_all(container.sessions, container.warehouse)
    table = container.warehouse.connection().table(EVENT_TABLE)
    landed = table.filter(
        (table.organization_id == str(org_id)) & (table.type == "purchase")
    ).count()
    assert int(landed.execute()) == purchases


EXPECTED_ORDERS = {
    "cloud_shelf": 70,
    "counter": 212,
    "online": 208,
    "popup": 79,
    "store": 299,
    "vending": 232,
}
