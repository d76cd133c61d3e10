"""Why a store's GMV moved: after the split into visitors, conversion and order value, the
values of SKU, category, hour of day, traffic source, campaign and stock-out that explain each
factor's part (the Adtributor search, `adtributor`; an order's source and campaign as
`order_attributes` defines them), each in cents, and the data-quality causes that make a
figure unreliable — a people counter silent while the till sells (docs/diagnosis.md, "Why it
moved").

A store-day on which the counter, which normally reports, sent nothing while the store sold
would show as a fall in traffic (and a rise in conversion). Its visitors are estimated from
the conversion of the period's counted days instead, and the silence is reported as a
data-quality cause with the traffic part it would have shown.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Any

from sqlalchemy.orm import Session

from newretail.catalog import service as catalog_service
from newretail.core.localtime import today
from newretail.databank.localdays import day_start
from newretail.diagnosis import order_attributes
from newretail.diagnosis.adtributor import Candidate, Dimension, Explanation, Value, explain, rank
from newretail.diagnosis.cause_reads import PeriodFigures, read_period
from newretail.diagnosis.counters import corrected_totals, counter_reports_normally
from newretail.diagnosis.decomposition import Decomposition, Factor, PeriodTotals, decompose
from newretail.diagnosis.service import Period, StoreRef, check_periods
from newretail.inventory import reads as inventory_reads
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.models import Store
from newretail.tenancy.permissions import Permission, Principal
from newretail.warehouse.connection import Warehouse

OTHER = "other"  # the remainder of a dimension: order totals beyond their lines
NO_CAMPAIGN = "none"  # the orders that redeemed no campaign's coupon
SEARCHED = (
    Dimension.STOCK_OUT,
    Dimension.SKU,
    Dimension.CATEGORY,
    Dimension.HOUR,
    Dimension.TRAFFIC_SOURCE,
    Dimension.CAMPAIGN,
)


class CauseKind(StrEnum):
    BUSINESS = "business"  # a value that explains a factor's part
    DATA_QUALITY = "data_quality"  # a figure that is not to be trusted


@dataclass(frozen=True)
class CounterSilence:
    """Days of a period on which a people counter that normally reports sent nothing while
    the store sold: their visitors were estimated from the period's counted days."""

    period: str  # base | comparison
    days: tuple[date, ...]
    counted_visitors: int  # what the figures held for those days (identified visits)
    estimated_visitors: int


@dataclass(frozen=True)
class Cause:
    """One cause in cents: a value explaining a factor (business) or a data-quality issue."""

    kind: CauseKind
    amount: Decimal
    factor: Factor | None = None
    dimension: Dimension | None = None
    key: str | None = None
    label: str | None = None
    explanatory_power: Fraction | None = None
    surprise: float | None = None
    stock_out_days: tuple[date, ...] = ()  # of the comparison period
    base_stock_out_days: tuple[date, ...] = ()
    silence: CounterSilence | None = None


@dataclass(frozen=True)
class StoreCauses:
    """A store's GMV change between two periods, its split, and why it moved."""

    store: StoreRef
    time_zone: str
    period: Period
    base_period: Period
    decomposition: Decomposition  # of the figures with silent days estimated
    explanations: dict[Factor, list[Explanation]]
    causes: list[Cause]  # business causes, the largest amount first
    data_quality: list[Cause] = field(default_factory=list)


# --- the search -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SkuInfo:
    """A SKU's label and category, and its stock-out days in each period."""

    label: str
    category: str
    base_stock_outs: tuple[date, ...] = ()
    stock_outs: tuple[date, ...] = ()


def _remainder(totals: PeriodTotals, parts_gmv: Decimal) -> PeriodTotals:
    rest = totals.gmv - parts_gmv
    return PeriodTotals(totals.visitors, totals.buyers if rest else 0, rest)


def dimension_values(
    base: PeriodTotals,
    comparison: PeriodTotals,
    base_figures: PeriodFigures,
    figures: PeriodFigures,
    skus: dict[str, SkuInfo],
    other_label: str,
) -> dict[Dimension, list[Value]]:
    """The values of each dimension with their figures in both periods (a value's visitors
    are the store's: a visitor is not of one SKU or hour; its buyers the distinct buyers of
    its lines or orders, per local day); SKU, category and stock-out values add up to the
    store's GMV with a remainder (order totals beyond their lines), traffic-source and campaign
    values with theirs (refunds of earlier orders; the orders without a campaign)."""

    def value(key: str, label: str, members: list[str], named: bool = True) -> Value:
        before, now = base_figures.of_skus(members), figures.of_skus(members)
        return Value(
            key,
            label,
            PeriodTotals(base.visitors, *before),
            PeriodTotals(comparison.visitors, *now),
            named,
        )

    def with_rest(values: list[Value]) -> list[Value]:
        rest_base = _remainder(base, sum((v.base.gmv for v in values), Decimal("0.00")))
        rest = _remainder(comparison, sum((v.comparison.gmv for v in values), Decimal("0.00")))
        if rest_base.gmv or rest.gmv:
            values.append(Value(OTHER, other_label, rest_base, rest, named=False))
        return values

    keys = sorted(set(base_figures.skus) | set(figures.skus))
    by_sku = [value(key, skus[key].label if key in skus else key, [key]) for key in keys]
    categories: dict[str, list[str]] = {}
    for key in keys:
        categories.setdefault(skus[key].category if key in skus else "", []).append(key)
    by_category = [
        value(category or OTHER, category or other_label, members)
        for category, members in sorted(categories.items())
    ]
    out = [k for k in keys if k in skus and (skus[k].stock_outs or skus[k].base_stock_outs)]
    stocked = [k for k in keys if k not in out]
    stock_out = [value(k, skus[k].label, [k]) for k in out]
    if stocked:
        stock_out.append(value("stocked", other_label, stocked, named=False))

    def of_orders(position: int, label: Callable[[Any], tuple[str, str, bool]]) -> list[Value]:
        """The values of an order's hour (0), traffic source (1) or campaign (2): `label`
        gives a key's (key, label, named)."""
        before, now = base_figures.by(position), figures.by(position)
        found = []
        for raw in sorted(set(before) | set(now), key=lambda k: (k is None, str(k))):
            key, name, named = label(raw)
            found.append(
                Value(
                    key,
                    name,
                    PeriodTotals(base.visitors, *before.get(raw, (0, Decimal("0.00")))),
                    PeriodTotals(comparison.visitors, *now.get(raw, (0, Decimal("0.00")))),
                    named,
                )
            )
        return found

    def hour(raw: int) -> tuple[str, str, bool]:
        return str(raw), f"{raw:02d}:00–{(raw + 1) % 24:02d}:00", True

    def source(raw: str | None) -> tuple[str, str, bool]:
        if raw is None:  # refunds of orders paid before the period
            return OTHER, other_label, False
        return raw, order_attributes.source_label(raw), True

    def campaign(raw: str | None) -> tuple[str, str, bool]:
        found = order_attributes.campaign_of(raw)
        if found is None:  # orders without a campaign, refunds of earlier ones
            return NO_CAMPAIGN if raw == "" else OTHER, other_label, False
        return found[0], found[1], True

    return {
        Dimension.STOCK_OUT: with_rest(stock_out),
        Dimension.SKU: with_rest(by_sku),
        Dimension.CATEGORY: with_rest(by_category),
        Dimension.HOUR: of_orders(0, hour),
        Dimension.TRAFFIC_SOURCE: of_orders(1, source),
        Dimension.CAMPAIGN: of_orders(2, campaign),
    }


def causes_of(
    split: Decomposition, dimensions: dict[Dimension, list[Value]]
) -> tuple[dict[Factor, list[Explanation]], list[Candidate]]:
    """Each factor's explanations (the most surprising dimension first), and the causes: the
    values of every moved factor's most surprising dimension, the largest amount first."""
    explanations: dict[Factor, list[Explanation]] = {}
    causes: list[Candidate] = []
    for factor in (Factor.CONVERSION, Factor.ORDER_VALUE):
        if split.parts[factor] == 0:
            continue
        found = rank([explain(d, factor, values) for d, values in dimensions.items()])
        # a set that explains the opposite of the factor's move is no cause of it
        found = [e for e in found if _same_sign(_amount(e), split.parts[factor])]
        explanations[factor] = found
        if found:
            causes.extend(found[0].candidates)
    causes.sort(key=lambda c: (-abs(c.amount), c.factor, c.value.label))
    return explanations, causes


def _amount(explanation: Explanation) -> Decimal:
    return sum((c.amount for c in explanation.candidates), Decimal("0.00"))


def _same_sign(first: Decimal, second: Decimal) -> bool:
    return (first > 0 and second > 0) or (first < 0 and second < 0)


# --- the use case ---------------------------------------------------------------------------


def stock_out_days(
    session: Session,
    principal: Principal,
    store: Store,
    zone: str,
    period: Period,
    open_days: set[date],
) -> dict[str, tuple[date, ...]]:
    """The SKUs out of stock at the store on days of the period: on hand 0 (or less) at the
    start of a local day on which the store had visitors or sold (stock from the inventory
    ledger)."""
    days = [period.first + timedelta(days=i) for i in range(period.days)]
    levels = inventory_reads.on_hand_at(
        session, principal, store.id, [day_start(day, zone) for day in days]
    )
    found: dict[str, tuple[date, ...]] = {}
    for sku_id, on_hand in levels.items():
        out = tuple(
            day for day, level in zip(days, on_hand, strict=True) if level <= 0 and day in open_days
        )
        if out:
            found[str(sku_id)] = out
    return found


def store_causes(
    session: Session,
    principal: Principal,
    warehouse: Warehouse,
    store_reference: str,
    first: date | None = None,
    last: date | None = None,
    base_first: date | None = None,
    base_last: date | None = None,
    other_label: str = "other",
) -> StoreCauses:
    """Why a store's GMV moved between a period (default: the last 7 complete local days of
    the store) and a base period (default: as many days just before): its split into
    visitors, conversion and order value, the values of SKU, category, hour, traffic source,
    campaign and stock-out explaining each part in cents, and the data-quality causes (a
    silent people counter)."""
    principal.require(Permission.READ)
    store = tenancy_service.visible_store(session, principal, store_reference)
    zone = store.time_zone
    period, base_period = check_periods(
        first, last, base_first, base_last, today(zone) - timedelta(days=1)
    )
    key = str(store.id)
    organization_id = str(principal.organization_id)
    with warehouse.lock:
        con = warehouse.connection()
        base_figures = read_period(con, organization_id, key, zone, base_period)
        figures = read_period(con, organization_id, key, zone, period)
    normal = counter_reports_normally([*base_figures.days, *figures.days])
    raw_base, base, base_silent, base_estimated = corrected_totals(
        base_figures.days, normal, figures.days
    )
    raw, comparison, silent, estimated = corrected_totals(figures.days, normal, base_figures.days)
    split = decompose(base, comparison)
    raw_split = decompose(raw_base, raw)
    open_base = {d.day for d in base_figures.days if d.metrics.visitors or d.metrics.transactions}
    open_now = {d.day for d in figures.days if d.metrics.visitors or d.metrics.transactions}
    base_outs = stock_out_days(session, principal, store, zone, base_period, open_base)
    outs = stock_out_days(session, principal, store, zone, period, open_now)
    sku_ids = sorted({*base_figures.skus, *figures.skus, *base_outs, *outs})
    labels = catalog_service.sku_labels(session, [uuid.UUID(s) for s in sku_ids if _is_uuid(s)])
    skus = {
        str(sku_id): SkuInfo(
            label.name,
            label.category_path,
            base_outs.get(str(sku_id), ()),
            outs.get(str(sku_id), ()),
        )
        for sku_id, label in labels.items()
    }
    dimensions = dimension_values(base, comparison, base_figures, figures, skus, other_label)
    explanations, candidates = causes_of(split, dimensions)
    causes = [_cause(c, skus) for c in candidates]
    quality = [
        Cause(
            kind=CauseKind.DATA_QUALITY,
            amount=raw_split.parts[Factor.VISITORS] - split.parts[Factor.VISITORS],
            factor=Factor.VISITORS,
            silence=CounterSilence(
                name,
                tuple(d.day for d in days),
                sum(d.metrics.visitors for d in days),
                count,
            ),
        )
        for name, days, count in (
            ("base", base_silent, base_estimated),
            ("comparison", silent, estimated),
        )
        if days
    ]
    return StoreCauses(
        store=StoreRef(store.id, store.code, store.name, store.channel_type),
        time_zone=zone,
        period=period,
        base_period=base_period,
        decomposition=split,
        explanations=explanations,
        causes=causes,
        data_quality=quality,
    )


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _cause(candidate: Candidate, skus: dict[str, SkuInfo]) -> Cause:
    info = skus.get(candidate.value.key)
    in_sku = candidate.dimension in (Dimension.SKU, Dimension.STOCK_OUT) and info is not None
    return Cause(
        kind=CauseKind.BUSINESS,
        amount=candidate.amount,
        factor=candidate.factor,
        dimension=candidate.dimension,
        key=candidate.value.key,
        label=candidate.value.label,
        explanatory_power=candidate.explanatory_power,
        surprise=candidate.surprise,
        stock_out_days=info.stock_outs if in_sku and info else (),
        base_stock_out_days=info.base_stock_outs if in_sku and info else (),
    )
