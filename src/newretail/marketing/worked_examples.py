"""Worked examples of the offer engine with their expected results: one per kind of offer
and refusal, and every pair of combination classes, combinable and not. The tests check
each (tests/marketing/test_worked_examples.py) and docs/marketing.md's tables are
generated from them (`python -m newretail.marketing.doc_table --write docs/marketing.md`).

Unless a case says otherwise the basket is the Double 11 basket, priced online in
Asia/Shanghai on 11 November 2026 at 10:00 local time:
serum 2 x 150.00 (Skincare/Serums), cream 1 x 100.00 (Skincare/Creams), both brand
Lumière, lipstick 3 x 40.00 (Makeup/Lips, brand Rouge); subtotal 520.00, shipping 12.00.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal

from newretail.core.localtime import zone
from newretail.marketing.basket import Basket, BasketLine, SaleContext
from newretail.marketing.errors import RefusalCode
from newretail.marketing.offers import (
    AmountOff,
    BuyXGetY,
    ChannelReach,
    Channels,
    CombinationClass,
    FreeGift,
    OfferTemplate,
    PercentOff,
    Threshold,
    Validity,
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


GIFT_POUCH = example_id("sku:pouch")
GLOSS = line("gloss", ROUGE, "Makeup/Lips", 2, "30.00")
LIPSTICKS = Basket(lines=(replace(LIPSTICK, quantity=7), GLOSS))
SERUMS = Basket(lines=(SERUM,), shipping_fee=Decimal("12.00"))


def kind_cases() -> tuple[PricingCase, ...]:
    """One case per kind of offer and per reason of refusal."""
    R = RefusalCode
    amount_10 = AmountOff(Decimal(10))
    return (
        PricingCase(
            "amount off a category, split by line amount",
            (OfferTemplate("SKIN-30", AmountOff(Decimal(30)), PRODUCT, scope=only("Skincare")),),
            {"SKIN-30": "30.00"},
            "502.00",
            line_discounts=("22.50", "7.50", "0.00"),
        ),
        PricingCase(
            "amount off every unit",
            (
                OfferTemplate(
                    "LIPS-5-EACH",
                    AmountOff(Decimal(5), per_unit=True),
                    PRODUCT,
                    scope=only("Makeup"),
                ),
            ),
            {"LIPS-5-EACH": "15.00"},
            "517.00",
            line_discounts=("0.00", "0.00", "15.00"),
        ),
        PricingCase(
            "percent off with a cap, split by largest remainder",
            (OfferTemplate("ALL-20PCT-CAP80", PercentOff(Decimal(20), cap=Decimal(80)), ORDER),),
            {"ALL-20PCT-CAP80": "80.00"},
            "452.00",
            line_discounts=("46.15", "15.39", "18.46"),
        ),
        PricingCase(
            "threshold once",
            (OfferTemplate("SPEND-200-SAVE-20", Threshold(Decimal(200), Decimal(20)), ORDER),),
            {"SPEND-200-SAVE-20": "20.00"},
            "512.00",
        ),
        PricingCase(
            "threshold per multiple",
            (
                OfferTemplate(
                    "EVERY-100-SAVE-10", Threshold(Decimal(100), Decimal(10), repeat=True), ORDER
                ),
            ),
            {"EVERY-100-SAVE-10": "50.00"},
            "482.00",
        ),
        PricingCase(
            "threshold per multiple, at most 3 times",
            (
                OfferTemplate(
                    "EVERY-100-SAVE-10-MAX3",
                    Threshold(Decimal(100), Decimal(10), repeat=True, max_repeats=3),
                    ORDER,
                ),
            ),
            {"EVERY-100-SAVE-10-MAX3": "30.00"},
            "502.00",
        ),
        PricingCase(
            "threshold on the discounted price (300.00 - 60.00 < 250.00)",
            combined(SERUM_20, D11_250_25),
            {"SERUM-20PCT": "60.00"},
            "252.00",
            refused={"D11-250-25": R.BELOW_MINIMUM_SPEND},
            basket=SERUMS,
        ),
        PricingCase(
            "product, order and shipping offers in turn (docs: the first example)",
            combined(SERUM_20, D11_250_25, SHIP_HALF),
            {"SERUM-20PCT": "60.00", "D11-250-25": "25.00", "SHIP-HALF": "6.00"},
            "441.00",
            line_discounts=("73.04", "5.44", "6.52"),
        ),
        PricingCase(
            "a shipping minimum spend counts the price after order offers (190.00 < 199.00)",
            combined(OfferTemplate("ORDER-110", AmountOff(Decimal(110)), ORDER), SHIP_HALF),
            {"ORDER-110": "110.00"},
            "202.00",
            refused={"SHIP-HALF": R.BELOW_MINIMUM_SPEND},
            basket=SERUMS,
        ),
        PricingCase(
            "buy 1 get 1: the cheapest unit is free",
            (OfferTemplate("SKIN-B1G1", BuyXGetY(buy=1, get=1), PRODUCT, scope=only("Skincare")),),
            {"SKIN-B1G1": "100.00"},
            "432.00",
            line_discounts=("0.00", "100.00", "0.00"),
        ),
        PricingCase(
            "buy 2 get 1 per multiple: 9 units, 3 free",
            (LIPS_B2G1,),
            {"LIPS-B2G1": "100.00"},
            "240.00",
            line_discounts=("40.00", "60.00"),
            basket=LIPSTICKS,
        ),
        PricingCase(
            "buy 2 get 1 per multiple, at most 2 free",
            (replace(LIPS_B2G1, benefit=BuyXGetY(buy=2, get=1, max_free_quantity=2)),),
            {"LIPS-B2G1": "60.00"},
            "280.00",
            line_discounts=("0.00", "60.00"),
            basket=LIPSTICKS,
        ),
        PricingCase(
            "free gift SKU over a minimum spend",
            (OfferTemplate("GIFT-POUCH", FreeGift(GIFT_POUCH), ORDER, minimum_spend=Decimal(500)),),
            {"GIFT-POUCH": "0.00"},
            "532.00",
        ),
        PricingCase(
            "refused: no item in scope",
            (
                OfferTemplate(
                    "OTHER-BRAND-10",
                    amount_10,
                    ORDER,
                    scope=Scope(
                        include=ItemSelector(brand_ids=frozenset({example_id("brand:other")}))
                    ),
                ),
            ),
            {},
            "532.00",
            refused={"OTHER-BRAND-10": R.OUT_OF_SCOPE},
        ),
        PricingCase(
            "refused: offline only, sold online",
            (
                OfferTemplate(
                    "OFFLINE-10", amount_10, ORDER, channels=Channels(ChannelReach.OFFLINE)
                ),
            ),
            {},
            "532.00",
            refused={"OFFLINE-10": R.WRONG_CHANNEL},
        ),
        PricingCase(
            "refused: valid from 12 November",
            (
                OfferTemplate(
                    "FROM-12-NOV", amount_10, ORDER, validity=Validity(first_day=date(2026, 11, 12))
                ),
            ),
            {},
            "532.00",
            refused={"FROM-12-NOV": R.NOT_YET_VALID},
        ),
        PricingCase(
            "refused: valid until 10 November",
            (
                OfferTemplate(
                    "UNTIL-10-NOV", amount_10, ORDER, validity=Validity(last_day=date(2026, 11, 10))
                ),
            ),
            {},
            "532.00",
            refused={"UNTIL-10-NOV": R.EXPIRED},
        ),
        PricingCase(
            "refused: valid 7 days after issue, never issued",
            (OfferTemplate("WELCOME-10", amount_10, ORDER, validity=Validity(days_after_issue=7)),),
            {},
            "532.00",
            refused={"WELCOME-10": R.NOT_ISSUED},
        ),
        PricingCase(
            "refused: minimum spend 600.00",
            (OfferTemplate("SPEND-600", amount_10, ORDER, minimum_spend=Decimal(600)),),
            {},
            "532.00",
            refused={"SPEND-600": R.BELOW_MINIMUM_SPEND},
        ),
        PricingCase(
            "refused: buy 3 get 1 with 3 units",
            (OfferTemplate("LIPS-B3G1", BuyXGetY(buy=3, get=1), PRODUCT, scope=only("Makeup")),),
            {},
            "532.00",
            refused={"LIPS-B3G1": R.BELOW_MINIMUM_QUANTITY},
        ),
        PricingCase(
            "refused: no shipping fee to take off",
            (SHIP_5,),
            {},
            "300.00",
            refused={"SHIP-5": R.NOTHING_TO_DISCOUNT},
            basket=Basket(lines=(SERUM,)),
        ),
        PricingCase(
            "refused: the same offer twice",
            (SHIP_5, SHIP_5),
            {"SHIP-5": "5.00"},
            "527.00",
            refused={"SHIP-5": R.DUPLICATE},
        ),
    )
