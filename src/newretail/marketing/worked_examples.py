"""Worked examples of the offer engine with their expected results: the shared basket and
offers, and every pair of combination classes, combinable and not (one case per kind of
offer and refusal is in `kind_examples`). The tests check each
(tests/marketing/test_worked_examples.py) and docs/marketing.md's tables are generated from
them (`python -m newretail.marketing.doc_table --write docs/marketing.md`).

Unless a case says otherwise the basket is the Double 11 basket, priced online in
Asia/Shanghai on 11 November 2026 at 10:00 local time:
serum 2 x 150.00 (Skincare/Serums), cream 1 x 100.00 (Skincare/Creams), both brand
Lumière, lipstick 3 x 40.00 (Makeup/Lips, brand Rouge); subtotal 520.00, shipping 12.00.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from newretail.core.localtime import zone
from newretail.marketing.basket import Basket, BasketLine, SaleContext
from newretail.marketing.errors import RefusalCode
from newretail.marketing.offers import (
    AmountOff,
    BuyXGetY,
    CombinationClass,
    OfferTemplate,
    PercentOff,
    Threshold,
)
from newretail.marketing.scope import ItemSelector, Scope
from newretail.tenancy.models import ChannelType

EXAMPLES = uuid.UUID("6f1d0c2e-0000-4000-8000-00000000d011")
ZONE = "Asia/Shanghai"
AT = datetime(2026, 11, 11, 10, 0, tzinfo=zone(ZONE))
ONLINE = SaleContext(zone_name=ZONE, channel_type=ChannelType.ONLINE)


def example_id(name: str) -> uuid.UUID:
    """A stable id for a named brand, product or SKU of the examples."""
    return uuid.uuid5(EXAMPLES, name)


LUMIERE, ROUGE = example_id("brand:lumiere"), example_id("brand:rouge")


def line(name: str, brand: uuid.UUID, category: str, quantity: int, price: str) -> BasketLine:
    """A basket line of one SKU of its own product."""
    return BasketLine(
        sku_id=example_id(f"sku:{name}"),
        product_id=example_id(f"product:{name}"),
        brand_id=brand,
        quantity=quantity,
        unit_price=Decimal(price),
        category_path=category,
    )


SERUM = line("serum", LUMIERE, "Skincare/Serums", 2, "150.00")
CREAM = line("cream", LUMIERE, "Skincare/Creams", 1, "100.00")
LIPSTICK = line("lipstick", ROUGE, "Makeup/Lips", 3, "40.00")
DOUBLE_11 = Basket(lines=(SERUM, CREAM, LIPSTICK), shipping_fee=Decimal("12.00"))


def only(*categories: str) -> Scope:
    """A scope of the listed categories."""
    return Scope(include=ItemSelector(category_paths=frozenset(categories)))


PRODUCT, ORDER, SHIPPING = CombinationClass
SERUM_20 = OfferTemplate(
    "SERUM-20PCT", PercentOff(Decimal(20)), PRODUCT, scope=only("Skincare/Serums")
)
LIPS_B2G1 = OfferTemplate("LIPS-B2G1", BuyXGetY(buy=2, get=1), PRODUCT, scope=only("Makeup"))
D11_250_25 = OfferTemplate("D11-250-25", Threshold(Decimal(250), Decimal(25), repeat=True), ORDER)
ORDER_10 = OfferTemplate("ORDER-10PCT", PercentOff(Decimal(10), cap=Decimal(50)), ORDER)
SHIP_HALF = OfferTemplate(
    "SHIP-HALF", PercentOff(Decimal(50)), SHIPPING, minimum_spend=Decimal(199)
)
SHIP_5 = OfferTemplate("SHIP-5", AmountOff(Decimal(5)), SHIPPING)


@dataclass(frozen=True)
class PricingCase:
    """A basket, offers, and what `price_basket` must answer: the discount of each applied
    offer, the reason of each refused one, the discount of each line and the total."""

    name: str
    offers: tuple[OfferTemplate, ...]
    applied: Mapping[str, str]
    total: str
    refused: Mapping[str, RefusalCode] = field(default_factory=dict)
    line_discounts: tuple[str, ...] | None = None
    basket: Basket = DOUBLE_11
    context: SaleContext = ONLINE
    at: datetime = AT


def combined(*offers: OfferTemplate) -> tuple[OfferTemplate, ...]:
    """The offers, each naming all the others in "combines with"."""
    codes = frozenset(offer.code for offer in offers)
    return tuple(replace(offer, combines_with=codes - {offer.code}) for offer in offers)


def one_sided(first: OfferTemplate, second: OfferTemplate) -> tuple[OfferTemplate, ...]:
    """The two offers, only the first naming the second (so they do not combine)."""
    return (replace(first, combines_with=frozenset({second.code})), second)


def pair_cases() -> tuple[tuple[str, str, PricingCase, PricingCase], ...]:
    """Every pair of combination classes: (first class, second class, combinable case, case
    where only the first names the second)."""
    N = RefusalCode.NOT_COMBINABLE
    pairs = (
        (
            SERUM_20,
            LIPS_B2G1,
            {"LIPS-B2G1": "40.00", "SERUM-20PCT": "60.00"},
            "432.00",
            {"LIPS-B2G1": "40.00"},
            {"SERUM-20PCT": N},
            "492.00",
        ),
        (
            SERUM_20,
            D11_250_25,
            {"SERUM-20PCT": "60.00", "D11-250-25": "25.00"},
            "447.00",
            {"SERUM-20PCT": "60.00"},
            {"D11-250-25": N},
            "472.00",
        ),
        (
            SERUM_20,
            SHIP_HALF,
            {"SERUM-20PCT": "60.00", "SHIP-HALF": "6.00"},
            "466.00",
            {"SERUM-20PCT": "60.00"},
            {"SHIP-HALF": N},
            "472.00",
        ),
        (
            ORDER_10,
            D11_250_25,
            {"ORDER-10PCT": "50.00", "D11-250-25": "25.00"},
            "457.00",
            {"ORDER-10PCT": "50.00"},
            {"D11-250-25": N},
            "482.00",
        ),
        (
            D11_250_25,
            SHIP_HALF,
            {"D11-250-25": "50.00", "SHIP-HALF": "6.00"},
            "476.00",
            {"D11-250-25": "50.00"},
            {"SHIP-HALF": N},
            "482.00",
        ),
        (
            SHIP_HALF,
            SHIP_5,
            {"SHIP-HALF": "6.00", "SHIP-5": "5.00"},
            "521.00",
            {"SHIP-HALF": "6.00"},
            {"SHIP-5": N},
            "526.00",
        ),
    )
    found = []
    for first, second, applied, total, alone, refused, alone_total in pairs:
        both = PricingCase(f"{first.code} + {second.code}", combined(first, second), applied, total)
        apart = PricingCase(
            f"{first.code} + {second.code} (one-sided)",
            one_sided(first, second),
            alone,
            alone_total,
            refused,
        )
        found.append((first.combination_class, second.combination_class, both, apart))
    return tuple(found)
