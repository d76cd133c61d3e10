"""Online and cloud-shelf checkout: an order shipped or picked up, its units reserved by the
cart or allocated at the location the fulfilment strategy picks."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from newretail.core.database import utcnow
from newretail.core.errors import InvalidInput
from newretail.inventory import fulfilment
from newretail.inventory import levels as stock_levels
from newretail.inventory import service as inventory_service
from newretail.inventory.errors import OutOfStock
from newretail.orders import facts, rows, sale_offers, schemas
from newretail.orders.models import FulfilmentType, OrderStatus
from newretail.orders.sales import (
    SaleResult,
    brand_of,
    insert_order,
    priced_lines,
    replayed_order,
    store_for_sale,
)
from newretail.tenancy.models import ChannelType, Store
from newretail.tenancy.permissions import Permission, Principal

CHECKOUT_CHANNELS = frozenset({ChannelType.ONLINE, ChannelType.CLOUD_SHELF})


def checkout(session: Session, principal: Principal, data: schemas.CheckoutCreate) -> SaleResult:
    """Place an online or cloud-shelf order: consume the cart's reservations or allocate stock
    at the location the fulfilment strategy picks; its coupons are priced on the lines and
    redeemed with the order."""
    principal.require(Permission.SELL)
    store = store_for_sale(session, principal, data.store_id, CHECKOUT_CHANNELS)
    if data.fulfilment_type == FulfilmentType.CARRY_OUT:
        raise InvalidInput("online orders are shipped or picked up", field="fulfilment_type")
    pickup_store_id = data.pickup_store_id
    if data.fulfilment_type == FulfilmentType.PICKUP_IN_STORE:
        if pickup_store_id is None:
            raise InvalidInput("pick-up needs a pickup_store_id", field="pickup_store_id")
        if session.get(Store, pickup_store_id) is None:
            raise InvalidInput("no such store in this organisation", field="pickup_store_id")
    now = utcnow()
    placed_at = data.placed_at or now
    if placed_at.tzinfo is None:
        raise InvalidInput("must include a time zone", field="placed_at")
    order_id = uuid.uuid4()
    lines, codes = priced_lines(
        session, store, principal.organization_id, order_id, data.lines, now
    )
    offers = None
    if data.coupons:
        offers = sale_offers.price(
            session,
            data.coupons,
            lines,
            codes,
            organization_id=principal.organization_id,
            channel_type=store.channel_type,
            store_id=store.id,
            member_id=data.member_id,
            at=now,
        )
    total_amount = sale_offers.take_off(lines, offers)
    values = rows.order_row(
        order_id=order_id,
        organization_id=principal.organization_id,
        store_id=store.id,
        channel=store.channel_type,
        brand_id=brand_of(store.brand_id, lines),
        member_id=data.member_id,
        external_order_id=data.external_order_id,
        status=OrderStatus.PAID if data.paid else OrderStatus.PLACED,
        fulfilment_type=data.fulfilment_type,
        total_amount=total_amount,
        placed_at=placed_at,
        paid_at=placed_at if data.paid else None,
        fulfilled_at=None,
        actor=principal.actor,
        now=now,
        pickup_store_id=pickup_store_id,
        ship_latitude=data.latitude,
        ship_longitude=data.longitude,
    )
    if not insert_order(session, values):
        assert data.external_order_id is not None
        order = replayed_order(
            session, store.id, data.external_order_id, data.lines, member_id=data.member_id
        )
        return SaleResult(order, replayed=True)
    origin = fulfilment.origin_of(data.latitude, data.longitude, store)
    for line, requested in sorted(
        zip(lines, data.lines, strict=True), key=lambda pair: pair[0]["sku_id"]
    ):
        location_id = None
        if requested.reservation_id is not None:
            location_id = inventory_service.consume_reservation(
                session, requested.reservation_id, requested.sku_id, requested.quantity
            )
        if location_id is None:
            for candidate in fulfilment.candidate_locations(
                session,
                requested.sku_id,
                requested.quantity,
                data.fulfilment_type,
                origin,
                pickup_store_id,
            ):
                if stock_levels.allocate(session, requested.sku_id, candidate, requested.quantity):
                    location_id = candidate
                    break
        if location_id is None:
            raise OutOfStock(codes[requested.sku_id].code, requested.quantity)
        line["location_id"] = location_id
    session.connection().execute(rows.INSERT_LINES, lines)
    order = rows.transient_order(values, lines)
    event_lines = rows.event_lines(lines, codes)
    rows.enqueue(session, order, "order_placed", placed_at, order.total_amount, event_lines)
    events = ["order_placed"]
    # after the stock rows, before the points: a sale's one lock order
    sale_offers.redeem(session, offers, order_id, principal.actor)
    if data.paid:
        rows.enqueue(session, order, "purchase", placed_at, order.total_amount, event_lines)
        facts.publish_paid(session, order, event_lines, placed_at)
        events.append("purchase")
    return SaleResult(order, events=events)
