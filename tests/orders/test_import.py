"""CSV import: rejected rows are reported exactly, the rest is committed."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from newretail.bootstrap import Container
from newretail.cli import app
from newretail.core.database import session_scope
from newretail.orders.models import Order, OrderLine
from tests.conftest import Org
from tests.orders.factory import build_shop


def invoke(container: Container, *args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "--database-url",
            container.settings.resolved_database_url,
            "--data-dir",
            str(container.settings.data_dir),
            *args,
            "--json",
        ],
    )
    return result.exit_code, json.loads(result.stdout) if result.stdout.strip() else {}


def test_orders_csv_with_3_bad_rows(container: Container, org: Org, tmp_path: Path) -> None:
    build_shop(container, org)
    rows = ["external_order_id,store,ordered_at,sku,quantity,unit_price"]
    for i in range(40):
        rows.append(f"T-{i // 2},S0,2026-10-01T10:{i % 60:02d}:00+08:00,SKU{i % 2},1,10.00")
    rows[5] = "T-2,NOPE,2026-10-01T10:00:00+08:00,SKU0,1,10.00"  # row 6: store
    rows[11] = "T-5,S0,2026-10-01T10:00:00,SKU0,1,10.00"  # row 12: no zone
    rows[30] = "T-14,S0,2026-10-01T10:00:00+08:00,SKU0,two,10.00"  # row 31: quantity
    path = tmp_path / "orders.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    code, report = invoke(container, "import", "orders", "--org", org.slug, str(path))
    assert code == 0
    assert (report["rows"], report["accepted"]) == (40, 37)
    assert report["rejected"] == [
        {"row": 6, "field": "store", "reason": "no store with this code"},
        {"row": 12, "field": "ordered_at", "reason": "must include a time zone"},
        {"row": 31, "field": "quantity", "reason": "is not a whole number"},
    ]
    with session_scope(container.sessions, org.id) as session:
        assert session.scalar(select(func.count()).select_from(Order)) == 20
        assert session.scalar(select(func.count()).select_from(OrderLine)) == 37
    code, again = invoke(container, "import", "orders", "--org", org.slug, str(path))
    assert (code, again["accepted"], len(again["rejected"])) == (0, 0, 40)


def test_products_and_stock_csv(container: Container, org: Org, tmp_path: Path) -> None:
    products = tmp_path / "products.csv"
    products.write_text(
        "brand,product_code,product_name,category,sku_code,sku_name,barcode,price,price_online\n"
        "b1,P9,Tea,Tea/Green,P9-S,Tea small,69000001,10.00,9.00\n"
        "b1,P9,Tea,Tea/Green,P9-L,Tea large,69000002,18.00,\n"
        "zz,P8,Bad,,P8-S,Bad,,1.00,\n"
        "b1,P9,Tea,Tea/Green,P9-X,Tea dup,69000001,1.00,\n",
        encoding="utf-8",
    )
    code, report = invoke(container, "import", "products", "--org", org.slug, str(products))
    assert code == 0
    assert report["accepted"] == 2
    assert [(r["row"], r["field"]) for r in report["rejected"]] == [(4, "brand"), (5, "code")]
    stock = tmp_path / "stock.csv"
    stock.write_text(
        "location,sku,quantity,low_stock_threshold\nS0,P9-S,5,2\nS1,P9-L,3,\nS0,P9-S,-1,\n",
        encoding="utf-8",
    )
    code, report = invoke(container, "import", "stock", "--org", org.slug, str(stock))
    assert (code, report["accepted"]) == (0, 2)
    assert report["rejected"] == [{"row": 4, "field": "quantity", "reason": "must be at least 1"}]
