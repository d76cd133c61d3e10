"""Order facts reach the warehouse exactly once through the outbox relay.

Runs on a database of its own: the relay publishes every organisation's pending rows, and
`events.outbox.relay_once` currently fails on a batch mixing rows with and without an
amount (reported to the lead), which other domains' tests leave behind in the shared one.
"""

from __future__ import annotations

import pytest

from newretail.bootstrap import Container
from newretail.core.database import session_scope
from newretail.events import outbox
from newretail.orders import pos, refunds, schemas
from newretail.warehouse.connection import EVENT_TABLE
from tests.conftest import Org
from tests.orders.factory import build_shop


@pytest.fixture
def database_url(sqlite_alone_url: str) -> str:
    return sqlite_alone_url


def test_sale_and_refund_are_relayed_once(container: Container, org: Org) -> None:
    shop = build_shop(container, org, stock=5)
    with session_scope(container.sessions, org.id) as session:
        order = pos.pos_sale(
            session,
            shop.principal,
            schemas.PosSaleCreate(
                store_id=shop.shop_id,
                external_order_id="R-1",
                lines=[schemas.PosLineIn(sku_id=shop.sku_ids[0], quantity=2)],
            ),
        ).order
    with session_scope(container.sessions, org.id) as session:
        refunds.refund(session, shop.principal, order.id, schemas.RefundCreate())
    assert outbox.relay_all(container.sessions, container.warehouse) == 3
    assert outbox.relay_all(container.sessions, container.warehouse) == 0
    events = container.warehouse.connection().table(EVENT_TABLE)
    mine = events.filter(events.organization_id == str(org.id))
    counts = mine.group_by("type").aggregate(n=mine.count()).to_pandas()
    assert dict(zip(counts["type"], counts["n"], strict=True)) == {
        "order_placed": 1,
        "purchase": 1,
        "order_refunded": 1,
    }
    purchase = mine.filter(mine.type == "purchase").to_pandas().iloc[0]
    assert (purchase["channel"], str(purchase["amount"])) == ("store", "20.00")
