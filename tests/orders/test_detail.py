"""The order page's read model: one service call gathers what the page shows."""

from __future__ import annotations

from decimal import Decimal

import pytest

from newretail.bootstrap import Container
from newretail.core.database import session_scope
from newretail.core.errors import NotFound
from newretail.orders import pos, reads, refunds, schemas
from newretail.tenancy.models import Role
from newretail.tenancy.permissions import Principal, PrincipalKind
from tests.conftest import Org
from tests.orders.factory import build_shop


def test_order_detail_gathers_refunds_stores_skus_and_member(
    container: Container, org: Org
) -> None:
    shop = build_shop(container, org, stock=5)
    a, b = shop.sku_ids
    with session_scope(container.sessions, org.id) as session:
        order = pos.pos_sale(
            session,
            shop.principal,
            schemas.PosSaleCreate.model_validate(
                {
                    "store_id": str(shop.counter_id),
                    "external_order_id": "D-1",
                    "lines": [
                        {"sku_id": str(a), "quantity": 2},
                        {"sku_id": str(b), "quantity": 1},
                    ],
                    "member": {"type": "phone", "value": "13800138000"},
                }
            ),
        ).order
        line_b = next(line for line in order.lines if line.sku_id == b)
        refunds.refund(
            session,
            shop.principal,
            order.id,
            schemas.RefundCreate(lines=[schemas.RefundLineIn(order_line_id=line_b.id, quantity=1)]),
        )
    with session_scope(container.sessions, org.id) as session:
        detail = reads.order_detail(session, shop.principal, order.id)
        assert detail.order.id == order.id
        assert (detail.order.total_amount, detail.net) == (Decimal("30.00"), Decimal("20.00"))
        assert [(r.amount, [line.location_id for line in r.lines]) for r in detail.refunds] == [
            (Decimal("10.00"), [shop.counter_id])
        ]
        assert {sku_id: sku.code for sku_id, sku in detail.skus.items()} == {
            a: "SKU0",
            b: "SKU1",
        }
        assert detail.line_numbers == {line.id: line.line_number for line in order.lines}
        assert sorted(detail.line_numbers.values()) == [1, 2]
        assert detail.member is not None and detail.member.id == order.member_id
        assert detail.stores[shop.counter_id].code == "S1"
        manager = Principal.for_role(
            PrincipalKind.USER,
            org.id,
            Role.STORE_MANAGER,
            actor="m",
            store_ids=frozenset({shop.shop_id}),
        )
        with pytest.raises(NotFound):
            reads.order_detail(session, manager, order.id)


def test_order_page_numbers_pages_newest_first_with_the_total(
    container: Container, org: Org
) -> None:
    shop = build_shop(container, org, stock=5)
    sold = []
    with session_scope(container.sessions, org.id) as session:
        for number in range(3):
            sold.append(
                pos.pos_sale(
                    session,
                    shop.principal,
                    schemas.PosSaleCreate.model_validate(
                        {
                            "store_id": str(shop.counter_id),
                            "external_order_id": f"P-{number}",
                            "sold_at": f"2026-11-11T0{number}:30:00+08:00",
                            "lines": [{"sku_id": str(shop.sku_ids[0]), "quantity": 1}],
                        }
                    ),
                ).order.id
            )
    with session_scope(container.sessions, org.id) as session:
        first, total = reads.order_page(session, shop.principal, reads.OrderFilter(), 1, 2)
        second, again = reads.order_page(session, shop.principal, reads.OrderFilter(), 2, 2)
    assert (total, again) == (3, 3)
    assert [order.id for order in first + second] == sold[::-1]
