"""CSV import of products, stock and order history (the retailer's POS history).

Rows are checked one by one; accepted rows are committed in batches, rejected rows are
reported with their row number (the header is row 1), field and reason. Nothing is dropped
silently. Re-importing an order file is idempotent: orders already recorded for the same
store and external order id are rejected with a reason instead of being doubled.
"""

from __future__ import annotations

import csv
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, cast

from pydantic import ValidationError
from sqlalchemy import Table, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from newretail.catalog import schemas as catalog_schemas
from newretail.catalog import service as catalog_service
from newretail.catalog.models import Product, Sku
from newretail.core.database import session_scope, utcnow
from newretail.core.errors import NewRetailError
from newretail.events.models import OutboxMessage
from newretail.inventory import service as inventory_service
from newretail.orders.models import FulfilmentType, Order, OrderLine, OrderStatus
from newretail.tenancy.models import Brand, ChannelType, Store
from newretail.tenancy.permissions import Principal

Progress = Callable[[int], None]
BATCH = 1000
MAX_QUANTITY = 1_000_000  # as the API's Quantity
MONEY_LIMIT = Decimal(10) ** 16  # amounts are NUMERIC(18, 2)
ORDER_TABLE = cast(Table, Order.__table__)
ORDER_LINE_TABLE = cast(Table, OrderLine.__table__)
OUTBOX_TABLE = cast(Table, OutboxMessage.__table__)


@dataclass
class Rejected:
    row: int
    field: str
    reason: str


@dataclass
class ImportReport:
    kind: str
    rows: int = 0
    accepted: int = 0
    rejected: list[Rejected] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "rows": self.rows,
            "accepted": self.accepted,
            "rejected": [r.__dict__ for r in self.rejected],
        }


class RowError(Exception):
    def __init__(self, field_name: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field_name
        self.reason = reason


def count_rows(path: Path) -> int:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return max(sum(1 for _ in handle) - 1, 0)


def _rows(path: Path, required: list[str]) -> Iterator[tuple[int, dict[str, str]]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise NewRetailError(f"missing columns: {', '.join(missing)}", field="header")
        for number, row in enumerate(reader, start=2):
            yield number, {k: (v or "").strip() for k, v in row.items() if k}


def _need(row: dict[str, str], name: str) -> str:
    value = row.get(name, "")
    if not value:
        raise RowError(name, "is required")
    return value


def _quantity(row: dict[str, str], name: str) -> int:
    try:
        value = int(_need(row, name))
    except ValueError as exc:
        raise RowError(name, "is not a whole number") from exc
    if value < 1:
        raise RowError(name, "must be at least 1")
    if value > MAX_QUANTITY:
        raise RowError(name, f"must be at most {MAX_QUANTITY}")
    return value


def _money(row: dict[str, str], name: str) -> Decimal:
    try:
        value = Decimal(_need(row, name))
    except InvalidOperation as exc:
        raise RowError(name, "is not a decimal amount") from exc
    if not value.is_finite():
        raise RowError(name, "is not a decimal amount")
    if value < 0:
        raise RowError(name, "must be 0 or more")
    if value >= MONEY_LIMIT:
        raise RowError(name, f"must be less than {MONEY_LIMIT}")
    return catalog_service.money(value)


# ---------------------------------------------------------------- products
PRODUCT_COLUMNS = ["brand", "product_code", "product_name", "sku_code", "sku_name", "price"]


def import_products(
    sessions: sessionmaker[Session], principal: Principal, path: Path, advance: Progress
) -> ImportReport:
    """One row per SKU: brand,product_code,product_name,category,sku_code,sku_name,barcode,
    price (every channel),price_online (optional)."""
    report = ImportReport("products")
    rows = list(_rows(path, PRODUCT_COLUMNS))
    for start in range(0, len(rows), BATCH):
        with session_scope(sessions, principal.organization_id) as session:
            brands = {b.code: b.id for b in session.scalars(select(Brand))}
            products = {p.code: p.id for p in session.scalars(select(Product))}
            for number, row in rows[start : start + BATCH]:
                report.rows += 1
                try:
                    with session.begin_nested():
                        _product_row(session, principal, row, brands, products)
                    report.accepted += 1
                except RowError as exc:
                    report.rejected.append(Rejected(number, exc.field, exc.reason))
                except ValidationError as exc:
                    first = exc.errors()[0]
                    where = str(first["loc"][-1]) if first["loc"] else "row"
                    report.rejected.append(Rejected(number, where, first["msg"]))
                except NewRetailError as exc:
                    report.rejected.append(Rejected(number, exc.field or "row", exc.message))
                except IntegrityError:
                    report.rejected.append(Rejected(number, "sku_code", "duplicate"))
                advance(1)
    return report


def _product_row(
    session: Session,
    principal: Principal,
    row: dict[str, str],
    brands: dict[str, uuid.UUID],
    products: dict[str, uuid.UUID],
) -> None:
    brand = brands.get(_need(row, "brand"))
    if brand is None:
        raise RowError("brand", "no brand with this code")
    price = _money(row, "price")
    prices: dict[ChannelType, Decimal] = dict.fromkeys(catalog_schemas.SELLING_CHANNELS, price)
    if row.get("price_online"):
        prices[ChannelType.ONLINE] = _money(row, "price_online")
    code = _need(row, "product_code")
    if code not in products:
        products[code] = catalog_service.create_product(
            session,
            principal,
            catalog_schemas.ProductCreate(
                brand_id=brand,
                code=code,
                name=_need(row, "product_name"),
                category_path=row.get("category", ""),
            ),
        ).id
    catalog_service.create_sku(
        session,
        principal,
        products[code],
        catalog_schemas.SkuCreate(
            code=_need(row, "sku_code"),
            name=_need(row, "sku_name"),
            barcode=row.get("barcode") or None,
            prices=prices,
        ),
    )


# ---------------------------------------------------------------- stock
STOCK_COLUMNS = ["location", "sku", "quantity"]


def import_stock(
    sessions: sessionmaker[Session], principal: Principal, path: Path, advance: Progress
) -> ImportReport:
    """Receipts: location (store code),sku (code),quantity,low_stock_threshold (optional)."""
    report = ImportReport("stock")
    rows = list(_rows(path, STOCK_COLUMNS))
    for start in range(0, len(rows), BATCH):
        with session_scope(sessions, principal.organization_id) as session:
            stores = dict(session.execute(select(Store.code, Store.id)).all())
            skus = dict(session.execute(select(Sku.code, Sku.id)).all())
            movements = []
            for number, row in rows[start : start + BATCH]:
                report.rows += 1
                advance(1)
                try:
                    location = stores.get(_need(row, "location"))
                    if location is None:
                        raise RowError("location", "no store with this code")
                    sku = skus.get(_need(row, "sku"))
                    if sku is None:
                        raise RowError("sku", "no SKU with this code")
                    quantity = _quantity(row, "quantity")
                    threshold = None
                    if row.get("low_stock_threshold"):
                        threshold = _quantity(row, "low_stock_threshold")
                except RowError as exc:
                    report.rejected.append(Rejected(number, exc.field, exc.reason))
                    continue
                inventory_service.put_back(
                    session, principal.organization_id, sku, location, quantity
                )
                if threshold is not None:
                    from newretail.inventory import schemas as inventory_schemas

                    inventory_service.set_threshold(
                        session,
                        principal,
                        location,
                        sku,
                        inventory_schemas.ThresholdSet(low_stock_threshold=threshold),
                    )
                movements.append(
                    {
                        "organization_id": principal.organization_id,
                        "sku_id": sku,
                        "location_id": location,
                        "delta": quantity,
                        "reason": "receipt",
                        "actor": principal.actor,
                        "note": f"import {path.name} row {number}",
                    }
                )
                report.accepted += 1
            inventory_service.record_movements(session, movements)
    return report


# ---------------------------------------------------------------- orders
ORDER_COLUMNS = ["external_order_id", "store", "ordered_at", "sku", "quantity", "unit_price"]


@dataclass
class _Draft:
    store: Store
    external_order_id: str
    ordered_at: datetime
    member_id: uuid.UUID | None
    lines: list[tuple[int, uuid.UUID, uuid.UUID, int, Decimal]] = field(default_factory=list)
    total: Decimal = Decimal("0.00")


def import_orders(
    sessions: sessionmaker[Session], principal: Principal, path: Path, advance: Progress
) -> ImportReport:
    """POS history, one row per line: external_order_id,store,ordered_at (ISO 8601 with zone),
    sku,quantity,unit_price,member_id (optional). Historical sales move no stock; each order
    is recorded as fulfilled and emits `purchase` through the outbox."""
    report = ImportReport("orders")
    with session_scope(sessions, principal.organization_id) as session:
        stores = {s.code: s for s in session.scalars(select(Store))}
        session.expunge_all()
        skus = {
            code: (sku_id, brand)
            for code, sku_id, brand in session.execute(select(Sku.code, Sku.id, Sku.brand_id))
        }
    drafts: dict[tuple[str, str], _Draft] = {}
    for number, row in _rows(path, ORDER_COLUMNS):
        report.rows += 1
        advance(1)
        try:
            external = _need(row, "external_order_id")
            if len(external) > 100:
                raise RowError("external_order_id", "longer than 100 characters")
            store = stores.get(_need(row, "store"))
            if store is None:
                raise RowError("store", "no store with this code")
            try:
                ordered_at = datetime.fromisoformat(_need(row, "ordered_at"))
            except ValueError as exc:
                raise RowError("ordered_at", "is not an ISO 8601 time") from exc
            if ordered_at.tzinfo is None:
                raise RowError("ordered_at", "must include a time zone")
            found = skus.get(_need(row, "sku"))
            if found is None:
                raise RowError("sku", "no SKU with this code")
            quantity = _quantity(row, "quantity")
            unit_price = _money(row, "unit_price")
            member_id = None
            if row.get("member_id"):
                try:
                    member_id = uuid.UUID(row["member_id"])
                except ValueError as exc:
                    raise RowError("member_id", "is not a UUID") from exc
        except RowError as exc:
            report.rejected.append(Rejected(number, exc.field, exc.reason))
            continue
        key = (store.code, external)
        amount = catalog_service.money(unit_price * quantity)
        total = drafts[key].total if key in drafts else Decimal("0.00")
        if total + amount >= MONEY_LIMIT:
            report.rejected.append(
                Rejected(number, "unit_price", f"the order total must be less than {MONEY_LIMIT}")
            )
            continue
        if key not in drafts:
            if len(drafts) >= BATCH:
                _write_orders(sessions, principal, list(drafts.values()), report)
                drafts.clear()
            drafts[key] = _Draft(store, external, ordered_at, member_id)
        draft = drafts[key]
        draft.total += amount
        draft.lines.append((number, found[0], found[1], quantity, unit_price))
    if drafts:
        _write_orders(sessions, principal, list(drafts.values()), report)
    report.rejected.sort(key=lambda rejected: rejected.row)  # duplicates are found per batch
    return report


def _write_orders(
    sessions: sessionmaker[Session],
    principal: Principal,
    drafts: list[_Draft],
    report: ImportReport,
) -> None:
    org_id = principal.organization_id
    now = utcnow()
    with session_scope(sessions, org_id) as session:
        orders, lines, events = [], [], []
        ids: dict[tuple[uuid.UUID, str], uuid.UUID] = {}
        for draft in drafts:
            order_id = uuid.uuid4()
            ids[(draft.store.id, draft.external_order_id)] = order_id
            total = sum((catalog_service.money(p * q) for _, _, _, q, p in draft.lines), Decimal(0))
            orders.append(
                {
                    "id": order_id,
                    "organization_id": org_id,
                    "created_at": now,
                    "store_id": draft.store.id,
                    "channel": draft.store.channel_type,
                    "brand_id": draft.store.brand_id or draft.lines[0][2],
                    "member_id": draft.member_id,
                    "external_order_id": draft.external_order_id,
                    "status": OrderStatus.FULFILLED,
                    "fulfilment_type": FulfilmentType.CARRY_OUT,
                    "currency": "CNY",
                    "total_amount": total,
                    "refunded_amount": Decimal("0.00"),
                    "placed_at": draft.ordered_at,
                    "paid_at": draft.ordered_at,
                    "fulfilled_at": draft.ordered_at,
                    "actor": principal.actor,
                }
            )
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        # Core executemany ("insertmanyvalues"): one cached statement sent in pages, where a
        # 1,000-row VALUES clause built per batch spent most of the import compiling SQL.
        connection = session.connection()
        inserted = set(
            connection.execute(
                dialect.insert(ORDER_TABLE)
                .on_conflict_do_nothing(
                    index_elements=["organization_id", "store_id", "external_order_id"]
                )
                .returning(ORDER_TABLE.c.id),
                orders,
            ).scalars()
        )
        for draft, order in zip(drafts, orders, strict=True):
            if order["id"] not in inserted:
                for number, *_ in draft.lines:
                    report.rejected.append(
                        Rejected(number, "external_order_id", "order already imported")
                    )
                continue
            event_lines = []
            for index, (number, sku_id, brand_id, quantity, price) in enumerate(draft.lines, 1):
                line = {
                    "id": uuid.uuid4(),
                    "organization_id": org_id,
                    "created_at": now,
                    "order_id": order["id"],
                    "line_number": index,
                    "sku_id": sku_id,
                    "brand_id": brand_id,
                    "quantity": quantity,
                    "unit_price": price,
                    "amount": catalog_service.money(price * quantity),
                    "location_id": None,
                    "refunded_quantity": 0,
                }
                lines.append(line)
                event_lines.append(
                    {
                        k: str(line[k])
                        for k in ("sku_id", "brand_id", "quantity", "unit_price", "amount")
                    }
                )
                report.accepted += 1
                del number
            events.append(
                {
                    "id": uuid.uuid4(),
                    "organization_id": org_id,
                    "created_at": now,
                    "event_type": "purchase",
                    "occurred_at": order["paid_at"],
                    "brand_id": order["brand_id"],
                    "store_id": order["store_id"],
                    "channel": order["channel"],
                    "member_id": order["member_id"],
                    "amount": order["total_amount"],
                    "properties": {
                        "order_id": str(order["id"]),
                        "external_order_id": order["external_order_id"],
                        "imported": True,
                        "lines": event_lines,
                    },
                    "published_at": None,
                }
            )
        if lines:
            connection.execute(insert(ORDER_LINE_TABLE), lines)
        if events:  # bulk form of events.outbox.enqueue, same transaction as the orders
            connection.execute(insert(OUTBOX_TABLE), events)
