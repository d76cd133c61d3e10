"""What to do about a store's diagnosis: the rules that turn its weakest factor and its top
cause into recommendations, each in money and tied to an action of the platform
(docs/diagnosis.md, "Recommendations"). Every rule is here; `recommendation_flows` records
them and acts on them through the owning domains' services.

1. Data quality first: a people counter silent while the till sold → check the counter (the
   traffic part it would have shown; no commerce action).
2. The top cause is a SKU out of stock in the period → transfer units from the nearest
   location that has them available (`nearest_source`).
3. The weakest factor (the most negative part), unless the stock-out already answers it:
   conversion → an audience of the store's members who were interested in the period and did
   not buy there, and a campaign draft for them with a holdout; traffic → the store's lapsed
   buyers (bought there in the 365 days before the period, not in it); order value → the
   store's buyers of the period (for a spend-threshold offer). Each campaign draft holds out
   `HOLDOUT_PERCENT` of its audience to measure the lift.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from newretail.diagnosis.causes import Cause, StoreCauses
from newretail.diagnosis.decomposition import Factor, PeriodTotals
from newretail.diagnosis.models import RecommendationKind
from newretail.inventory.fulfilment import distance_km

Kind = RecommendationKind
HOLDOUT_PERCENT = 10  # of a campaign draft's audience, never sent its offers
CAMPAIGN_DAYS = 14  # a campaign draft's one stage: from tomorrow, two weeks
LAPSED_LOOKBACK_DAYS = 365
# what shows interest in a store (the taxonomy's interest events a store receives)
INTEREST_EVENTS = (
    "store_visit",
    "counter_approach",
    "shelf_browse",
    "product_view",
    "add_to_cart",
    "favorite",
)
PURCHASE_EVENTS = ("purchase",)
# a recommendation's cause when no searched value explains its factor, or a data-quality one
FACTOR_CAUSE = "factor"
COUNTER_SILENCE = "counter_silence"


@dataclass(frozen=True)
class Location:
    """A location that could send stock: its units of the SKU available now."""

    id: uuid.UUID
    code: str
    name: str
    city: str | None
    latitude: float | None
    longitude: float | None
    available: int


@dataclass(frozen=True)
class Proposal:
    """One recommendation: the factor and cause it answers, its amount in money, what it
    proposes (`detail` holds what acting needs)."""

    kind: RecommendationKind
    factor: Factor
    cause: str  # a searched dimension, FACTOR_CAUSE or COUNTER_SILENCE
    amount: Decimal
    factor_amount: Decimal
    cause_key: str | None = None
    cause_label: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


def weakest_factor(parts: Mapping[Factor, Decimal]) -> Factor | None:
    """The factor with the most negative part (ties in funnel order); None when none fell."""
    fallen = [f for f in Factor if parts[f] < 0]
    return min(fallen, key=lambda f: parts[f]) if fallen else None


def nearest_source(store: Location, others: Sequence[Location], wanted: int) -> Location | None:
    """Where to take stock from: among the other locations with units available, those in the
    store's city first, then the rest; within each, those with all the units wanted before
    those with fewer, then the nearest (great-circle distance where both have coordinates,
    unknown last), then by code. What inventory knows is the available stock and the
    locations' city and coordinates, not travel times."""

    def far(other: Location) -> float:
        if store.latitude is None or store.longitude is None:
            return math.inf
        if other.latitude is None or other.longitude is None:
            return math.inf
        return distance_km(store.latitude, store.longitude, other.latitude, other.longitude)

    def rank(other: Location) -> tuple[bool, bool, float, str]:
        same_city = bool(store.city) and other.city == store.city
        return (not same_city, other.available < wanted, far(other), other.code)

    found = [o for o in others if o.id != store.id and o.available > 0]
    return min(found, key=rank) if found else None


def units_to_transfer(lost: Decimal, price: Decimal | None, available: int) -> int | None:
    """The units the lost sales were worth at the store's price (rounded up), at most what
    the source has; None without a price."""
    if price is None or price <= 0:
        return None
    return max(1, min(available, math.ceil(abs(lost) / price)))


def _days(first: date, last: date) -> dict[str, str]:
    return {"from": first.isoformat(), "to": last.isoformat()}


def audience_rules(kind: RecommendationKind, store_id: str, first: date, last: date) -> Any:
    """The prefilled audience of a campaign recommendation (the audiences rule language)."""
    at_store = {"store_id": [store_id]}
    period = _days(first, last)
    not_bought = {"type": "did_not", "events": list(PURCHASE_EVENTS), **at_store, "window": period}
    if kind is Kind.INTERESTED_CAMPAIGN:
        interested = {"type": "behaviour", "events": list(INTEREST_EVENTS), **at_store}
        return {"all": [{**interested, "window": period}, not_bought]}
    if kind is Kind.LAPSED_CAMPAIGN:
        before = _days(first - timedelta(days=LAPSED_LOOKBACK_DAYS), first - timedelta(days=1))
        bought = {"type": "behaviour", "events": list(PURCHASE_EVENTS), **at_store}
        return {"all": [{**bought, "window": before}, not_bought]}
    return {"type": "behaviour", "events": list(PURCHASE_EVENTS), **at_store, "window": period}


CAMPAIGN_OF = {
    Factor.CONVERSION: Kind.INTERESTED_CAMPAIGN,
    Factor.VISITORS: Kind.LAPSED_CAMPAIGN,
    Factor.ORDER_VALUE: Kind.BUYERS_CAMPAIGN,
}


def totals_detail(totals: PeriodTotals) -> dict[str, Any]:
    """A period's figures as a recommendation keeps them (to compare a later period with)."""
    return {"visitors": totals.visitors, "buyers": totals.buyers, "gmv": str(totals.gmv)}


def propose(found: StoreCauses, transfer_plan: Callable[[Cause], dict[str, Any]]) -> list[Proposal]:
    """The recommendations of a store's diagnosis, data quality first (module docstring).
    `transfer_plan(cause)` gives a stock-out's SKU, quantity and source (inventory's view)."""
    split = found.decomposition
    parts = dict(split.parts)
    base = {"base": totals_detail(split.base)}
    proposals: list[Proposal] = []
    # the comparison period's silence first (it is the one still to fix)
    silences = [c for c in found.data_quality if c.silence is not None]
    silences.sort(key=lambda c: c.silence is None or c.silence.period != "comparison")
    for quality in silences[:1]:
        assert quality.silence is not None
        proposals.append(
            Proposal(
                kind=Kind.CHECK_COUNTER,
                factor=Factor.VISITORS,
                cause=COUNTER_SILENCE,
                amount=quality.amount,
                factor_amount=parts[Factor.VISITORS],
                detail={
                    **base,
                    "period": quality.silence.period,
                    "days": [d.isoformat() for d in quality.silence.days],
                },
            )
        )
    top = found.causes[0] if found.causes and found.causes[0].amount < 0 else None
    answered: Factor | None = None
    if top is not None and top.factor is not None and top.stock_out_days:
        answered = top.factor
        proposals.append(
            Proposal(
                kind=Kind.STOCK_TRANSFER,
                factor=top.factor,
                cause=str(top.dimension),
                amount=top.amount,
                factor_amount=parts[top.factor],
                cause_key=top.key,
                cause_label=top.label,
                detail={
                    **base,
                    "stock_out_days": [d.isoformat() for d in top.stock_out_days],
                    **transfer_plan(top),
                },
            )
        )
    weakest = weakest_factor(parts)
    if weakest is not None and weakest is not answered:
        kind = CAMPAIGN_OF[weakest]
        cause = next((c for c in found.causes if c.factor is weakest and c.amount < 0), None)
        period = found.period
        store_id = str(found.store.id)
        proposals.append(
            Proposal(
                kind=kind,
                factor=weakest,
                cause=str(cause.dimension) if cause else FACTOR_CAUSE,
                amount=cause.amount if cause else parts[weakest],
                factor_amount=parts[weakest],
                cause_key=cause.key if cause else None,
                cause_label=cause.label if cause else None,
                detail={
                    **base,
                    "rules": audience_rules(kind, store_id, period.first, period.last),
                    "holdout_percent": HOLDOUT_PERCENT,
                },
            )
        )
    return proposals
