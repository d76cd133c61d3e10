"""CSV import of order history (the retailer's POS history).

Rows are checked one by one; accepted rows are committed in batches, rejected rows are
reported with their row number (the header is row 1), field and reason (core.csvimport).
Nothing is dropped silently. Re-importing an order file is idempotent: orders already recorded
for the same store and external order id are rejected with a reason instead of being doubled.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import cast

from sqlalchemy import Table, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from newretail.catalog import service as catalog_service
from newretail.catalog.models import Sku
from newretail.core.csvimport import (
    Advance,
    ImportReport,
    RowError,
    decimal_amount,
    read_file,
    required,
    whole_number,
)
from newretail.core.database import session_scope, utcnow
from newretail.events.models import OutboxMessage
from newretail.orders.models import FulfilmentType, Order, OrderLine, OrderStatus
from newretail.tenancy.models import Store
from newretail.tenancy.permissions import Principal

BATCH = 1000
MAX_QUANTITY = 1_000_000  # as the API's Quantity
MONEY_LIMIT = Decimal(10) ** 16  # amounts are NUMERIC(18, 2)
ORDER_TABLE = cast(Table, Order.__table__)
ORDER_LINE_TABLE = cast(Table, OrderLine.__table__)
OUTBOX_TABLE = cast(Table, OutboxMessage.__table__)
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
    sessions: sessionmaker[Session], principal: Principal, path: Path, advance: Advance
) -> ImportReport:
    """POS history, one row per line: external_order_id,store,ordered_at (ISO 8601 with zone),
    sku,quantity,unit_price,member_id (optional). Historical sales move no stock; each order
    is recorded as fulfilled and emits `purchase` through the outbox."""
    report = ImportReport()
    with session_scope(sessions, principal.organization_id) as session:
        stores = {s.code: s for s in session.scalars(select(Store))}
        session.expunge_all()
        skus = {
            code: (sku_id, brand)
            for code, sku_id, brand in session.execute(select(Sku.code, Sku.id, Sku.brand_id))
        }
    drafts: dict[tuple[str, str], _Draft] = {}
    for number, row in read_file(path, ORDER_COLUMNS):
        report.rows += 1
        advance(1)
        try:
            external = required(row, "external_order_id")
            if len(external) > 100:
                raise RowError("external_order_id", "longer than 100 characters")
            store = stores.get(required(row, "store"))
            if store is None:
                raise RowError("store", "no store with this code")
            try:
                ordered_at = datetime.fromisoformat(required(row, "ordered_at"))
            except ValueError as exc:
                raise RowError("ordered_at", "is not an ISO 8601 time") from exc
            if ordered_at.tzinfo is None:
                raise RowError("ordered_at", "must include a time zone")
            found = skus.get(required(row, "sku"))
            if found is None:
                raise RowError("sku", "no SKU with this code")
            quantity = whole_number(row, "quantity", MAX_QUANTITY)
            unit_price = catalog_service.money(decimal_amount(row, "unit_price", MONEY_LIMIT))
            member_id = None
            if row.get("member_id"):
                try:
                    member_id = uuid.UUID(row["member_id"])
                except ValueError as exc:
                    raise RowError("member_id", "is not a UUID") from exc
        except RowError as exc:
            report.rejected.append(exc.at(number))
            continue
        key = (store.code, external)
        amount = catalog_service.money(unit_price * quantity)
        total = drafts[key].total if key in drafts else Decimal("0.00")
        if total + amount >= MONEY_LIMIT:
            report.reject(number, "unit_price", f"the order total must be less than {MONEY_LIMIT}")
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
                    report.reject(number, "external_order_id", "order already imported")
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
