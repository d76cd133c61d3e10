"""Peer tiers: stores tiered by last-30-day GMV within their peer group (main category ×
format), each metric against its peer cell's mean, median and 90th percentile, graded.

Pure functions of plain figures (no database, no warehouse); docs/diagnosis.md, "Peer tiers",
states every rule:

- tier 1: GMV ≤ 0; among the group's stores with GMV > 0, the percentile rank of a store is
  the share of them whose GMV is at or below its own (`100 × #{g ≤ gᵢ} / n`, so equal GMVs
  share a rank and a tier); the store is in tier 2 plus the number of cut-points its rank is
  strictly above (defaults 40, 65, 85, 95, 99: tier 7 when fewer than 1 % of the group sold
  more). Compared in exact integer arithmetic.
- statistics of a peer cell (group, tier): mean, median, 10th and 90th percentile by linear
  interpolation between order statistics (numpy's default, Hyndman and Fan's type 7), computed
  exactly in fractions; withheld below `min_peers` stores (or values) in the cell.
- grades: excellent ≥ p90, good ≥ median, poor < median (for a lower-is-better metric:
  excellent ≤ p10, good ≤ median, poor > median).
- the next tier: the least GMV at which the store, everyone else unchanged, would be in a
  higher tier; always a peer's GMV (or one currency unit for a store without sales).
"""

from __future__ import annotations

import bisect
import itertools
import math
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from enum import StrEnum
from fractions import Fraction
from typing import Annotated, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, field_validator

from newretail.diagnosis.errors import InvalidPeerInput, PeerWithholding
from newretail.tenancy.models import ChannelType

Number = Decimal | float
MetricValue = Decimal | float | int | None

# the formats stores are compared within; a warehouse sells to no one
PEER_FORMATS = frozenset(ChannelType) - {ChannelType.WAREHOUSE}
TOP_DECILE = Fraction(90)
BOTTOM_DECILE = Fraction(10)
MEDIAN = Fraction(50)


class TierConfig(BaseModel):
    """How stores are tiered and which peer figures may be shown.

    `cut_points`: the percentile ranks (exclusive lower bounds) of tiers 3, 4, …; tier 2 is
    every store with sales at or below the first, so there are `len(cut_points) + 2` tiers.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    cut_points: tuple[Decimal, ...] = (
        Decimal(40),
        Decimal(65),
        Decimal(85),
        Decimal(95),
        Decimal(99),
    )
    min_peers: Annotated[int, Field(ge=1)] = 5
    lower_is_better: frozenset[str] = frozenset()
    currency_unit: Annotated[Decimal, Field(gt=0)] = Decimal("0.01")

    @field_validator("cut_points")
    @classmethod
    def _increasing_within_0_100(cls, cuts: tuple[Decimal, ...]) -> tuple[Decimal, ...]:
        if not cuts:
            raise ValueError("cut_points needs at least one percentile")
        for cut in cuts:
            if not cut.is_finite() or not 0 < cut < 100:
                raise ValueError(f"cut_points must lie strictly between 0 and 100: {cut} does not")
        for lower, upper in itertools.pairwise(cuts):
            if upper <= lower:
                raise ValueError(f"cut_points must increase strictly: {upper} follows {lower}")
        return cuts

    @property
    def top_tier(self) -> int:
        """The highest tier (7 with the default cut-points)."""
        return len(self.cut_points) + 2


class Grade(StrEnum):
    """A store's metric against its peer cell."""

    EXCELLENT = "excellent"
    GOOD = "good"
    POOR = "poor"


@dataclass(frozen=True, order=True)
class PeerGroup:
    """Stores compared with each other: one main category in one format."""

    category: str
    format: ChannelType


@dataclass(frozen=True)
class StoreFigures:
    """What a store is tiered and graded on: its last-30-day GMV and any metrics by name
    (None: the metric has no value for the store, e.g. conversion without visitors)."""

    store_id: uuid.UUID
    category: str
    format: ChannelType
    gmv_30d: Decimal
    metrics: Mapping[str, MetricValue] = field(default_factory=dict)

    @property
    def group(self) -> PeerGroup:
        """The store's peer group."""
        return PeerGroup(self.category, self.format)


@dataclass(frozen=True)
class MetricStatistics:
    """A metric over the stores of a peer cell that have a value of it."""

    values: int
    mean: Number
    median: Number
    p10: Number
    p90: Number


@dataclass(frozen=True)
class MetricBenchmark:
    """A peer cell's statistics of one metric, or why they are withheld."""

    statistics: MetricStatistics | None
    withheld: PeerWithholding | None = None


@dataclass(frozen=True)
class PeerCell:
    """The stores of one tier of one peer group, and their metrics' statistics."""

    group: PeerGroup
    tier: int
    stores: int
    withheld: PeerWithholding | None
    metrics: Mapping[str, MetricBenchmark]


@dataclass(frozen=True)
class MetricGrade:
    """A store's value of a metric, graded against its cell (or why it is not graded)."""

    value: MetricValue
    grade: Grade | None
    withheld: PeerWithholding | None = None


@dataclass(frozen=True)
class StoreTier:
    """A store's tier in its group, the GMV it lacks for the next one, and its grades."""

    store_id: uuid.UUID
    group: PeerGroup
    tier: int
    gmv_30d: Decimal
    percentile_rank: float | None  # among the group's stores with sales; None in tier 1
    gmv_to_next_tier: Decimal | None
    next_tier_withheld: PeerWithholding | None
    grades: Mapping[str, MetricGrade]


@dataclass(frozen=True)
class PeerTiers:
    """Every store's tier and grades, and every non-empty peer cell."""

    stores: Mapping[uuid.UUID, StoreTier]
    cells: Mapping[tuple[PeerGroup, int], PeerCell]

    def cell_of(self, store_id: uuid.UUID) -> PeerCell:
        """The peer cell a store is compared with."""
        store = self.stores[store_id]
        return self.cells[(store.group, store.tier)]


def percentile(sorted_values: Sequence[Fraction], q: Fraction) -> Fraction:
    """The q-th percentile (0 ≤ q ≤ 100) of ascending values by linear interpolation between
    order statistics, as numpy.percentile's default: h = (n − 1)·q/100,
    x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋ + 1] − x[⌊h⌋]). Exact."""
    if not sorted_values:
        raise ValueError("percentile of no values")
    position = (len(sorted_values) - 1) * q / 100
    below = math.floor(position)
    if below == len(sorted_values) - 1:
        return sorted_values[below]
    low, high = sorted_values[below], sorted_values[below + 1]
    return low + (position - below) * (high - low)


def tier_of(at_or_below: int, with_sales: int, cut_points: Sequence[Decimal]) -> int:
    """The tier of a store with sales, from the number of its group's stores with sales
    (itself included) whose GMV is at or below its own: 2 plus the cut-points its percentile
    rank 100·at_or_below/with_sales is strictly above."""
    return 2 + sum(1 for cut in cut_points if 100 * at_or_below > Fraction(cut) * with_sales)


def tier_peers(stores: Iterable[StoreFigures], config: TierConfig | None = None) -> PeerTiers:
    """Tier every store within its peer group, publish each peer cell's statistics when it
    holds enough stores, and grade each store's metrics against its cell."""
    config = config or TierConfig()
    figures = _checked(stores)
    metric_names = sorted({name for store in figures for name in store.metrics})
    by_group: dict[PeerGroup, list[StoreFigures]] = defaultdict(list)
    for store in figures:
        by_group[store.group].append(store)

    placed: dict[uuid.UUID, _Placement] = {}
    for group_stores in by_group.values():
        placed.update(_place_group(group_stores, config))

    members: dict[tuple[PeerGroup, int], list[StoreFigures]] = defaultdict(list)
    for store in figures:
        members[(store.group, placed[store.store_id].tier)].append(store)
    cells: dict[tuple[PeerGroup, int], PeerCell] = {}
    exact: dict[tuple[PeerGroup, int], dict[str, _ExactStatistics]] = {}
    for key in sorted(members):
        cells[key], exact[key] = _cell(key, members[key], metric_names, config)

    tiers: dict[uuid.UUID, StoreTier] = {}
    for store in figures:
        tier, rank, gap, gap_withheld = placed[store.store_id]
        cell = cells[(store.group, tier)]
        grades = {
            name: _grade(store.metrics.get(name), cell, exact[(store.group, tier)], name, config)
            for name in metric_names
        }
        tiers[store.store_id] = StoreTier(
            store.store_id, store.group, tier, store.gmv_30d, rank, gap, gap_withheld, grades
        )
    return PeerTiers(stores=tiers, cells=cells)


def _checked(stores: Iterable[StoreFigures]) -> list[StoreFigures]:
    figures = list(stores)
    seen: set[uuid.UUID] = set()
    for store in figures:
        if store.store_id in seen:
            raise InvalidPeerInput(f"store {store.store_id} is given twice", field="store_id")
        seen.add(store.store_id)
        if store.format not in PEER_FORMATS:
            raise InvalidPeerInput(
                f"store {store.store_id}: a {store.format} has no peers to be tiered with",
                field="format",
            )
        if not store.gmv_30d.is_finite():
            raise InvalidPeerInput(f"store {store.store_id}: GMV is not a number", field="gmv_30d")
        for name, value in store.metrics.items():
            if isinstance(value, bool) or (value is not None and not _finite(value)):
                raise InvalidPeerInput(
                    f"store {store.store_id}: metric {name} is {value!r}, not a finite number",
                    field=name,
                )
    return figures


def _finite(value: Decimal | float | int) -> bool:
    return value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)


class _Placement(NamedTuple):
    tier: int
    rank: float | None
    gap: Decimal | None
    gap_withheld: PeerWithholding | None


def _place_group(stores: list[StoreFigures], config: TierConfig) -> dict[uuid.UUID, _Placement]:
    """Tier, percentile rank and next-tier amount of each store of one peer group."""
    with_sales = sorted(store.gmv_30d for store in stores if store.gmv_30d > 0)
    count = len(with_sales)
    # the percentile each tier starts above: tier 2 above 0 (any sale), tier 3 above the first cut
    starts = [Fraction(0), *(Fraction(cut) for cut in config.cut_points)]
    placed: dict[uuid.UUID, _Placement] = {}
    for store in stores:
        gmv = store.gmv_30d
        if gmv > 0:
            at_or_below = bisect.bisect_right(with_sales, gmv)
            tier = tier_of(at_or_below, count, config.cut_points)
            rank: float | None = 100 * at_or_below / count
            # the store's own place in `with_sales` (the first of its equals), skipped below
            itself = bisect.bisect_left(with_sales, gmv)
            others = count - 1
        else:
            tier, rank, itself, others = 1, None, count, count
        if tier == config.top_tier:
            placed[store.store_id] = _Placement(tier, rank, None, PeerWithholding.TOP_TIER)
            continue
        # with a GMV g > 0 the store's rank would be 100·(#{others ≤ g} + 1)/(others + 1);
        # the next tier needs it above starts[tier - 1]: #{others ≤ g} ≥ k, k as below
        # (only a store without sales needs k = 0: any sale lifts it to tier 2 or above)
        needed = math.floor(starts[tier - 1] * (others + 1) / 100)
        if needed == 0:
            placed[store.store_id] = _Placement(tier, rank, config.currency_unit - gmv, None)
        elif others < config.min_peers:
            # the amount would be a peer's GMV: shown only among enough peers
            placed[store.store_id] = _Placement(tier, rank, None, PeerWithholding.TOO_FEW_STORES)
        else:
            # the k-th smallest GMV of the others
            index = needed - 1 if needed - 1 < itself else needed
            placed[store.store_id] = _Placement(tier, rank, with_sales[index] - gmv, None)
    return placed


@dataclass(frozen=True)
class _ExactStatistics:
    median: Fraction
    p10: Fraction
    p90: Fraction


def _cell(
    key: tuple[PeerGroup, int],
    stores: list[StoreFigures],
    metric_names: list[str],
    config: TierConfig,
) -> tuple[PeerCell, dict[str, _ExactStatistics]]:
    group, tier = key
    if len(stores) < config.min_peers:
        withheld = {
            name: MetricBenchmark(None, PeerWithholding.TOO_FEW_STORES) for name in metric_names
        }
        return PeerCell(group, tier, len(stores), PeerWithholding.TOO_FEW_STORES, withheld), {}
    benchmarks: dict[str, MetricBenchmark] = {}
    exact: dict[str, _ExactStatistics] = {}
    for name in metric_names:
        raw = [value for store in stores if (value := store.metrics.get(name)) is not None]
        if len(raw) < config.min_peers:
            benchmarks[name] = MetricBenchmark(None, PeerWithholding.TOO_FEW_VALUES)
            continue
        as_float = any(isinstance(value, float) for value in raw)
        values = sorted(Fraction(value) for value in raw)
        exact[name] = _ExactStatistics(
            percentile(values, MEDIAN),
            percentile(values, BOTTOM_DECILE),
            percentile(values, TOP_DECILE),
        )
        mean = sum(values, Fraction(0)) / len(values)
        figures = [mean, exact[name].median, exact[name].p10, exact[name].p90]
        shown = [_number(value, as_float) for value in figures]
        benchmarks[name] = MetricBenchmark(MetricStatistics(len(values), *shown))
    return PeerCell(group, tier, len(stores), None, benchmarks), exact


def _number(value: Fraction, as_float: bool) -> Number:
    if as_float:
        return float(value)
    with localcontext() as context:
        context.prec = 28
        return Decimal(value.numerator) / Decimal(value.denominator)


def _grade(
    value: MetricValue,
    cell: PeerCell,
    exact: Mapping[str, _ExactStatistics],
    name: str,
    config: TierConfig,
) -> MetricGrade:
    if value is None:
        return MetricGrade(None, None, PeerWithholding.NO_VALUE)
    statistics = exact.get(name)
    if statistics is None:
        return MetricGrade(value, None, cell.metrics[name].withheld)
    # a lower-is-better metric is graded on its negation: -x ≥ -p10 ⇔ x ≤ p10
    sign = -1 if name in config.lower_is_better else 1
    mine = sign * Fraction(value)
    top = sign * (statistics.p10 if sign < 0 else statistics.p90)
    if mine >= top:
        return MetricGrade(value, Grade.EXCELLENT)
    if mine >= sign * statistics.median:
        return MetricGrade(value, Grade.GOOD)
    return MetricGrade(value, Grade.POOR)
