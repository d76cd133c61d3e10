"""The privacy floor of audiences' counts: the organisation's one crowd-floor rule
(tenancy.crowd_floor), named here for audiences' modules."""

from __future__ import annotations

from newretail.tenancy.crowd_floor import below_floor, shown, shown_together

__all__ = ["below_floor", "shown", "shown_together"]
