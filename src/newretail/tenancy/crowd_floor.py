"""The crowd floor: no count of people between 1 and the organisation's minimum crowd size is
shown, so nobody can be singled out.

One setting (`min_crowd_size`, default 50, per organisation) and one rule (`shown`): a count of
0 is shown (it singles nobody out); 1 … floor−1 becomes None, which the API answers as `null`
with `suppressed: true` and the console as "< N". Every count of people that leaves the
platform passes through here: audiences (sizes, estimates, insight, exports), the Data Bank
(stage counts, flows, trends, FAST's member counts, breakdown cells) and the operations
centre's counts of buyers.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from newretail.core.database import utcnow
from newretail.tenancy.models import DEFAULT_MIN_CROWD_SIZE, CrowdFloor
from newretail.tenancy.permissions import Permission, Principal

__all__ = ["DEFAULT_MIN_CROWD_SIZE", "below_floor", "min_crowd_size", "shown", "shown_together"]


def min_crowd_size(session: Session) -> int:
    """The organisation's privacy floor (default 50)."""
    row = session.scalars(select(CrowdFloor)).one_or_none()
    return DEFAULT_MIN_CROWD_SIZE if row is None else row.min_crowd_size


def get_settings(session: Session, principal: Principal) -> dict[str, int]:
    """The organisation's minimum crowd size."""
    principal.require(Permission.READ)
    return {"min_crowd_size": min_crowd_size(session)}


def update_settings(session: Session, principal: Principal, size: int) -> dict[str, int]:
    """Change the minimum crowd size below which no count is shown."""
    principal.require(Permission.MANAGE_MARKETING)
    row = session.scalars(select(CrowdFloor)).one_or_none()
    if row is None:
        row = CrowdFloor(organization_id=principal.organization_id)
        session.add(row)
    row.min_crowd_size = size
    row.updated_at = utcnow()
    session.flush()
    return {"min_crowd_size": row.min_crowd_size}


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
