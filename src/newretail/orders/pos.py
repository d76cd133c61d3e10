"""POS sales: a shop's till, a counter, a pop-up or a vending machine records an immediate
sale, paid and handed over at once.

A POS sale is idempotent by (organisation, store, external_order_id): the order row is inserted
first with ON CONFLICT DO NOTHING, so a resend (also a concurrent one, which waits for the first
transaction's outcome) returns the recorded order and moves no stock.

The POS sale is the hot path (a till fleet sends many per second), so it stays off the ORM's
unit of work and scopes every statement by organisation explicitly. On PostgreSQL it is one
statement (`orders.pos_postgres`); on SQLite, whose writers are serialised anyway, a few
cached Core statements: one read of the store with the SKUs' prices, the order insert, a
guarded stock update per SKU, then one insert each for the lines, the stock ledger and the
outbox. A sale that names coupons has them priced on its lines by marketing's engine and
redeemed in the same transaction (`orders.sale_offers`). One lock order for every sale,
refund and cancellation: stock rows (by SKU), then coupons (by id) and their budgets, then
the member's points.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Table, bindparam, insert, update
from sqlalchemy.orm import Session

from newretail.catalog.errors import NoSalePrice, NotSoldHere, UnknownSku
from newretail.core.database import utcnow
from newretail.core.errors import InvalidInput, NotFound
from newretail.core.money import money
from newretail.inventory import levels as stock_levels
from newretail.inventory.models import StockMovement
from newretail.marketing import sale_coupons
from newretail.members import schemas as member_schemas
from newretail.members import service as members_service
from newretail.orders import facts, pos_context, pos_postgres, rows, sale_offers, schemas
from newretail.orders.errors import IdempotencyConflict
from newretail.orders.models import FulfilmentType, OrderStatus
from newretail.orders.pos_postgres import POS_CHANNELS
from newretail.orders.rows import ORDER_TABLE, OUTBOX_TABLE
from newretail.orders.sales import (
    SaleResult,
    brand_of,
    check_store,
    order_insert,
    price_lines,
    replayed_order,
)
from newretail.tenancy.permissions import Permission, Principal

MOVEMENT_TABLE: Table = StockMovement.__table__  # type: ignore[assignment]
INSERT_MOVEMENTS = insert(MOVEMENT_TABLE)
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


@dataclass(frozen=True)
class _TillSale:
    """One POS sale as asked, and what both database paths do with it alike."""

    session: Session
    connection: Connection
    principal: Principal
    data: schemas.PosSaleCreate
    now: datetime
    sold_at: datetime

    def find_member(self) -> uuid.UUID | None:
        """The member the sale names by id or identifier (None: nobody, or not enrolled
        yet)."""
        data = self.data
        if data.member is None:
            return data.member_id
        found = members_service.find_member(
            self.session, self.principal, data.member.type, data.member.value
        )
        if found is not None and data.member_id is not None and found.id != data.member_id:
            raise InvalidInput("member and member_id name different members", field="member")
        return found.id if found is not None else data.member_id

    def enrol_member(self, order_id: uuid.UUID) -> uuid.UUID:
        """Find or enrol the member of an identifier the till gave and name them on the order
        (after the sale won its insert, so resends never race to enrol the same person)."""
        data = self.data
        assert data.member is not None
        member, _created = members_service.get_or_create_member(
            self.session,
            self.principal,
            member_schemas.MemberCreate.model_validate(
                {
                    data.member.type: data.member.value,
                    "join_store_id": data.store_id,
                    "joined_at": self.sold_at,
                }
            ),
        )
        self.session.flush()
        self.connection.execute(SET_MEMBER, {"order_id": order_id, "member_id": member.id})
        return member.id

    def order_values(self, order_id: uuid.UUID, member_id: uuid.UUID | None) -> dict[str, Any]:
        """The order row of the sale, less what depends on the catalogue (channel, brand,
        total)."""
        return rows.order_row(
            order_id=order_id,
            organization_id=self.principal.organization_id,
            store_id=self.data.store_id,
            channel=None,
            brand_id=None,
            member_id=member_id,
            external_order_id=self.data.external_order_id,
            status=OrderStatus.FULFILLED,
            fulfilment_type=FulfilmentType.CARRY_OUT,
            total_amount=None,
            placed_at=self.sold_at,
            paid_at=self.sold_at,
            fulfilled_at=self.sold_at,
            actor=self.principal.actor,
            now=self.now,
        )

    def read_context(self) -> pos_context.SaleContext:
        """The store and the asked SKUs' prices there (one query)."""
        return pos_context.read(
            self.connection,
            self.principal.organization_id,
            self.data.store_id,
            (line.sku_id for line in self.data.lines),
        )

    def read_context_and_coupons(
        self,
    ) -> tuple[pos_context.SaleContext, sale_coupons.SaleCoupons]:
        """On PostgreSQL: the store, the SKUs' prices and the sale's coupons, read by one
        statement."""
        organization_id = self.principal.organization_id
        wanted = sale_coupons.lookup(self.data.coupons)
        context, found = pos_context.read_with(
            self.connection,
            organization_id,
            self.data.store_id,
            (line.sku_id for line in self.data.lines),
            wanted.statement(organization_id),
        )
        return context, sale_coupons.found_json(wanted, found)

    def offers(
        self,
        lines: list[dict[str, Any]],
        context: pos_context.SaleContext,
        member_id: uuid.UUID | None,
        coupons: sale_coupons.SaleCoupons | None = None,
    ) -> sale_offers.SaleOffers | None:
        """The sale's coupons priced on its lines (None: it names none). An offline till's
        sale is priced and redeemed as of its sale time."""
        if not self.data.coupons:
            return None
        return sale_offers.price(
            self.session,
            self.data.coupons,
            lines,
            context.facts,
            organization_id=self.principal.organization_id,
            channel_type=context.channel_type,
            store_id=self.data.store_id,
            member_id=member_id,
            at=self.sold_at if self.data.offline else self.now,
            sold_offline=self.data.offline,
            coupons=coupons,
        )

    def redeem(self, offers: sale_offers.SaleOffers | None, order_id: uuid.UUID) -> None:
        """Redeem the sale's coupons for its order, in its transaction."""
        sale_offers.redeem(self.session, offers, order_id, self.principal.actor)

    def replayed(self) -> SaleResult:
        """The recorded order of a resend with the same content, its coupons included (409
        when it differs)."""
        data = self.data
        order = replayed_order(
            self.session,
            data.store_id,
            data.external_order_id,
            data.lines,
            member_id=data.member_id,
            sold_at=data.sold_at,
        )
        if not sale_coupons.same_coupons(self.session, str(order.id), data.coupons):
            raise IdempotencyConflict(order.id, data.external_order_id, "coupons")
        return SaleResult(order, replayed=True)


def pos_sale(session: Session, principal: Principal, data: schemas.PosSaleCreate) -> SaleResult:
    """Record an immediate sale at a shop, counter, pop-up or vending machine (idempotent)."""
    principal.require(Permission.SELL)
    principal.require_store(data.store_id)
    now = utcnow()
    sold_at = data.sold_at or now
    if sold_at.tzinfo is None:
        raise InvalidInput("must include a time zone", field="sold_at")
    if data.offline and data.sold_at is None:
        raise InvalidInput("an offline sale says when it was sold", field="sold_at")
    connection = session.connection()
    sale = _TillSale(session, connection, principal, data, now, sold_at)
    if connection.dialect.name == "postgresql":
        return _pos_sale_postgres(sale)
    return _pos_sale_generic(sale)


def _pos_sale_postgres(sale: _TillSale) -> SaleResult:
    """The sale as one statement (see `orders.pos_postgres`), then only what is rare: the
    retry of rows short of units, enrolling a new member, awarding points. A sale with
    coupons first reads its prices and coupons (one round trip), so the offers are priced on
    those prices, and gives the statement each line's price and discount; the statement
    redeems its coupons too (only when it inserted the order, after its stock rows). An
    offline till's sale redeems its coupons last, by
    `sale_offers.redeem` (a coupon used meanwhile is a conflict for review, not a refusal)."""
    data = sale.data
    member_id = sale.find_member()
    new_id = pos_postgres.time_ordered_uuid
    order_id = new_id()
    values = sale.order_values(order_id, member_id)
    prices: list[str | None] = [
        None if line.unit_price is None else str(money(line.unit_price)) for line in data.lines
    ]
    discounts: list[str | None] = [None] * len(data.lines)
    offers = pending = None
    if data.coupons:
        context, coupons = sale.read_context_and_coupons()
        priced = price_lines(
            context.prices,
            context.store_code,
            context.channel_type,
            values["organization_id"],
            order_id,
            data.lines,
            sale.now,
        )
        offers = sale.offers(priced, context, member_id, coupons)
        prices = [str(line["unit_price"]) for line in priced]
        discounts = [str(discount) for discount in offers.discounts] if offers else discounts
        if offers is not None and not data.offline:
            pending = sale_offers.pending(sale.session, offers, order_id, sale.principal.actor)
    requested = [
        {
            "id": str(new_id()),
            "line_number": number,
            "sku_id": str(line.sku_id),
            "quantity": line.quantity,
            "unit_price": prices[number - 1],
            "discount": discounts[number - 1],
            "movement_id": str(new_id()),  # used when this is the SKU's first line
        }
        for number, line in enumerate(data.lines, start=1)
    ]
    event_ids = [new_id(), new_id()]
    parameters = {name: values[name] for name in pos_postgres.ORDER_PARAMETERS}
    parameters["lines"] = json.dumps(requested)
    parameters["placed_event_id"], parameters["purchase_event_id"] = event_ids
    sold, redeemed = pos_postgres.sell(
        sale.connection.connection, parameters, pending.parameters if pending else ()
    )
    inserted, store, checks, event_lines, brand_id, total, overdrawn = sold
    if store is None:
        raise NotFound("store not found", field="store_id")
    check_store(store["channel_type"], store["status"], POS_CHANNELS)
    for index, check in enumerate(checks):
        where = f"lines[{index}].sku_id"
        if not check["known"]:
            raise UnknownSku(where)
        if not check["available"]:
            raise NotSoldHere(check["sku_code"], store["code"], where)
        if not check["priced"]:
            raise NoSalePrice(check["sku_code"], store["channel_type"], where)
    if not inserted:
        return sale.replayed()
    if pending is not None:
        sale_coupons.settle(sale.session, pending, redeemed)
    for sku_id in overdrawn or ():  # goods in hand sold beyond the system's stock
        stock_levels.settle_overdrawn(sale.session, uuid.UUID(sku_id), data.store_id)
    if member_id is None and data.member is not None:
        member_id = sale.enrol_member(order_id)
        sale.connection.execute(SET_EVENT_MEMBER, {"ids": event_ids, "member_id": member_id})
    values.update(
        channel=store["channel_type"],
        brand_id=None if brand_id is None else uuid.UUID(brand_id),
        total_amount=Decimal(total),
        member_id=member_id,
    )
    lines = [
        rows.line_row(
            line_id=uuid.UUID(line["order_line_id"]),
            organization_id=values["organization_id"],
            order_id=order_id,
            line_number=number,
            sku_id=uuid.UUID(line["sku_id"]),
            brand_id=uuid.UUID(line["brand_id"]),
            quantity=line["quantity"],
            unit_price=Decimal(line["unit_price"]),
            amount=Decimal(line["amount"]),
            location_id=data.store_id,
            now=sale.now,
        )
        for number, line in enumerate(event_lines, start=1)
    ]
    if pending is None:
        sale.redeem(offers, order_id)  # an offline till's: after the stock rows, as online
    return _published(sale, values, lines, event_lines)


def _pos_sale_generic(sale: _TillSale) -> SaleResult:
    """The sale in a few statements (SQLite, whose writers are serialised anyway)."""
    session, connection, data, now = sale.session, sale.connection, sale.data, sale.now
    organization_id = sale.principal.organization_id
    context = sale.read_context()
    member_id = sale.find_member()
    order_id = uuid.uuid4()
    lines = price_lines(
        context.prices,
        context.store_code,
        context.channel_type,
        organization_id,
        order_id,
        data.lines,
        now,
    )
    offers = sale.offers(lines, context, member_id)
    total_amount = sale_offers.take_off(lines, offers)
    values = sale.order_values(order_id, member_id)
    values.update(
        channel=context.channel_type,
        brand_id=brand_of(context.brand_id, lines),
        total_amount=total_amount,
    )
    totals: dict[uuid.UUID, int] = {}
    for line in lines:
        line["location_id"] = data.store_id
        totals[line["sku_id"]] = totals.get(line["sku_id"], 0) + line["quantity"]
    ordered = sorted(totals.items())
    if connection.execute(order_insert(connection), values).first() is None:
        return sale.replayed()
    for sku_id, quantity in ordered:  # goods in hand: sold even beyond the system's stock
        stock_levels.sell_in_hand(session, organization_id, sku_id, data.store_id, quantity)
    sale.redeem(offers, order_id)  # after the stock rows, as on PostgreSQL: one lock order
    if member_id is None and data.member is not None:
        values["member_id"] = sale.enrol_member(order_id)
    event_lines = rows.event_lines(lines, context.facts)
    connection.execute(rows.INSERT_LINES, lines)
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
                "actor": sale.principal.actor,
                "note": None,
                "reference": f"order:{order_id}",
            }
            for sku_id, quantity in ordered
        ],
    )
    rows.insert_outbox(
        session,
        [
            rows.outbox_row(values, event_type, sale.sold_at, total_amount, event_lines, now)
            for event_type in ("order_placed", "purchase")
        ],
    )
    return _published(sale, values, lines, event_lines)


def _published(
    sale: _TillSale,
    values: dict[str, Any],
    lines: list[dict[str, Any]],
    event_lines: list[dict[str, Any]],
) -> SaleResult:
    """The recorded sale as an order, its payment published to the domains that follow it."""
    order = rows.transient_order(values, lines)
    facts.publish_paid(sale.session, order, event_lines, sale.sold_at)
    return SaleResult(order, events=["order_placed", "purchase"])
