"""One worked example per kind of offer and per reason of refusal, on the Double 11 basket
of `worked_examples` unless a case says otherwise; checked by
tests/marketing/test_worked_examples.py and shown in docs/marketing.md."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from newretail.marketing.basket import Basket
from newretail.marketing.errors import RefusalCode
from newretail.marketing.offers import (
    AmountOff,
    BuyXGetY,
    ChannelReach,
    Channels,
    FreeGift,
    OfferTemplate,
    PercentOff,
    Threshold,
    Validity,
)
from newretail.marketing.scope import ItemSelector, Scope
from newretail.marketing.worked_examples import (
    D11_250_25,
    DOUBLE_11,
    LIPS_B2G1,
    LIPSTICK,
    LUMIERE,
    ORDER,
    PRODUCT,
    ROUGE,
    SERUM,
    SERUM_20,
    SHIP_5,
    SHIP_HALF,
    PricingCase,
    combined,
    example_id,
    line,
    only,
)

GIFT_POUCH = example_id("sku:pouch")
GLOSS = line("gloss", ROUGE, "Makeup/Lips", 2, "30.00")
LIPSTICKS = Basket(lines=(replace(LIPSTICK, quantity=7), GLOSS))
SERUMS = Basket(lines=(SERUM,), shipping_fee=Decimal("12.00"))


def refusal(
    name: str,
    offer: OfferTemplate,
    reason: RefusalCode,
    total: str = "532.00",
    basket: Basket = DOUBLE_11,
) -> PricingCase:
    """A case of one offer refused for `reason`: nothing applied, the basket at full price."""
    return PricingCase(name, (offer,), {}, total, refused={offer.code: reason}, basket=basket)


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
            "an offer of a brand covers only that brand's items",
            (OfferTemplate("LUMIERE-10PCT", PercentOff(Decimal(10)), ORDER, brand_id=LUMIERE),),
            {"LUMIERE-10PCT": "40.00"},
            "492.00",
            line_discounts=("30.00", "10.00", "0.00"),
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
            "buy 1 get 1 half price (第二件半价) per multiple: 9 units, 4 at half price",
            (
                OfferTemplate(
                    "LIPS-B1G1-HALF",
                    BuyXGetY(buy=1, get=1, percent_off=Decimal(50)),
                    PRODUCT,
                    scope=only("Makeup"),
                ),
            ),
            {"LIPS-B1G1-HALF": "70.00"},
            "270.00",
            line_discounts=("40.00", "30.00"),
            basket=LIPSTICKS,
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
        refusal(
            "refused: no item in scope",
            OfferTemplate(
                "OTHER-BRAND-10",
                amount_10,
                ORDER,
                scope=Scope(include=ItemSelector(brand_ids=frozenset({example_id("brand:other")}))),
            ),
            R.OUT_OF_SCOPE,
        ),
        refusal(
            "refused: offline only, sold online",
            OfferTemplate("OFFLINE-10", amount_10, ORDER, channels=Channels(ChannelReach.OFFLINE)),
            R.WRONG_CHANNEL,
        ),
        refusal(
            "refused: valid from 12 November",
            OfferTemplate(
                "FROM-12-NOV", amount_10, ORDER, validity=Validity(first_day=date(2026, 11, 12))
            ),
            R.NOT_YET_VALID,
        ),
        refusal(
            "refused: valid until 10 November",
            OfferTemplate(
                "UNTIL-10-NOV", amount_10, ORDER, validity=Validity(last_day=date(2026, 11, 10))
            ),
            R.EXPIRED,
        ),
        refusal(
            "refused: valid 7 days after issue, never issued",
            OfferTemplate("WELCOME-10", amount_10, ORDER, validity=Validity(days_after_issue=7)),
            R.NOT_ISSUED,
        ),
        refusal(
            "refused: minimum spend 600.00",
            OfferTemplate("SPEND-600", amount_10, ORDER, minimum_spend=Decimal(600)),
            R.BELOW_MINIMUM_SPEND,
        ),
        refusal(
            "refused: buy 3 get 1 with 3 units",
            OfferTemplate("LIPS-B3G1", BuyXGetY(buy=3, get=1), PRODUCT, scope=only("Makeup")),
            R.BELOW_MINIMUM_QUANTITY,
        ),
        refusal(
            "refused: no shipping fee to take off",
            SHIP_5,
            R.NOTHING_TO_DISCOUNT,
            total="300.00",
            basket=Basket(lines=(SERUM,)),
        ),
        PricingCase(
            "refused: the same offer given twice",
            (SHIP_5, SHIP_5),
            {"SHIP-5": "5.00"},
            "527.00",
            refused={"SHIP-5": R.DUPLICATE},
        ),
    )
