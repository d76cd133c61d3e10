"""An offer's benefit in the reader's words, as the console lists offers: the cap of a percent
off, the "for every" of a repeated 满减, the reward of a buy X get Y that is not free, and
amounts as people write them (¥300, ¥12.50)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel

from newretail.core.i18n import Translate

HUNDRED = Decimal(100)


def amount(value: Decimal) -> str:
    """`300` for a whole number, `12.50` otherwise, with thousands separators."""
    return f"{value:,.0f}" if value == value.to_integral_value() else f"{value:,.2f}"


def _key(kind: str, values: dict[str, object]) -> str:
    if kind == "amount_off" and values.get("per_unit"):
        return "amount_off_each"
    if kind == "percent_off" and values.get("cap") is not None:
        return "percent_off_cap"
    if kind == "threshold" and values.get("repeat"):
        return "threshold_each_max" if values.get("max_repeats") else "threshold_each"
    if kind == "buy_x_get_y" and Decimal(str(values.get("percent_off", HUNDRED))) != HUNDRED:
        return "buy_x_get_y_percent"
    return kind


def benefit_words(t: Translate, benefit: BaseModel) -> str:
    """`Spend ¥300, save ¥40 for every ¥300`, `10% off, at most ¥50`…"""
    raw = benefit.model_dump()
    values = {k: amount(v) if isinstance(v, Decimal) else v for k, v in raw.items()}
    return t(f"marketing.benefit.{_key(str(raw['kind']), raw)}", **values)
