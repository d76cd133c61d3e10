"""An offer as typed, priced on a sample basket: the catalogue's SKUs at a channel's prices,
through `engine.price_basket` (the one pricing path tills and checkouts use), so the console's
offer form shows what a shopper would pay before the offer is saved."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from newretail.catalog.models import Product, Sku, SkuPrice
from newretail.core.errors import InvalidInput
from newretail.core.localtime import local_day_bounds, today
from newretail.marketing import offer_library
from newretail.marketing.basket import Basket, BasketLine, SaleContext
from newretail.marketing.engine import price_basket
from newretail.marketing.offer_specs import Money, OfferSpec
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.models import ChannelType
from newretail.tenancy.permissions import Permission, Principal
from newretail.tenancy.schemas import Strict

MAX_LINES = 20
NOON = timedelta(hours=12)  # the sample sale's moment on its local day


class PreviewLineIn(Strict):
    sku_id: uuid.UUID
    quantity: Annotated[int, Field(ge=1, le=999)] = 1


class PreviewIn(Strict):
    """An offer spec (not saved) and a sample basket: SKUs and quantities priced at the
    channel type's catalogue prices, on a local day (today if none) at noon."""

    offer: OfferSpec
    lines: Annotated[list[PreviewLineIn], Field(min_length=1, max_length=MAX_LINES)]
    channel_type: ChannelType = ChannelType.ONLINE
    shipping_fee: Money = Decimal("0.00")
    day: date | None = None


class PreviewLineRead(BaseModel):
    sku_id: uuid.UUID
    sku_name: str
    quantity: int
    unit_price: Decimal
    amount: Decimal
    discount: Decimal
    charged: Decimal


class AppliedRead(BaseModel):
    code: str
    discount: Decimal
    times: int
    reward_units: int


class RefusedRead(BaseModel):
    code: str
    reason: str = Field(description="A RefusalCode: not_yet_valid, out_of_scope, ...")


class GiftRead(BaseModel):
    sku_id: uuid.UUID
    sku_name: str
    quantity: int


class PreviewRead(BaseModel):
    day: date
    channel_type: ChannelType
    lines: list[PreviewLineRead]
    subtotal: Decimal
    shipping_fee: Decimal
    shipping_discount: Decimal
    discount: Decimal
    total: Decimal
    applied: list[AppliedRead]
    refused: list[RefusedRead]
    gifts: list[GiftRead]


def _basket_lines(
    session: Session, body: PreviewIn
) -> tuple[list[BasketLine], dict[uuid.UUID, str]]:
    """The sample lines at the channel type's prices, and the SKUs' names (gifts included)."""
    wanted = {line.sku_id for line in body.lines}
    gift = getattr(body.offer.benefit, "sku_id", None)
    rows = session.execute(
        select(Sku.id, Sku.name, Sku.brand_id, Sku.product_id, Product.category_path)
        .join(Product, Product.id == Sku.product_id)
        .where(Sku.id.in_(wanted | ({gift} if gift else set())))
    ).all()
    found = {row.id: row for row in rows}
    prices = dict(
        session.execute(
            select(SkuPrice.sku_id, SkuPrice.amount).where(
                SkuPrice.sku_id.in_(wanted), SkuPrice.channel_type == body.channel_type
            )
        ).all()
    )
    lines = []
    for position, line in enumerate(body.lines):
        row = found.get(line.sku_id)
        if row is None:
            raise InvalidInput("no such SKU in this organisation", field=f"lines.{position}")
        if line.sku_id not in prices:
            raise InvalidInput(
                f"{row.name} has no price on the {body.channel_type} channel",
                field=f"lines.{position}",
            )
        lines.append(
            BasketLine(
                sku_id=row.id,
                product_id=row.product_id,
                brand_id=row.brand_id,
                quantity=line.quantity,
                unit_price=prices[line.sku_id],
                category_path=row.category_path,
            )
        )
    return lines, {row.id: row.name for row in rows}


def preview_offer(session: Session, principal: Principal, body: PreviewIn) -> PreviewRead:
    """Price the sample basket under the offer as typed (an offer valid N days after issue
    counts as issued at that moment); nothing is saved."""
    principal.require(Permission.MANAGE_MARKETING)  # a marketer's tool, before any lookup
    template = offer_library.check_spec(session, body.offer)
    zone_name = tenancy_service.organisation_zone(session, principal.organization_id)
    day = body.day or today(zone_name)
    at = local_day_bounds(day, zone_name)[0] + NOON
    lines, names = _basket_lines(session, body)
    context = SaleContext(
        zone_name=zone_name,
        channel_type=body.channel_type,
        issued_at={template.code: at},
    )
    priced = price_basket(Basket(tuple(lines), body.shipping_fee), [template], at, context)
    return PreviewRead(
        day=day,
        channel_type=body.channel_type,
        lines=[
            PreviewLineRead(
                sku_id=p.line.sku_id,
                sku_name=names[p.line.sku_id],
                quantity=p.line.quantity,
                unit_price=p.line.unit_price,
                amount=p.line.amount,
                discount=p.discount,
                charged=p.charged,
            )
            for p in priced.lines
        ],
        subtotal=priced.subtotal,
        shipping_fee=priced.shipping_fee,
        shipping_discount=priced.shipping_discount,
        discount=priced.discount,
        total=priced.total,
        applied=[
            AppliedRead(
                code=a.code, discount=a.discount, times=a.times, reward_units=a.reward_units
            )
            for a in priced.applied
        ],
        refused=[RefusedRead(code=r.code, reason=r.reason) for r in priced.refused],
        gifts=[
            GiftRead(sku_id=g.sku_id, sku_name=names.get(g.sku_id, ""), quantity=g.quantity)
            for g in priced.gifts
        ],
    )
