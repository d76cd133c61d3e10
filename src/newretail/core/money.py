"""Money: amounts are `Decimal`s of whole cents (the catalogue's representation), rounded one
way and written one way (`¥1,234.50`) in the console, the CLI and charts."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def money(value: Decimal | int | str) -> Decimal:
    """A Decimal rounded to cents."""
    return Decimal(value).quantize(CENT)


def is_money(amount: Decimal) -> bool:
    """Whether the amount is a whole number of cents."""
    return amount == amount.quantize(CENT)


def round_money(amount: Decimal) -> Decimal:
    """An exact amount rounded to cents, halves away from zero (12.345 -> 12.35)."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def yuan(amount: Decimal | float | int | str | None, signed: bool = False) -> str:
    """`¥2,297.70`, `-¥40.00` (with `signed`, `+¥12.00` too); None is a dash. The sign comes
    before the currency; two decimals with thousands separators."""
    if amount is None:
        return "—"
    value = Decimal(str(amount))
    sign = "-" if value < 0 else "+" if signed and value > 0 else ""
    return f"{sign}¥{abs(value):,.2f}"
