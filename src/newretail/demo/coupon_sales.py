"""The demo's coupons at work: Double 11's offline extension redeemed at the tills of two
counters, two street shops and a pop-up, and at a cloud shelf's checkout (a vending machine's
bottled tea never reaches the 满减 threshold).

Every sale goes through the one sale path a till or a shelf uses (`orders.pos.pos_sale`,
`orders.checkout.checkout`) with the coupon in the sale, so the offer is priced by the
marketing engine and the coupon redeemed in the sale's transaction, as in production. The
basket is the store's dearest available SKUs, enough of them to reach the 满减 threshold.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from newretail.catalog import pricing
from newretail.core.localtime import today
from newretail.inventory.models import StockLevel
from newretail.marketing import offer_library, stage_coupons
from newretail.marketing import schemas as marketing_schemas
from newretail.marketing.models import Campaign, Coupon, CouponState
from newretail.orders import checkout, pos, schemas
from newretail.tenancy import service
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.models import ChannelType
from newretail.tenancy.permissions import Principal

# store code, offer code, coupons redeemed there
SALES = [
    ("SH-JA-COUNTER", "D11-COUNTER-10", 6),
    ("BJ-GM-COUNTER", "D11-COUNTER-10", 4),
    ("SH-XTD-SHOP", "D11-300-40", 4),
    ("SH-LJZ-POPUP", "D11-300-40", 2),
    ("BJ-SLT-SHOP", "D11-300-40", 2),
    ("SH-CLOUD-1", "D11-300-40", 3),
]
WAREHOUSE = "WH-EAST"
THRESHOLD = Decimal("300.00")
MOST_UNITS = 6


def _basket(
    session: Session, organization_id: uuid.UUID, store_id: uuid.UUID, channel: ChannelType
) -> list[tuple[uuid.UUID, int]]:
    """(SKU, quantity) of the store's dearest SKUs in stock (a cloud shelf's: in the
    warehouse that ships them), reaching the threshold if the shelf allows."""
    stock_at = store_id
    if channel == ChannelType.CLOUD_SHELF:
        stock_at = service.store_by_code(session, WAREHOUSE).id
    levels = session.execute(
        select(StockLevel.sku_id, StockLevel.on_hand - StockLevel.allocated - StockLevel.reserved)
        .where(StockLevel.location_id == stock_at)
        .order_by(StockLevel.sku_id)
    ).all()
    stocked = {sku_id: int(free) for sku_id, free in levels if free > MOST_UNITS}
    prices = pricing.sale_prices(
        session, stocked, store_id, channel, organization_id=organization_id
    )
    sellable = sorted(
        (p for p in prices.values() if p.available and p.amount),
        key=lambda p: (-(p.amount or 0), p.code),
    )
    basket: list[tuple[uuid.UUID, int]] = []
    total = Decimal(0)
    for price in sellable[:3]:
        units = 1
        while total + units * (price.amount or 0) < THRESHOLD and units < MOST_UNITS // 2:
            units += 1
        basket.append((price.sku_id, units))
        total += units * (price.amount or 0)
        if total >= THRESHOLD:
            break
    return basket


def redeem_in_sales(
    session: Session, owner: Principal, campaign: Campaign, members: list[uuid.UUID]
) -> int:
    """Issue the extension's 满减 coupons to `members` and redeem some of both offers in
    sales, on the extension's days only; the number of sales made."""
    extension = campaign.stages[-1]
    local_today = today(tenancy_service.organisation_zone(session, owner.organization_id))
    if not extension.first_day <= local_today <= extension.last_day:
        return 0  # outside the extension the coupons are not valid yet (or any more)
    request = marketing_schemas.IssueRequest(offer_code="D11-300-40", member_ids=members)
    stage_coupons.issue_to_members(session, owner, campaign.id, extension.id, request)
    held = session.execute(
        select(Coupon.id, Coupon.member_id, Coupon.offer_id)
        .where(Coupon.stage_key == extension.stage_key, Coupon.state == CouponState.ISSUED)
        .order_by(Coupon.member_id, Coupon.id)
    ).all()
    offers = {
        code: offer_library.get_offer(session, code).id for code in {offer for _, offer, _ in SALES}
    }
    sold = 0
    for store_code, offer_code, count in SALES:
        store = service.store_by_code(session, store_code)
        basket = _basket(session, owner.organization_id, store.id, ChannelType(store.channel_type))
        if not basket:
            continue  # nothing on its shelves (an organisation without the demo's stock)
        chosen = [row for row in held if row.offer_id == offers[offer_code]][:count]
        held = [row for row in held if row not in chosen]
        for number, (coupon_id, member_id, _) in enumerate(chosen, start=1):
            external_id = f"D11-{store_code}-{number}"
            _sell(
                session,
                owner,
                store.id,
                store.channel_type,
                basket,
                member_id,
                coupon_id,
                external_id,
            )
            sold += 1
    return sold


def _sell(
    session: Session,
    owner: Principal,
    store_id: uuid.UUID,
    channel: str,
    basket: list[tuple[uuid.UUID, int]],
    member_id: uuid.UUID | None,
    coupon_id: uuid.UUID,
    external_id: str,
) -> None:
    if channel == ChannelType.CLOUD_SHELF:
        checkout.checkout(
            session,
            owner,
            schemas.CheckoutCreate(
                store_id=store_id,
                lines=[schemas.CheckoutLineIn(sku_id=s, quantity=q) for s, q in basket],
                member_id=member_id,
                external_order_id=external_id,
                paid=True,
                coupons=[str(coupon_id)],
            ),
        )
        return
    pos.pos_sale(
        session,
        owner,
        schemas.PosSaleCreate(
            store_id=store_id,
            external_order_id=external_id,
            lines=[schemas.PosLineIn(sku_id=s, quantity=q) for s, q in basket],
            member_id=member_id,
            coupons=[str(coupon_id)],
        ),
    )
