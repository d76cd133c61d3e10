"""A sale's coupons on its line rows, at the till and at checkout.

The lines are priced by the catalogue's sale-price rule first (`sales.price_lines`); the
coupons' offers are then applied by marketing's one pricing path (`engine.price_basket`, via
`marketing.sale_coupons`), and each line row's `amount` becomes what it costs after them
(`unit_price × quantity − discount`: the order keeps the sale price and the discount both).
After the order row is inserted, every coupon is redeemed in the same transaction, referring
to the order by its id; a refusal raises and the caller's transaction keeps nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from newretail.marketing import redemption, sale_coupons
from newretail.marketing.basket import Basket, BasketLine, PricedBasket
from newretail.marketing.models import RedemptionConflict
from newretail.orders.rows import ZERO, SkuFacts


@dataclass(frozen=True)
class SaleOffers:
    """The coupons of one sale and the basket as the engine priced it."""

    coupons: sale_coupons.SaleCoupons
    priced: PricedBasket
    store_id: uuid.UUID
    member_id: uuid.UUID | None
    at: datetime
    sold_offline: bool

    @property
    def discounts(self) -> list[Decimal]:
        """Each line's discount, in the sale's line order."""
        return [line.discount for line in self.priced.lines]


def basket(lines: Sequence[Mapping[str, Any]], facts: Mapping[uuid.UUID, SkuFacts]) -> Basket:
    """The engine's basket of priced line rows."""
    return Basket(
        tuple(
            BasketLine(
                sku_id=line["sku_id"],
                product_id=_product(facts, line["sku_id"]),
                brand_id=line["brand_id"],
                quantity=line["quantity"],
                unit_price=line["unit_price"],
                category_path=facts[line["sku_id"]].category_path,
            )
            for line in lines
        )
    )


def _product(facts: Mapping[uuid.UUID, SkuFacts], sku_id: uuid.UUID) -> uuid.UUID:
    product_id = facts[sku_id].product_id
    assert product_id is not None  # every SKU belongs to a product
    return product_id


def price(
    session: Session,
    references: Sequence[str],
    lines: Sequence[Mapping[str, Any]],
    facts: Mapping[uuid.UUID, SkuFacts],
    *,
    organization_id: uuid.UUID,
    channel_type: str,
    store_id: uuid.UUID,
    member_id: uuid.UUID | None,
    at: datetime,
    sold_offline: bool = False,
    coupons: sale_coupons.SaleCoupons | None = None,
) -> SaleOffers:
    """Find the coupons (unless the caller read them already) and price the lines with their
    offers at the instant (a refused coupon raises, naming `coupons[i]`)."""
    if coupons is None:
        coupons = sale_coupons.find(session, organization_id, references)
    context = coupons.context(channel_type, store_id, member_id)
    priced = sale_coupons.price(coupons, basket(lines, facts), at, context)
    return SaleOffers(coupons, priced, store_id, member_id, at, sold_offline)


def take_off(lines: list[dict[str, Any]], offers: SaleOffers | None) -> Decimal:
    """Take each line's discount off its row's amount; returns the order's total."""
    if offers is not None:
        for line, discount in zip(lines, offers.discounts, strict=True):
            line["amount"] = line["amount"] - discount
    return sum((line["amount"] for line in lines), ZERO)


def for_order(offers: SaleOffers, order_id: uuid.UUID, actor: str) -> sale_coupons.ForOrder:
    """The sale's coupons as priced, to be redeemed for its order."""
    use = redemption.Redemption(str(order_id), offers.store_id, ZERO, offers.member_id)
    return sale_coupons.ForOrder(offers.coupons, offers.priced, use, actor, offers.at)


def redeem(
    session: Session,
    offers: SaleOffers | None,
    order_id: uuid.UUID,
    actor: str,
) -> list[RedemptionConflict]:
    """Redeem the sale's coupons for the order just inserted (conflicts: an offline till's
    coupon used elsewhere meanwhile, recorded for review)."""
    if offers is None:
        return []
    sale = for_order(offers, order_id, actor)
    return sale_coupons.redeem(session, sale, sold_offline=offers.sold_offline)


def pending(
    session: Session, offers: SaleOffers, order_id: uuid.UUID, actor: str
) -> sale_coupons.Pending:
    """The sale's redemptions, to be made by the statement that inserts its order (on
    PostgreSQL, for a till that is online: an offline till's resends go by `redeem`)."""
    return sale_coupons.pending(session, for_order(offers, order_id, actor))
