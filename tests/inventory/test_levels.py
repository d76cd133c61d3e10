"""Reading stock levels: the SKU search is a SQL condition, applied before the row limit."""

from __future__ import annotations

from newretail.bootstrap import Container
from newretail.core.database import session_scope
from newretail.inventory import reads
from tests.conftest import Org
from tests.orders.factory import build_shop


def test_search_by_code_name_or_exact_barcode_before_the_limit(
    container: Container, org: Org
) -> None:
    shop = build_shop(container, org, skus=3, stock=2)
    sku0, sku1, sku2 = shop.sku_ids

    def found(search: str, limit: int = 100) -> tuple[list[tuple[str, str]], int]:
        with session_scope(container.sessions, org.id) as session:
            view = reads.stock_view(
                session, shop.principal, reads.StockFilter(search=search), limit
            )
            return [(level.location_code, level.sku_code) for level in view.levels], view.total

    everywhere = ["NEAR", "S0", "S1", "WH"]
    assert found("sku2") == ([(code, "SKU2") for code in everywhere], 4)
    assert found("Serum 1") == ([(code, "SKU1") for code in everywhere], 4)
    assert found("6900000000") == ([(code, "SKU0") for code in everywhere], 4)
    assert found("690000000") == ([], 0)  # a barcode matches only whole
    assert found("serum") == (
        [(code, sku) for code in everywhere for sku in ("SKU0", "SKU1", "SKU2")],
        12,
    )
    # the limit cuts the matches, not the levels before the search
    assert found("SKU2", limit=2) == ([("NEAR", "SKU2"), ("S0", "SKU2")], 4)
    assert found("100%_") == ([], 0)  # LIKE wildcards are plain characters
    with session_scope(container.sessions, org.id) as session:
        at_shop = reads.stock_view(
            session,
            shop.principal,
            reads.StockFilter(location_id=shop.shop_id, search="SKU"),
            2,
        )
    assert [level.sku_id for level in at_shop.levels] == [sku0, sku1]
    assert at_shop.total == 3
    assert at_shop.sku_names == {sku0: "Serum 0", sku1: "Serum 1"}
    assert sku2 not in at_shop.sku_names
