"""Order ledger use cases: POS sales, online and cloud-shelf checkout, payment, fulfilment,
cancellation and refunds. Every fact goes to the outbox in the same transaction.

Stock moves through guarded atomic updates, visiting SKUs in id order.
A POS sale is idempotent by (organisation, store, external_order_id): the order row is inserted
first with ON CONFLICT DO NOTHING, so a resend (also a concurrent one, which waits for the first
transaction's outcome) returns the recorded order and moves no stock.

The POS sale is the hot path (a till fleet sends many per second), so it stays off the ORM's
unit of work and scopes every statement by organisation explicitly. On PostgreSQL it is one
statement (`orders.pos_postgres`); on SQLite, whose writers are serialised anyway, a few
cached Core statements: one read of the store with the SKUs' prices, the order insert, a
guarded stock update per SKU, then one insert each for the lines, the stock ledger and the
outbox.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Connection,
    Select,
    Table,
    and_,
    bindparam,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, class_mapper
from sqlalchemy.orm.attributes import set_committed_value

from newretail.catalog import service as catalog_service
from newretail.catalog.models import Product, Sku, SkuPrice, SkuStoreAvailability, SkuStorePrice
from newretail.catalog.service import money
from newretail.core.database import utcnow
from newretail.core.errors import Conflict, InvalidInput, NewRetailError, NotFound
from newretail.core.pagination import paginate
from newretail.events import outbox
from newretail.events.models import OutboxMessage
from newretail.inventory import service as inventory_service
from newretail.inventory.exceptions import OutOfStock
from newretail.inventory.models import StockMovement
from newretail.members import points as member_points
from newretail.members import schemas as member_schemas
from newretail.members import service as members_service
from newretail.members import tiers as member_tiers
from newretail.members.models import Member
from newretail.orders import pos_postgres, schemas
from newretail.orders.models import (
    FulfilmentType,
    Order,
    OrderLine,
    OrderStatus,
    Refund,
    RefundLine,
)
from newretail.orders.pos_postgres import POS_CHANNELS
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.models import ChannelType, Store
from newretail.tenancy.permissions import Permission, Principal

NO_SYNC = {"synchronize_session": False}
CHECKOUT_CHANNELS = frozenset({ChannelType.ONLINE, ChannelType.CLOUD_SHELF})
ZERO = Decimal("0.00")

ORDER_TABLE: Table = Order.__table__  # type: ignore[assignment]
ORDER_LINE_TABLE: Table = OrderLine.__table__  # type: ignore[assignment]
MOVEMENT_TABLE: Table = StockMovement.__table__  # type: ignore[assignment]
OUTBOX_TABLE: Table = OutboxMessage.__table__  # type: ignore[assignment]
INSERT_LINES = insert(ORDER_LINE_TABLE)
INSERT_MOVEMENTS = insert(MOVEMENT_TABLE)
INSERT_OUTBOX = insert(OUTBOX_TABLE)
SET_MEMBER = (
    update(ORDER_TABLE)
    .where(ORDER_TABLE.c.id == bindparam("order_id"))
    .values(member_id=bindparam("member_id"))
)
SET_EVENT_MEMBER = (
    update(OUTBOX_TABLE)
    .where(OUTBOX_TABLE.c.id.in_(bindparam("ids", expanding=True)))
    .values(member_id=bindparam("member_id"))
)


class InvalidTransition(Conflict):
    code = "invalid_transition"


@dataclass
class SaleResult:
    """The order and whether it was recorded before (an idempotent resend)."""

    order: Order
    replayed: bool = False
    events: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- member points and tiers
def _category(category_path: str | None) -> str | None:
    """The top of the product's category tree, as earn rules name it ("Skincare/Serums" ->
    "skincare")."""
    if not category_path:
        return None
    return category_path.split("/", 1)[0].strip().lower() or None


def member_points_hook(
    session: Session,
    order: Order,
    *,
    action: str,
    refund_id: uuid.UUID | None = None,
    lines: Sequence[dict[str, Any]] = (),
    occurred_at: datetime | None = None,
) -> None:
    """Award points and add spend when an order with a member is paid ("award"); reverse the
    refunded lines' points and subtract the refund from the spend ("reverse").

    `lines` are event lines (`order_line_id`, `amount`, `product_id`, `category`); for a
    reversal their `amount` is the refunded amount. Both steps are idempotent per order and
    per refund, so a replayed call changes nothing.
    """
    if order.member_id is None:
        return
    if action == "award":
        paid_at = order.paid_at or occurred_at or utcnow()
        member_points.award_order_points(
            session,
            order.organization_id,
            order.member_id,
            order_id=order.id,
            brand_id=order.brand_id,
            paid_at=paid_at,
            lines=[
                member_schemas.OrderLine(
                    line_id=str(line["order_line_id"]),
                    product_id=line.get("product_id"),
                    category=line.get("category"),
                    amount=Decimal(str(line["amount"])),
                )
                for line in lines
            ],
        )
        member_tiers.record_spend(
            session,
            order.organization_id,
            order.member_id,
            amount=order.total_amount,
            occurred_at=paid_at,
            order_id=order.id,
        )
    elif action == "reverse":
        if refund_id is None:
            raise ValueError("a reversal needs the refund id")
        when = occurred_at or utcnow()
        refunded = [
            member_schemas.RefundedLine(
                line_id=str(line["order_line_id"]), amount=Decimal(str(line["amount"]))
            )
            for line in lines
        ]
        member_points.reverse_order_points(
            session,
            order.organization_id,
            order.member_id,
            order_id=order.id,
            refund_id=refund_id,
            refunded_lines=refunded,
            occurred_at=when,
        )
        member_tiers.record_spend(
            session,
            order.organization_id,
            order.member_id,
            amount=sum((line.amount for line in refunded), ZERO),
            occurred_at=when,
            refund_id=refund_id,
        )
    else:
        raise ValueError(f"unknown points action {action!r}")


def _find_member(
    session: Session, principal: Principal, data: schemas.PosSaleCreate
) -> uuid.UUID | None:
    """The member the sale names by id or identifier (None: nobody, or not enrolled yet)."""
    if data.member is None:
        return data.member_id
    found = members_service.find_member(session, principal, data.member.type, data.member.value)
    if found is not None and data.member_id is not None and found.id != data.member_id:
        raise InvalidInput("member and member_id name different members", field="member")
    return found.id if found is not None else data.member_id


def _enrol_member(
    session: Session,
    principal: Principal,
    data: schemas.PosSaleCreate,
    store_id: uuid.UUID,
    sold_at: datetime,
) -> uuid.UUID:
    """Find or enrol the member of an identifier the till gave (after the sale won its insert,
    so resends never race to enrol the same person)."""
    assert data.member is not None
    member, _created = members_service.get_or_create_member(
        session,
        principal,
        member_schemas.MemberCreate.model_validate(
            {data.member.type: data.member.value, "join_store_id": store_id, "joined_at": sold_at}
        ),
    )
    session.flush()
    return member.id


# ---------------------------------------------------------------- helpers
def _store(session: Session, principal: Principal, store_id: uuid.UUID, allowed: Any) -> Store:
    principal.require_store(store_id)
    store = session.get(Store, store_id)
    if store is None:
        raise NotFound("store not found", field="store_id")
    _check_store(store.channel_type, store.status, allowed)
    return store


def _check_store(channel_type: str, status: str, allowed: Any) -> None:
    if channel_type not in allowed:
        names = ", ".join(sorted(allowed))
        raise InvalidInput(f"this sale needs a store of type {names}", field="store_id")
    if status != "active":
        raise InvalidInput("the store is closed", field="store_id")


def _order_insert(connection: Connection) -> Any:
    """INSERT … ON CONFLICT (org, store, external id) DO NOTHING RETURNING id, built once per
    dialect; the values come as bound parameters, so the compiled form is cached."""
    name = connection.dialect.name
    statement = _ORDER_INSERTS.get(name)
    if statement is None:
        dialect = postgresql if name == "postgresql" else sqlite
        statement = (
            dialect.insert(ORDER_TABLE)
            .on_conflict_do_nothing(
                index_elements=["organization_id", "store_id", "external_order_id"]
            )
            .returning(ORDER_TABLE.c.id)
        )
        _ORDER_INSERTS[name] = statement
    return statement


_ORDER_INSERTS: dict[str, Any] = {}


def _insert_order(session: Session, values: dict[str, Any]) -> bool:
    """Insert the order row; False when (org, store, external id) was already recorded."""
    connection = session.connection()
    if values.get("external_order_id") is None:
        connection.execute(insert(ORDER_TABLE), values)
        return True
    return connection.execute(_order_insert(connection), values).first() is not None


def _existing(session: Session, store_id: uuid.UUID, external_order_id: str) -> Order:
    order = session.scalar(
        select(Order)
        .where(Order.store_id == store_id, Order.external_order_id == external_order_id)
        .execution_options(populate_existing=True)
    )
    if order is None:  # the first sender rolled back between our insert and this read
        raise Conflict("the same order is being recorded; retry", field="external_order_id")
    return order


_ORDER_CLASS = class_mapper(Order).class_manager
_LINE_CLASS = class_mapper(OrderLine).class_manager


def _transient(values: dict[str, Any], lines: list[dict[str, Any]]) -> Order:
    """The order just inserted, as an object (no second read).

    Its attributes are set as loaded state, as the ORM does when it reads a row, skipping the
    constructor's per-attribute change events (about 50 µs of the POS hot path).
    """
    order = _ORDER_CLASS.new_instance()
    order.__dict__.update(values)
    line_objects = []
    for line in lines:
        line_object = _LINE_CLASS.new_instance()
        line_object.__dict__.update(line)
        line_objects.append(line_object)
    set_committed_value(order, "lines", line_objects)
    return order


def _brand_of(brand_id: uuid.UUID | None, lines: list[dict[str, Any]]) -> uuid.UUID | None:
    if brand_id is not None:
        return brand_id
    brands = {line["brand_id"] for line in lines}
    return brands.pop() if len(brands) == 1 else None


@dataclass(frozen=True)
class SkuFacts:
    """What events and points need to know of a sold SKU."""

    code: str
    product_id: uuid.UUID | None = None
    category: str | None = None


def _event_lines(lines: Sequence[Any], facts: dict[uuid.UUID, SkuFacts]) -> list[dict[str, Any]]:
    result = []
    for line in lines:
        get: Any = line.get if isinstance(line, dict) else lambda k, _l=line: getattr(_l, k)
        sku = facts.get(get("sku_id"))
        location_id = get("location_id")
        result.append(
            {
                "order_line_id": str(get("id")),
                "sku_id": str(get("sku_id")),
                "sku_code": sku.code if sku else None,
                "product_id": str(sku.product_id) if sku and sku.product_id else None,
                "category": sku.category if sku else None,
                "brand_id": str(get("brand_id")),
                "quantity": get("quantity"),
                "unit_price": str(get("unit_price")),
                "amount": str(get("amount")),
                "location_id": None if location_id is None else str(location_id),
            }
        )
    return result


def _outbox_row(
    order_values: dict[str, Any],
    event_type: str,
    occurred_at: datetime,
    amount: Decimal,
    lines: list[dict[str, Any]],
    now: datetime,
) -> dict[str, Any]:
    """An outbox row as `outbox.enqueue` writes it, for a bulk insert on the hot path."""
    return {
        "id": uuid.uuid4(),
        "created_at": now,
        "organization_id": order_values["organization_id"],
        "event_type": event_type,
        "occurred_at": occurred_at,
        "brand_id": order_values["brand_id"],
        "store_id": order_values["store_id"],
        "channel": order_values["channel"],
        "member_id": order_values["member_id"],
        "amount": amount,
        "published_at": None,
        "properties": {
            "order_id": str(order_values["id"]),
            "external_order_id": order_values["external_order_id"],
            "fulfilment_type": order_values["fulfilment_type"],
            "currency": order_values["currency"],
            "lines": lines,
        },
    }


def _enqueue(
    session: Session,
    order: Order,
    event_type: str,
    occurred_at: datetime,
    amount: Decimal,
    lines: list[dict[str, Any]],
    **extra: Any,
) -> None:
    outbox.enqueue(
        session,
        order.organization_id,
        event_type,
        occurred_at=occurred_at,
        brand_id=order.brand_id,
        store_id=order.store_id,
        channel=order.channel,
        member_id=order.member_id,
        amount=amount,
        properties={
            "order_id": str(order.id),
            "external_order_id": order.external_order_id,
            "fulfilment_type": order.fulfilment_type,
            "currency": order.currency,
            "lines": lines,
            **extra,
        },
    )


def _price_lines(
    prices: dict[uuid.UUID, catalog_service.SalePrice],
    store_code: str,
    channel_type: str,
    organization_id: uuid.UUID,
    order_id: uuid.UUID,
    requested: Sequence[Any],
) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    for number, line in enumerate(requested, start=1):
        where = f"lines[{number - 1}].sku_id"
        price = prices.get(line.sku_id)
        if price is None:
            raise InvalidInput("unknown SKU in this organisation", field=where)
        if not price.available:
            raise InvalidInput(f"SKU {price.code} is not sold at {store_code}", field=where)
        unit_price = getattr(line, "unit_price", None)
        if unit_price is None:
            unit_price = price.amount
        if unit_price is None:
            raise InvalidInput(f"SKU {price.code} has no {channel_type} price", field=where)
        unit_price = money(unit_price)
        lines.append(
            {
                "id": uuid.uuid4(),
                "organization_id": organization_id,
                "order_id": order_id,
                "line_number": number,
                "sku_id": line.sku_id,
                "brand_id": price.brand_id,
                "quantity": line.quantity,
                "unit_price": unit_price,
                "amount": money(unit_price * line.quantity),
                "location_id": None,
                "refunded_quantity": 0,
            }
        )
    return lines


def _priced_lines(
    session: Session,
    store: Store,
    organization_id: uuid.UUID,
    order_id: uuid.UUID,
    requested: Sequence[Any],
) -> tuple[list[dict[str, Any]], dict[uuid.UUID, SkuFacts]]:
    prices = catalog_service.sale_prices(
        session,
        {line.sku_id for line in requested},
        store.id,
        store.channel_type,
        organization_id=organization_id,
    )
    lines = _price_lines(
        prices, store.code, store.channel_type, organization_id, order_id, requested
    )
    return lines, _sku_facts(session, set(prices))


def _sku_facts(session: Session, sku_ids: set[uuid.UUID]) -> dict[uuid.UUID, SkuFacts]:
    rows = session.execute(
        select(Sku.id, Sku.code, Sku.product_id, Product.category_path)
        .join(Product, Product.id == Sku.product_id)
        .where(Sku.id.in_(sku_ids))
    )
    return {
        sku_id: SkuFacts(code, product_id, _category(path))
        for sku_id, code, product_id, path in rows
    }


# ---------------------------------------------------------------- POS, vending, pop-up
def _sale_context_statement() -> Select[Any]:
    """The store and, for each asked SKU, its price and availability there (one query).

    The same rule as `catalog.service.sale_prices`: a store price wins over the channel
    price; a store's availability override wins over the SKU's channels. One row per SKU
    found, or one row with NULL SKU columns when none is; no row when the store is not in
    the organisation.
    """
    store, sku, product = Store.__table__, Sku.__table__, Product.__table__
    channel_price = SkuPrice.__table__.alias("channel_price")
    store_price = SkuStorePrice.__table__.alias("store_price")
    override = SkuStoreAvailability.__table__.alias("availability")
    return (
        select(
            store.c.code.label("store_code"),
            store.c.channel_type,
            store.c.status.label("store_status"),
            store.c.brand_id.label("store_brand_id"),
            sku.c.id.label("sku_id"),
            sku.c.code.label("sku_code"),
            sku.c.brand_id,
            sku.c.product_id,
            sku.c.channels,
            sku.c.status,
            product.c.category_path,
            channel_price.c.amount.label("channel_amount"),
            store_price.c.amount.label("store_amount"),
            override.c.available,
        )
        .select_from(store)
        .outerjoin(
            sku,
            and_(
                sku.c.organization_id == store.c.organization_id,
                sku.c.id.in_(bindparam("sku_ids", expanding=True)),
            ),
        )
        .outerjoin(product, product.c.id == sku.c.product_id)
        .outerjoin(
            channel_price,
            and_(
                channel_price.c.sku_id == sku.c.id,
                channel_price.c.channel_type == store.c.channel_type,
            ),
        )
        .outerjoin(
            store_price,
            and_(store_price.c.sku_id == sku.c.id, store_price.c.store_id == store.c.id),
        )
        .outerjoin(override, and_(override.c.sku_id == sku.c.id, override.c.store_id == store.c.id))
        .where(
            store.c.id == bindparam("store_id"),
            store.c.organization_id == bindparam("organization_id"),
        )
    )


SALE_CONTEXT = _sale_context_statement()


@dataclass(frozen=True)
class _SaleContext:
    store_code: str
    channel_type: str
    brand_id: uuid.UUID | None
    prices: dict[uuid.UUID, catalog_service.SalePrice]
    facts: dict[uuid.UUID, SkuFacts]


def _sale_context(
    connection: Connection,
    organization_id: uuid.UUID,
    store_id: uuid.UUID,
    sku_ids: list[uuid.UUID],
) -> _SaleContext:
    rows = connection.execute(
        SALE_CONTEXT,
        {"store_id": store_id, "organization_id": organization_id, "sku_ids": sku_ids},
    ).all()
    if not rows:
        raise NotFound("store not found", field="store_id")
    first = rows[0]
    _check_store(first.channel_type, first.store_status, POS_CHANNELS)
    prices: dict[uuid.UUID, catalog_service.SalePrice] = {}
    facts: dict[uuid.UUID, SkuFacts] = {}
    for row in rows:
        if row.sku_id is None:
            continue
        available = row.available
        if available is None:
            available = not row.channels or first.channel_type in row.channels
        by_store = row.store_amount
        prices[row.sku_id] = catalog_service.SalePrice(
            sku_id=row.sku_id,
            code=row.sku_code,
            brand_id=row.brand_id,
            amount=by_store if by_store is not None else row.channel_amount,
            source="store" if by_store is not None else "channel",
            available=bool(available) and row.status == "active",
        )
        facts[row.sku_id] = SkuFacts(row.sku_code, row.product_id, _category(row.category_path))
    return _SaleContext(first.store_code, first.channel_type, first.store_brand_id, prices, facts)


def pos_sale(session: Session, principal: Principal, data: schemas.PosSaleCreate) -> SaleResult:
    """Record an immediate sale at a shop, counter, pop-up or vending machine (idempotent)."""
    principal.require(Permission.SELL)
    principal.require_store(data.store_id)
    now = utcnow()
    sold_at = data.sold_at or now
    if sold_at.tzinfo is None:
        raise InvalidInput("must include a time zone", field="sold_at")
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        return _pos_sale_postgres(session, connection, principal, data, now, sold_at)
    return _pos_sale_generic(session, connection, principal, data, now, sold_at)


def _pos_order_values(
    principal: Principal,
    data: schemas.PosSaleCreate,
    order_id: uuid.UUID,
    member_id: uuid.UUID | None,
    now: datetime,
    sold_at: datetime,
) -> dict[str, Any]:
    """The order row of a POS sale, less what depends on the catalogue (channel, brand,
    total)."""
    return {
        "id": order_id,
        "organization_id": principal.organization_id,
        "created_at": now,
        "store_id": data.store_id,
        "member_id": member_id,
        "external_order_id": data.external_order_id,
        "status": OrderStatus.FULFILLED.value,
        "fulfilment_type": FulfilmentType.CARRY_OUT.value,
        "pickup_store_id": None,
        "ship_latitude": None,
        "ship_longitude": None,
        "currency": "CNY",
        "refunded_amount": ZERO,
        "placed_at": sold_at,
        "paid_at": sold_at,
        "fulfilled_at": sold_at,
        "cancelled_at": None,
        "actor": principal.actor,
        "updated_at": None,
    }


def _pos_sale_postgres(
    session: Session,
    connection: Connection,
    principal: Principal,
    data: schemas.PosSaleCreate,
    now: datetime,
    sold_at: datetime,
) -> SaleResult:
    """The sale as one statement (see `orders.pos_postgres`), then only what is rare: the
    retry of rows short of units, enrolling a new member, awarding points."""
    member_id = _find_member(session, principal, data)
    new_id = pos_postgres.time_ordered_uuid
    order_id = new_id()
    values = _pos_order_values(principal, data, order_id, member_id, now, sold_at)
    requested = [
        {
            "id": str(new_id()),
            "line_number": number,
            "sku_id": str(line.sku_id),
            "quantity": line.quantity,
            "unit_price": None if line.unit_price is None else str(money(line.unit_price)),
            "movement_id": str(new_id()),  # used when this is the SKU's first line
        }
        for number, line in enumerate(data.lines, start=1)
    ]
    event_ids = [new_id(), new_id()]
    parameters = {name: values[name] for name in pos_postgres.ORDER_PARAMETERS}
    parameters["lines"] = json.dumps(requested)
    parameters["placed_event_id"], parameters["purchase_event_id"] = event_ids
    inserted, store, checks, event_lines, brand_id, total, short = pos_postgres.sell(
        connection.connection, parameters
    )
    if store is None:
        raise NotFound("store not found", field="store_id")
    _check_store(store["channel_type"], store["status"], POS_CHANNELS)
    for index, check in enumerate(checks):
        where = f"lines[{index}].sku_id"
        if not check["known"]:
            raise InvalidInput("unknown SKU in this organisation", field=where)
        if not check["available"]:
            raise InvalidInput(
                f"SKU {check['sku_code']} is not sold at {store['code']}", field=where
            )
        if not check["priced"]:
            raise InvalidInput(
                f"SKU {check['sku_code']} has no {store['channel_type']} price", field=where
            )
    if not inserted:
        return SaleResult(_existing(session, data.store_id, data.external_order_id), replayed=True)
    # rows short of units: the one-row primitive, which sweeps expired reservations of the
    # row before it gives up
    for sku_id, quantity in short or ():
        if not inventory_service.take(session, uuid.UUID(sku_id), data.store_id, quantity):
            code = next(line["sku_code"] for line in event_lines if line["sku_id"] == sku_id)
            raise OutOfStock(code, quantity, store["code"])
    if member_id is None and data.member is not None:
        member_id = _enrol_member(session, principal, data, data.store_id, sold_at)
        connection.execute(SET_MEMBER, {"order_id": order_id, "member_id": member_id})
        connection.execute(SET_EVENT_MEMBER, {"ids": event_ids, "member_id": member_id})
    values.update(
        channel=store["channel_type"],
        brand_id=None if brand_id is None else uuid.UUID(brand_id),
        total_amount=Decimal(total),
        member_id=member_id,
    )
    lines = [
        {
            "id": uuid.UUID(line["order_line_id"]),
            "organization_id": values["organization_id"],
            "created_at": now,
            "order_id": order_id,
            "line_number": number,
            "sku_id": uuid.UUID(line["sku_id"]),
            "brand_id": uuid.UUID(line["brand_id"]),
            "quantity": line["quantity"],
            "unit_price": Decimal(line["unit_price"]),
            "amount": Decimal(line["amount"]),
            "location_id": data.store_id,
            "refunded_quantity": 0,
        }
        for number, line in enumerate(event_lines, start=1)
    ]
    order = _transient(values, lines)
    if member_id is not None:
        member_points_hook(session, order, action="award", lines=event_lines)
    return SaleResult(order, events=["order_placed", "purchase"])


def _pos_sale_generic(
    session: Session,
    connection: Connection,
    principal: Principal,
    data: schemas.PosSaleCreate,
    now: datetime,
    sold_at: datetime,
) -> SaleResult:
    """The sale in a few statements (SQLite, whose writers are serialised anyway)."""
    organization_id = principal.organization_id
    context = _sale_context(
        connection, organization_id, data.store_id, list({line.sku_id for line in data.lines})
    )
    member_id = _find_member(session, principal, data)
    order_id = uuid.uuid4()
    lines = _price_lines(
        context.prices,
        context.store_code,
        context.channel_type,
        organization_id,
        order_id,
        data.lines,
    )
    total_amount = sum((line["amount"] for line in lines), ZERO)
    values = _pos_order_values(principal, data, order_id, member_id, now, sold_at)
    values.update(
        channel=context.channel_type,
        brand_id=_brand_of(context.brand_id, lines),
        total_amount=total_amount,
    )
    totals: dict[uuid.UUID, int] = {}
    for line in lines:
        line["location_id"] = data.store_id
        totals[line["sku_id"]] = totals.get(line["sku_id"], 0) + line["quantity"]
    ordered = sorted(totals.items())
    if connection.execute(_order_insert(connection), values).first() is None:
        return SaleResult(_existing(session, data.store_id, data.external_order_id), replayed=True)
    for sku_id, quantity in ordered:
        if not inventory_service.take(session, sku_id, data.store_id, quantity):
            raise OutOfStock(context.facts[sku_id].code, quantity, context.store_code)
    if member_id is None and data.member is not None:
        member_id = values["member_id"] = _enrol_member(
            session, principal, data, data.store_id, sold_at
        )
        connection.execute(SET_MEMBER, {"order_id": order_id, "member_id": member_id})
    event_lines = _event_lines(lines, context.facts)
    connection.execute(INSERT_LINES, lines)
    connection.execute(
        INSERT_MOVEMENTS,
        [
            {
                "id": uuid.uuid4(),
                "created_at": now,
                "organization_id": organization_id,
                "sku_id": sku_id,
                "location_id": data.store_id,
                "delta": -quantity,
                "reason": "sale",
                "actor": principal.actor,
                "note": None,
                "reference": f"order:{order_id}",
            }
            for sku_id, quantity in ordered
        ],
    )
    connection.execute(
        INSERT_OUTBOX,
        [
            _outbox_row(values, event_type, sold_at, total_amount, event_lines, now)
            for event_type in ("order_placed", "purchase")
        ],
    )
    order = _transient(values, lines)
    if member_id is not None:
        member_points_hook(session, order, action="award", lines=event_lines)
    return SaleResult(order, events=["order_placed", "purchase"])


# ---------------------------------------------------------------- online and cloud shelf
def checkout(session: Session, principal: Principal, data: schemas.CheckoutCreate) -> SaleResult:
    """Place an online or cloud-shelf order: consume the cart's reservations or allocate stock
    at the location the fulfilment strategy picks."""
    principal.require(Permission.SELL)
    store = _store(session, principal, data.store_id, CHECKOUT_CHANNELS)
    if data.fulfilment_type == FulfilmentType.CARRY_OUT:
        raise InvalidInput("online orders are shipped or picked up", field="fulfilment_type")
    pickup_store_id = data.pickup_store_id
    if data.fulfilment_type == FulfilmentType.PICKUP_IN_STORE:
        if pickup_store_id is None:
            raise InvalidInput("pick-up needs a pickup_store_id", field="pickup_store_id")
        if session.get(Store, pickup_store_id) is None:
            raise InvalidInput("no such store in this organisation", field="pickup_store_id")
    now = utcnow()
    order_id = uuid.uuid4()
    lines, codes = _priced_lines(session, store, principal.organization_id, order_id, data.lines)
    values: dict[str, Any] = {
        "id": order_id,
        "organization_id": principal.organization_id,
        "created_at": now,
        "store_id": store.id,
        "channel": store.channel_type,
        "brand_id": _brand_of(store.brand_id, lines),
        "member_id": data.member_id,
        "external_order_id": data.external_order_id,
        "status": OrderStatus.PAID if data.paid else OrderStatus.PLACED,
        "fulfilment_type": data.fulfilment_type,
        "pickup_store_id": pickup_store_id,
        "ship_latitude": data.latitude,
        "ship_longitude": data.longitude,
        "currency": "CNY",
        "total_amount": sum((line["amount"] for line in lines), Decimal("0.00")),
        "refunded_amount": Decimal("0.00"),
        "placed_at": now,
        "paid_at": now if data.paid else None,
        "fulfilled_at": None,
        "cancelled_at": None,
        "actor": principal.actor,
        "updated_at": None,
    }
    if not _insert_order(session, values):
        assert data.external_order_id is not None
        return SaleResult(_existing(session, store.id, data.external_order_id), replayed=True)
    origin = inventory_service._origin(data.latitude, data.longitude, store)
    for line, requested in sorted(
        zip(lines, data.lines, strict=True), key=lambda pair: pair[0]["sku_id"]
    ):
        location_id = None
        if requested.reservation_id is not None:
            location_id = inventory_service.consume_reservation(
                session, requested.reservation_id, requested.sku_id, requested.quantity
            )
        if location_id is None:
            for candidate in inventory_service.candidate_locations(
                session,
                requested.sku_id,
                requested.quantity,
                data.fulfilment_type,
                origin,
                pickup_store_id,
            ):
                if inventory_service.allocate(
                    session, requested.sku_id, candidate, requested.quantity
                ):
                    location_id = candidate
                    break
        if location_id is None:
            raise OutOfStock(codes[requested.sku_id].code, requested.quantity)
        line["location_id"] = location_id
    session.execute(insert(OrderLine), lines)
    order = _transient(values, lines)
    event_lines = _event_lines(lines, codes)
    _enqueue(session, order, "order_placed", now, order.total_amount, event_lines)
    events = ["order_placed"]
    if data.paid:
        _enqueue(session, order, "purchase", now, order.total_amount, event_lines)
        member_points_hook(session, order, action="award", lines=event_lines)
        events.append("purchase")
    return SaleResult(order, events=events)


# ---------------------------------------------------------------- reads
@dataclass(frozen=True)
class OrderFilter:
    channel: str | None = None
    store_id: uuid.UUID | None = None
    status: str | None = None
    member_id: uuid.UUID | None = None
    placed_from: datetime | None = None
    placed_to: datetime | None = None


def _filtered_orders(principal: Principal, filters: OrderFilter) -> Select[Any]:
    statement = select(Order)
    if principal.store_ids is not None:
        statement = statement.where(Order.store_id.in_(principal.store_ids))
    if filters.channel:
        statement = statement.where(Order.channel == filters.channel)
    if filters.store_id:
        statement = statement.where(Order.store_id == filters.store_id)
    if filters.status:
        statement = statement.where(Order.status == filters.status)
    if filters.member_id:
        statement = statement.where(Order.member_id == filters.member_id)
    if filters.placed_from:
        statement = statement.where(Order.placed_at >= filters.placed_from)
    if filters.placed_to:
        statement = statement.where(Order.placed_at < filters.placed_to)
    return statement


def list_orders(
    session: Session, principal: Principal, filters: OrderFilter, limit: int, cursor: str | None
) -> tuple[list[Order], str | None]:
    """Orders by channel, store, status, member and placement date range."""
    principal.require(Permission.READ)
    return paginate(session, _filtered_orders(principal, filters), Order, limit, cursor)


def recent_orders(
    session: Session, principal: Principal, filters: OrderFilter, limit: int = 200
) -> tuple[Sequence[Order], int, Decimal]:
    """The newest matching orders, with the count and total of all matches (console)."""
    principal.require(Permission.READ)
    statement = _filtered_orders(principal, filters)
    orders = session.scalars(statement.order_by(Order.placed_at.desc()).limit(limit)).all()
    count, total = session.execute(
        statement.with_only_columns(func.count(), func.coalesce(func.sum(Order.total_amount), 0))
    ).one()
    return orders, int(count), Decimal(total)


def get_order(session: Session, principal: Principal, order_id: uuid.UUID) -> Order:
    principal.require(Permission.READ)
    order = session.scalar(
        select(Order).where(Order.id == order_id).execution_options(populate_existing=True)
    )
    if order is None or (
        principal.store_ids is not None and order.store_id not in principal.store_ids
    ):
        raise NotFound("order not found", field="order_id")
    return order


@dataclass(frozen=True)
class OrderDetail:
    """An order with what its page shows: refunds, stores, SKUs and the member."""

    order: Order
    refunds: Sequence[Refund]
    stores: dict[uuid.UUID, Store]
    skus: dict[uuid.UUID, Sku]
    member: Member | None
    line_numbers: dict[uuid.UUID, int]
    net: Decimal


def order_detail(session: Session, principal: Principal, order_id: uuid.UUID) -> OrderDetail:
    """One order with its refunds, the stores and SKUs it names and its member (console)."""
    order = get_order(session, principal, order_id)
    refunds = list_refunds(session, principal, order_id)
    stores = {
        store.id: store
        for store in tenancy_service.all_stores(session, principal, tenancy_service.StoreFilter())
    }
    skus = {
        sku.id: sku
        for sku in session.scalars(
            select(Sku).where(Sku.id.in_({line.sku_id for line in order.lines}))
        )
    }
    member = None
    if order.member_id is not None:
        try:
            member = members_service.get_member(session, principal, order.member_id)
        except NewRetailError:
            member = None  # erased member: the order keeps its id
    return OrderDetail(
        order=order,
        refunds=refunds,
        stores=stores,
        skus=skus,
        member=member,
        line_numbers={line.id: line.line_number for line in order.lines},
        net=order.total_amount - order.refunded_amount,
    )


# ---------------------------------------------------------------- transitions
def _move(
    session: Session, order: Order, target: str, allowed_from: Sequence[str], **values: Any
) -> None:
    """Guarded status change: only one concurrent caller wins."""
    now = utcnow()
    changed = session.execute(
        update(Order)
        .where(Order.id == order.id, Order.status.in_(list(allowed_from)))
        .values(status=target, updated_at=now, **values)
        .execution_options(**NO_SYNC)
    ).rowcount  # type: ignore[attr-defined]
    if changed != 1:
        current = session.scalar(select(Order.status).where(Order.id == order.id))
        raise InvalidTransition(
            f"the order is {current}; it cannot become {target}", field="status"
        )


def _codes(session: Session, order: Order) -> dict[uuid.UUID, SkuFacts]:
    return _sku_facts(session, {line.sku_id for line in order.lines})


def pay(session: Session, principal: Principal, order_id: uuid.UUID) -> Order:
    """Record payment of a placed order (emits `purchase`, awards points)."""
    principal.require(Permission.SELL)
    order = get_order(session, principal, order_id)
    now = utcnow()
    _move(session, order, OrderStatus.PAID, [OrderStatus.PLACED], paid_at=now)
    order = get_order(session, principal, order_id)
    lines = _event_lines(order.lines, _codes(session, order))
    _enqueue(session, order, "purchase", now, order.total_amount, lines)
    member_points_hook(session, order, action="award", lines=lines, occurred_at=now)
    return order


def fulfil(session: Session, principal: Principal, order_id: uuid.UUID) -> Order:
    """Ship or hand over a paid order: its allocated units leave their locations."""
    principal.require(Permission.SELL)
    order = get_order(session, principal, order_id)
    _move(session, order, OrderStatus.FULFILLED, [OrderStatus.PAID], fulfilled_at=utcnow())
    movements = []
    for line in sorted(order.lines, key=lambda item: (item.sku_id, item.location_id)):
        assert line.location_id is not None
        inventory_service.ship_allocated(session, line.sku_id, line.location_id, line.quantity)
        movements.append(
            {
                "organization_id": order.organization_id,
                "sku_id": line.sku_id,
                "location_id": line.location_id,
                "delta": -line.quantity,
                "reason": "sale",
                "actor": principal.actor,
                "reference": f"order:{order.id}",
            }
        )
    inventory_service.record_movements(session, movements)
    return get_order(session, principal, order_id)


def cancel(session: Session, principal: Principal, order_id: uuid.UUID) -> Order:
    """Cancel an order before fulfilment; its stock returns, a paid one is refunded in full."""
    principal.require(Permission.SELL)
    order = get_order(session, principal, order_id)
    was_paid = order.status == OrderStatus.PAID
    now = utcnow()
    _move(
        session,
        order,
        OrderStatus.CANCELLED,
        [OrderStatus.PLACED, OrderStatus.PAID],
        cancelled_at=now,
        **({"refunded_amount": order.total_amount} if was_paid else {}),
    )
    for line in sorted(order.lines, key=lambda item: (item.sku_id, item.location_id)):
        if line.location_id is not None:
            inventory_service.deallocate(session, line.sku_id, line.location_id, line.quantity)
    order = get_order(session, principal, order_id)
    lines = _event_lines(order.lines, _codes(session, order))
    if was_paid:
        refund = Refund(
            organization_id=order.organization_id,
            order_id=order.id,
            amount=order.total_amount,
            reason="cancelled",
            actor=principal.actor,
        )
        refund.lines = [
            RefundLine(
                organization_id=order.organization_id,
                order_line_id=line.id,
                quantity=line.quantity,
                amount=line.amount,
                location_id=None,
            )
            for line in order.lines
        ]
        session.add(refund)
        session.flush()
        _enqueue(
            session,
            order,
            "order_refunded",
            now,
            order.total_amount,
            lines,
            refund_id=str(refund.id),
            cancelled=True,
        )
        member_points_hook(
            session, order, action="reverse", refund_id=refund.id, lines=lines, occurred_at=now
        )
    _enqueue(session, order, "order_cancelled", now, order.total_amount, lines)
    return order


def refund(
    session: Session, principal: Principal, order_id: uuid.UUID, data: schemas.RefundCreate
) -> Refund:
    """Refund some or all units of a fulfilled order; units go back to the location they left."""
    principal.require(Permission.SELL)
    order = get_order(session, principal, order_id)
    refundable = [OrderStatus.FULFILLED, OrderStatus.PARTIALLY_REFUNDED]
    # lock the order row first: refunds of one order are serialised
    locked = session.execute(
        update(Order)
        .where(Order.id == order.id, Order.status.in_(refundable))
        .values(updated_at=utcnow())
        .execution_options(**NO_SYNC)
    ).rowcount  # type: ignore[attr-defined]
    if locked != 1:
        raise InvalidTransition(f"a {order.status} order cannot be refunded", field="status")
    order = get_order(session, principal, order_id)
    by_id = {line.id: line for line in order.lines}
    if data.lines is None:
        wanted = {
            line.id: line.quantity - line.refunded_quantity
            for line in order.lines
            if line.quantity > line.refunded_quantity
        }
    else:
        wanted = {}
        for index, item in enumerate(data.lines):
            if item.order_line_id not in by_id:
                raise InvalidInput(
                    "not a line of this order", field=f"lines[{index}].order_line_id"
                )
            wanted[item.order_line_id] = wanted.get(item.order_line_id, 0) + item.quantity
    if not wanted:
        raise InvalidInput("nothing left to refund", field="lines")
    now = utcnow()
    refund_row = Refund(
        organization_id=order.organization_id,
        order_id=order.id,
        amount=Decimal("0.00"),
        reason=data.reason,
        actor=principal.actor,
    )
    movements = []
    total = Decimal("0.00")
    for line_id, quantity in sorted(
        wanted.items(), key=lambda item: (by_id[item[0]].sku_id, by_id[item[0]].location_id)
    ):
        line = by_id[line_id]
        changed = session.execute(
            update(OrderLine)
            .where(
                OrderLine.id == line_id,
                OrderLine.quantity - OrderLine.refunded_quantity >= quantity,
            )
            .values(refunded_quantity=OrderLine.refunded_quantity + quantity)
            .execution_options(**NO_SYNC)
        ).rowcount  # type: ignore[attr-defined]
        if changed != 1:
            raise InvalidInput(
                f"only {line.quantity - line.refunded_quantity} units of line "
                f"{line.line_number} are left to refund",
                field="lines",
            )
        amount = money(line.unit_price * quantity)
        total += amount
        refund_row.lines.append(
            RefundLine(
                organization_id=order.organization_id,
                order_line_id=line_id,
                quantity=quantity,
                amount=amount,
                location_id=line.location_id,
            )
        )
        if line.location_id is not None:
            inventory_service.put_back(
                session, order.organization_id, line.sku_id, line.location_id, quantity
            )
            movements.append(
                {
                    "organization_id": order.organization_id,
                    "sku_id": line.sku_id,
                    "location_id": line.location_id,
                    "delta": quantity,
                    "reason": "refund",
                    "actor": principal.actor,
                    "reference": f"order:{order.id}",
                }
            )
    refund_row.amount = total
    session.add(refund_row)
    inventory_service.record_movements(session, movements)
    left = session.scalar(
        select(func.sum(OrderLine.quantity - OrderLine.refunded_quantity)).where(
            OrderLine.order_id == order.id
        )
    )
    session.execute(
        update(Order)
        .where(Order.id == order.id)
        .values(
            refunded_amount=Order.refunded_amount + total,
            status=OrderStatus.REFUNDED if not left else OrderStatus.PARTIALLY_REFUNDED,
        )
        .execution_options(**NO_SYNC)
    )
    session.flush()
    order = get_order(session, principal, order_id)
    codes = _codes(session, order)
    refunded_lines = [
        {
            **entry,
            "quantity": wanted[uuid.UUID(entry["order_line_id"])],
            "amount": str(
                money(
                    by_id[uuid.UUID(entry["order_line_id"])].unit_price
                    * wanted[uuid.UUID(entry["order_line_id"])]
                )
            ),
        }
        for entry in _event_lines([by_id[i] for i in wanted], codes)
    ]
    _enqueue(
        session, order, "order_refunded", now, total, refunded_lines, refund_id=str(refund_row.id)
    )
    member_points_hook(
        session,
        order,
        action="reverse",
        refund_id=refund_row.id,
        lines=refunded_lines,
        occurred_at=now,
    )
    return refund_row


def list_refunds(session: Session, principal: Principal, order_id: uuid.UUID) -> Sequence[Refund]:
    """The refunds of an order, oldest first."""
    get_order(session, principal, order_id)
    return session.scalars(
        select(Refund).where(Refund.order_id == order_id).order_by(Refund.created_at)
    ).all()


def get_refund(
    session: Session, principal: Principal, order_id: uuid.UUID, refund_id: uuid.UUID
) -> Refund:
    get_order(session, principal, order_id)
    found = session.scalar(
        select(Refund).where(Refund.id == refund_id, Refund.order_id == order_id)
    )
    if found is None:
        raise NotFound("refund not found", field="refund_id")
    return found
