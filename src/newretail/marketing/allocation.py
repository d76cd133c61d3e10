"""Money arithmetic of the offer engine, in the catalogue's cents: rounding a computed
discount, and splitting one discount across lines by the largest remainder."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from newretail.core.money import CENT, ZERO


def allocate(total: Decimal, weights: Sequence[Decimal]) -> list[Decimal]:
    """Split `total` across `weights` in proportion, in whole cents, by the largest
    remainder (ties go to the earlier weight): the shares sum to `total` exactly and, as
    long as `total` does not exceed the weights' sum, no share exceeds its weight.

    allocate(10.00, [10.00, 10.00, 10.00]) -> [3.34, 3.33, 3.33]
    """
    units = int(total / CENT)
    weight_units = [int(weight / CENT) for weight in weights]
    whole = sum(weight_units)
    if units <= 0 or whole <= 0:
        return [ZERO for _ in weights]
    shares = [units * weight // whole for weight in weight_units]
    remainders = [units * weight % whole for weight in weight_units]
    left = units - sum(shares)
    by_remainder = sorted(range(len(shares)), key=lambda index: (-remainders[index], index))
    for index in by_remainder[:left]:
        shares[index] += 1
    return [Decimal(share) * CENT for share in shares]
