"""CSV import: rejected rows are reported exactly, the rest is committed."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from newretail.bootstrap import Container
from newretail.cli import app
from newretail.core.database import session_scope
from newretail.events.models import OutboxMessage
from newretail.members import schemas as member_schemas
from newretail.members import service as members_service
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


def test_orders_csv_names_the_buyer_by_member_card_or_phone(
    container: Container, org: Org, tmp_path: Path
) -> None:
    """Issue 12 scope 7 (docs/import.md): the buyer is matched through OneID's hashed
    identifiers in any format, a new member is enrolled for an unknown identifier, and a
    value that is not an identifier rejects the order's rows naming the field."""
    shop = build_shop(container, org)
    with session_scope(container.sessions, org.id) as session:
        known = members_service.create_member(
            session, shop.principal, member_schemas.MemberCreate(phone="13800138000")
        ).id
    rows = [
        "external_order_id,store,ordered_at,sku,quantity,unit_price,member_card,phone",
        "H-1,S0,2026-10-01T10:00:00+08:00,SKU0,1,10.00,,+86 138 0013 8000",
        "H-1,S0,2026-10-01T10:00:00+08:00,SKU1,2,10.00,,+86 138 0013 8000",
        "H-2,S0,2026-10-02T10:00:00+08:00,SKU0,1,10.00,CARD-0042,",
        "H-3,S0,2026-10-03T10:00:00+08:00,SKU0,1,10.00,,call me",
        "H-4,S0,2026-10-04T10:00:00+08:00,SKU0,1,10.00,CARD-0042,",
        "H-5,S0,2026-10-05T10:00:00+08:00,SKU0,1,10.00,,",
    ]
    path = tmp_path / "orders.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    code, report = invoke(container, "import", "orders", "--org", org.slug, str(path))
    assert code == 0
    assert (report["rows"], report["accepted"]) == (6, 5)
    assert report["rejected"] == [{"row": 5, "field": "phone", "reason": "not a phone number"}]
    with session_scope(container.sessions, org.id) as session:
        carded = members_service.find_member(session, shop.principal, "member_card", "CARD-0042")
        assert carded is not None and carded.id != known
        buyers = dict(session.execute(select(Order.external_order_id, Order.member_id)).all())
        assert buyers == {"H-1": known, "H-2": carded.id, "H-4": carded.id, "H-5": None}
        assert carded.join_store_id == shop.shop_id
        events = dict(
            session.execute(
                select(
                    OutboxMessage.properties["external_order_id"].as_string(),
                    OutboxMessage.member_id,
                ).where(OutboxMessage.event_type == "purchase")
            ).all()
        )
        assert events == buyers
