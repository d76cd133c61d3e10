"""An order history of 1,200 orders (two import batches) with exactly 3 bad rows: the report
names exactly those rows, every other order is recorded once, a second import doubles nothing.

The 100,000-order run is `scripts/make_orders_csv.py` (docs/commerce.md); this test writes its
file with the same generator, at a size the suite can afford.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import sys
from decimal import Decimal
from pathlib import Path
from types import ModuleType

from sqlalchemy import func, select
from typer.testing import CliRunner

from newretail.bootstrap import Container
from newretail.cli import app
from newretail.core.database import session_scope
from newretail.events.models import OutboxMessage
from newretail.orders.importing import BATCH
from newretail.orders.models import Order, OrderLine
from tests.conftest import Org
from tests.orders.factory import build_shop

ORDERS = 1_200


def generator() -> ModuleType:
    path = Path(__file__).parents[2] / "scripts" / "make_orders_csv.py"
    spec = importlib.util.spec_from_file_location("make_orders_csv", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def import_orders(container: Container, org: Org, path: Path) -> dict:  # type: ignore[type-arg]
    result = CliRunner().invoke(
        app,
        [
            "--database-url",
            container.settings.resolved_database_url,
            "--data-dir",
            str(container.settings.data_dir),
            "import",
            "orders",
            "--org",
            org.slug,
            str(path),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    report: dict = json.loads(result.stdout)  # type: ignore[type-arg]
    return report


def test_import_reports_exactly_the_3_bad_rows_and_commits_the_rest(
    container: Container, org: Org, tmp_path: Path
) -> None:
    assert ORDERS > BATCH  # the file spans more than one batch
    shop = build_shop(container, org, skus=2)
    path = tmp_path / "orders.csv"
    bad = generator().write_orders(path, ORDERS, 3, shop.sku_codes, stores=["S0", "S1"])
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    bad_rows = {b.row for b in bad}
    good = [row for number, row in enumerate(rows, start=2) if number not in bad_rows]
    assert [b.row for b in bad] == sorted(bad_rows) and len(bad_rows) == 3

    report = import_orders(container, org, path)

    assert report["rejected"] == [
        {"row": bad[0].row, "field": "store", "reason": "no store with this code"},
        {"row": bad[1].row, "field": "ordered_at", "reason": "must include a time zone"},
        {"row": bad[2].row, "field": "quantity", "reason": "is not a whole number"},
    ]
    assert (report["rows"], report["accepted"]) == (len(rows), len(rows) - 3)
    expected_total = sum(
        (Decimal(row["unit_price"]) * int(row["quantity"]) for row in good), Decimal("0.00")
    )
    with session_scope(container.sessions, org.id) as session:
        assert session.scalar(select(func.count()).select_from(Order)) == ORDERS - 3
        assert session.scalar(select(func.count()).select_from(OrderLine)) == len(rows) - 3
        assert session.scalar(select(func.sum(Order.total_amount))) == expected_total
        assert session.scalar(
            select(func.count()).where(OutboxMessage.event_type == "purchase")
        ) == (ORDERS - 3)
        assert set(session.scalars(select(Order.external_order_id))) == {
            row["external_order_id"] for row in good
        }

    again = import_orders(container, org, path)
    first_reasons = {b.row: (b.field, b.reason) for b in bad}
    assert again["accepted"] == 0
    assert again["rejected"] == [
        {
            "row": number,
            "field": first_reasons.get(number, ("external_order_id",))[0],
            "reason": first_reasons.get(number, ("", "order already imported"))[1],
        }
        for number in range(2, len(rows) + 2)
    ]
    with session_scope(container.sessions, org.id) as session:
        assert session.scalar(select(func.count()).select_from(Order)) == ORDERS - 3


def test_out_of_range_values_are_rejected_rows_not_a_failed_import(
    container: Container, org: Org, tmp_path: Path
) -> None:
    build_shop(container, org, skus=1)
    path = tmp_path / "orders.csv"
    path.write_text(
        "external_order_id,store,ordered_at,sku,quantity,unit_price\n"
        "X-1,S0,2026-10-01T10:00:00+08:00,SKU0,99999999999,10.00\n"
        "X-2,S0,2026-10-01T10:00:00+08:00,SKU0,1,1e30\n"
        "X-3,S0,2026-10-01T10:00:00+08:00,SKU0,1,10.00\n"
        "X-4,S0,2026-10-01T10:00:00+08:00,SKU0,1,NaN\n"
        "X-5,S0,2026-10-01T10:00:00+08:00,SKU0,600000,99999999999.00\n"
        "X-6,S0,2026-10-01T10:00:00+08:00,SKU0,1,10.00\n",
        encoding="utf-8",
    )
    report = import_orders(container, org, path)
    assert (report["rows"], report["accepted"]) == (6, 2)
    assert [(r["row"], r["field"]) for r in report["rejected"]] == [
        (2, "quantity"),
        (3, "unit_price"),
        (5, "unit_price"),
        (6, "unit_price"),
    ]
    with session_scope(container.sessions, org.id) as session:
        assert sorted(session.scalars(select(Order.external_order_id))) == ["X-3", "X-6"]
