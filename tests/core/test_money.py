from decimal import Decimal

import pytest

from newretail.core.money import is_money, money, round_money, yuan


@pytest.mark.parametrize(
    ("amount", "signed", "written"),
    [
        (Decimal("2297.7"), False, "¥2,297.70"),
        (Decimal("-40"), False, "-¥40.00"),
        (Decimal("-40"), True, "-¥40.00"),
        (Decimal("12"), True, "+¥12.00"),
        (Decimal("0"), True, "¥0.00"),
        (1234567.891, False, "¥1,234,567.89"),
        ("0.5", False, "¥0.50"),
        (None, False, "—"),
    ],
)
def test_yuan_writes_the_sign_before_the_currency(
    amount: Decimal | float | str | None, signed: bool, written: str
) -> None:
    assert yuan(amount, signed=signed) == written


def test_cents() -> None:
    assert money("12.345") == Decimal("12.34")  # banker's rounding of the catalogue's input
    assert round_money(Decimal("12.345")) == Decimal("12.35")
    assert round_money(Decimal("-12.345")) == Decimal("-12.35")
    assert is_money(Decimal("1.10")) and not is_money(Decimal("1.105"))
