"""CSV import of order history (the retailer's POS history).

Rows are checked one by one; accepted rows are committed in batches, rejected rows are
reported with their row number (the header is row 1), field and reason (core.csvimport).
Nothing is dropped silently. Re-importing an order file is idempotent: orders already recorded
for the same store and external order id are rejected with a reason instead of being doubled.
An order's rows, its `purchase` event and its lines are built by the same builders as a till
sale's (`orders.rows`), so the warehouse sees one shape of a purchase (docs/collector.md).
The buyer is named by `member_id` or by a `member_card`, `phone`, `email` or `account_id`
column (docs/import.md).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

from pydantic import ValidationError
from sqlalchemy import Table, select
from sqlalchemy.orm import Session, sessionmaker

from newretail.catalog import pricing
from newretail.catalog.models import Product, Sku
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
from newretail.core.errors import NewRetailError
from newretail.core.money import money
from newretail.members import schemas as member_schemas
from newretail.members import service as members_service
from newretail.orders import rows
from newretail.orders.models import FulfilmentType, Order, OrderStatus
from newretail.orders.rows import SkuFacts
from newretail.orders.sales import brand_of, order_insert
from newretail.tenancy.models import Store
from newretail.tenancy.permissions import Principal

BATCH = 1000
MAX_QUANTITY = 1_000_000  # as the API's Quantity
MONEY_LIMIT = Decimal(10) ** 16  # amounts are NUMERIC(18, 2)
ORDER_TABLE = cast(Table, Order.__table__)
ORDER_COLUMNS = ["external_order_id", "store", "ordered_at", "sku", "quantity", "unit_price"]
# the columns that name the buyer, matched through OneID's hashed identifiers (any format of
# a phone number finds the member); a value nobody has yet enrols a new member
MEMBER_COLUMNS = ("member_card", "phone", "email", "account_id")


@dataclass
class _Draft:
    store: Store
    external_order_id: str
    ordered_at: datetime
    member_id: uuid.UUID | None
    identifiers: dict[str, str]
    first_row: int
    lines: list[tuple[int, uuid.UUID, uuid.UUID, int, Decimal]] = field(default_factory=list)
    total: Decimal = Decimal("0.00")


def _identifiers(row: dict[str, str]) -> dict[str, str]:
    return {name: row[name].strip() for name in MEMBER_COLUMNS if (row.get(name) or "").strip()}


def import_orders(
    sessions: sessionmaker[Session], principal: Principal, path: Path, advance: Advance
) -> ImportReport:
    """POS history, one row per line: external_order_id,store,ordered_at (ISO 8601 with zone),
    sku,quantity,unit_price and optionally the buyer: member_id, or member_card, phone, email
    or account_id (matched through OneID, a new member enrolled when unknown). Historical
    sales move no stock; each order is recorded as fulfilled and emits `purchase` through
    the outbox."""
    report = ImportReport()
    with session_scope(sessions, principal.organization_id) as session:
        stores = {s.code: s for s in session.scalars(select(Store))}
        session.expunge_all()
        skus = {
            code: (sku_id, brand, SkuFacts(code, product_id, pricing.category_of(path)))
            for code, sku_id, brand, product_id, path in session.execute(
                select(Sku.code, Sku.id, Sku.brand_id, Sku.product_id, Product.category_path).join(
                    Product, Product.id == Sku.product_id
                )
            )
        }
    facts = {sku_id: sku_facts for sku_id, _, sku_facts in skus.values()}
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
            unit_price = money(decimal_amount(row, "unit_price", MONEY_LIMIT))
            member_id = None
            if row.get("member_id"):
                try:
                    member_id = uuid.UUID(row["member_id"])
                except ValueError as exc:
                    raise RowError("member_id", "is not a UUID") from exc
            identifiers = _identifiers(row)
        except RowError as exc:
            report.rejected.append(exc.at(number))
            continue
        key = (store.code, external)
        amount = money(unit_price * quantity)
        total = drafts[key].total if key in drafts else Decimal("0.00")
        if total + amount >= MONEY_LIMIT:
            report.reject(number, "unit_price", f"the order total must be less than {MONEY_LIMIT}")
            continue
        if key in drafts and (identifiers or member_id):
            draft = drafts[key]
            if (identifiers and identifiers != draft.identifiers) or (
                member_id and member_id != draft.member_id
            ):
                field_name = next(iter(identifiers), "member_id")
                report.reject(number, field_name, "names another buyer than the order's first row")
                continue
        if key not in drafts:
            if len(drafts) >= BATCH:
                _write_orders(sessions, principal, list(drafts.values()), facts, report)
                drafts.clear()
            drafts[key] = _Draft(store, external, ordered_at, member_id, identifiers, number)
        draft = drafts[key]
        draft.total += amount
        draft.lines.append((number, found[0], found[1], quantity, unit_price))
    if drafts:
        _write_orders(sessions, principal, list(drafts.values()), facts, report)
    return report


def _buyer(session: Session, principal: Principal, draft: _Draft) -> uuid.UUID | None:
    """The member the order names: by id, or by identifiers through OneID (found, or enrolled
    at the order's store and time). Raises RowError naming the field at fault."""
    if not draft.identifiers:
        return draft.member_id
    try:
        data = member_schemas.MemberCreate.model_validate(
            {**draft.identifiers, "join_store_id": draft.store.id, "joined_at": draft.ordered_at}
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        location = first.get("loc", ())
        raise RowError(str(location[0]) if location else "member", first["msg"]) from exc
    try:
        with session.begin_nested():
            member, _created = members_service.get_or_create_member(session, principal, data)
            session.flush()
    except NewRetailError as exc:
        field_name = exc.field if exc.field in draft.identifiers else next(iter(draft.identifiers))
        raise RowError(field_name, exc.message) from exc
    if draft.member_id is not None and draft.member_id != member.id:
        raise RowError("member_id", "names another member than the identifiers")
    return member.id


def _write_orders(
    sessions: sessionmaker[Session],
    principal: Principal,
    drafts: list[_Draft],
    facts: dict[uuid.UUID, SkuFacts],
    report: ImportReport,
) -> None:
    org_id = principal.organization_id
    now = utcnow()
    with session_scope(sessions, org_id) as session:
        connection = session.connection()
        drafted: list[tuple[_Draft, dict[str, Any], list[dict[str, Any]]]] = []
        for draft in drafts:
            try:
                member_id = _buyer(session, principal, draft)
            except RowError as exc:
                for number, *_ in draft.lines:
                    report.reject(number, exc.field, exc.reason)
                continue
            order_id = uuid.uuid4()
            order_lines = [
                rows.line_row(
                    organization_id=org_id,
                    order_id=order_id,
                    line_number=index,
                    sku_id=sku_id,
                    brand_id=brand_id,
                    quantity=quantity,
                    unit_price=price,
                    amount=money(price * quantity),
                    location_id=None,  # history: no stock moved
                    now=now,
                )
                for index, (_, sku_id, brand_id, quantity, price) in enumerate(draft.lines, 1)
            ]
            order = rows.order_row(
                order_id=order_id,
                organization_id=org_id,
                store_id=draft.store.id,
                channel=draft.store.channel_type,
                brand_id=brand_of(draft.store.brand_id, order_lines),
                member_id=member_id,
                external_order_id=draft.external_order_id,
                status=OrderStatus.FULFILLED,
                fulfilment_type=FulfilmentType.CARRY_OUT,
                total_amount=sum((line["amount"] for line in order_lines), Decimal("0.00")),
                placed_at=draft.ordered_at,
                paid_at=draft.ordered_at,
                fulfilled_at=draft.ordered_at,
                actor=principal.actor,
                now=now,
            )
            drafted.append((draft, order, order_lines))
        if not drafted:
            return
        # Core executemany ("insertmanyvalues"): one cached statement sent in pages, where a
        # 1,000-row VALUES clause built per batch spent most of the import compiling SQL.
        inserted = set(
            connection.execute(
                order_insert(connection), [order for _, order, _ in drafted]
            ).scalars()
        )
        lines: list[dict[str, Any]] = []
        events = []
        for draft, order, order_lines in drafted:
            if order["id"] not in inserted:
                for number, *_ in draft.lines:
                    report.reject(number, "external_order_id", "order already imported")
                continue
            lines.extend(order_lines)
            events.append(
                rows.outbox_row(
                    order,
                    "purchase",
                    draft.ordered_at,
                    order["total_amount"],
                    rows.event_lines(order_lines, facts),
                    now,
                )
            )
            report.accepted += len(draft.lines)
        if lines:
            connection.execute(rows.INSERT_LINES, lines)
        rows.insert_outbox(session, events)  # same transaction as the orders
