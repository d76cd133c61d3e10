"""The privacy floor: no count between 1 and the organisation's minimum crowd size is shown.

A count of 0 is shown (it singles nobody out); 1 … floor−1 becomes None ("fewer than the
floor"). Every API route, console page, CLI command and count export passes counts through
here.
"""

from __future__ import annotations

from collections.abc import Sequence


def below_floor(count: int, floor: int) -> bool:
    """True when a count would single out fewer people than the floor (0 is not)."""
    return 0 < count < floor


def shown(count: int | None, floor: int) -> int | None:
    """The count as it may be shown: None when it is below the floor."""
    if count is None or below_floor(count, floor):
        return None
    return count


def shown_together(counts: Sequence[int], floor: int) -> list[int | None]:
    """Counts that add up to a shown total: when one is hidden, every one is.

    With a known total, one visible part would give the hidden one away by subtraction.
    """
    if any(below_floor(c, floor) for c in counts):
        return [None] * len(counts)
    return list(counts)
