"""Pydantic reads of peer tiers (money as decimal strings to the cent, rates as floats, labels
and reasons in the reader's language)."""

from __future__ import annotations

import uuid
from decimal import Decimal

from pydantic import BaseModel

from newretail.core.i18n import Translate
from newretail.core.money import CENT
from newretail.diagnosis.decomposition import Factor
from newretail.diagnosis.errors import PeerWithholding
from newretail.diagnosis.peers import (
    LOWER_IS_BETTER,
    NO_CATEGORY,
    PEER_METRICS,
    PeerReport,
    StorePeers,
)
from newretail.diagnosis.schemas import FiguresRead, PartsRead, PeriodRead, period_read
from newretail.diagnosis.tiers import MetricValue, Number, PeerCell, PeerGroup

MONEY_METRICS = frozenset({"gmv", "order_value"})
Figure = Decimal | float | int | None


class MetricPeerRead(BaseModel):
    """A store's value of a metric against its tier: the tier's mean, median and 90th
    percentile, and the grade (or why they are withheld)."""

    metric: str
    label: str
    lower_is_better: bool
    value: Figure
    grade: str | None
    grade_label: str | None
    withheld: str | None
    withheld_label: str | None
    mean: Figure
    median: Figure
    p90: Figure


class StorePeerRead(BaseModel):
    """A store's tier within its main category × format over the last 30 local days."""

    store_id: uuid.UUID
    store_code: str
    store_name: str
    channel_type: str
    channel_label: str
    category: str | None
    category_label: str
    tier: int
    top_tier: int
    percentile_rank: float | None
    figures: FiguresRead
    gmv_to_next_tier: Decimal | None
    next_tier_withheld: str | None
    next_tier_text: str
    gap_parts: PartsRead | None
    gap_parts_withheld: str | None
    cell_stores: int
    metrics: list[MetricPeerRead]


class CellMetricRead(BaseModel):
    """A peer cell's statistics of one metric (None with the reason when withheld)."""

    metric: str
    label: str
    values: int | None
    mean: Figure
    median: Figure
    p10: Figure
    p90: Figure
    withheld: str | None
    withheld_label: str | None


class PeerCellRead(BaseModel):
    """One tier of one peer group: how many stores, and their metrics' statistics."""

    category: str | None
    category_label: str
    channel_type: str
    channel_label: str
    tier: int
    stores: int
    withheld: str | None
    metrics: list[CellMetricRead]


class TierSettingsRead(BaseModel):
    """How the stores were tiered."""

    cut_points: list[Decimal]
    top_tier: int
    min_peers: int


class PeerTiersRead(BaseModel):
    """The principal's stores tiered among their peers (docs/diagnosis.md, "Peer tiers of
    your stores")."""

    time_zone: str
    period: PeriodRead
    settings: TierSettingsRead
    stores: list[StorePeerRead]
    cells: list[PeerCellRead]


def figure(metric: str, value: MetricValue | Number | None) -> Figure:
    """A metric's value as the API shows it: money to the cent, other figures as they are."""
    if value is None:
        return None
    if metric in MONEY_METRICS:
        return Decimal(value).quantize(CENT)
    return value


def _withheld(reason: PeerWithholding | None, t: Translate) -> str | None:
    return None if reason is None else t(f"diagnosis.withheld.{reason}")


def category_label(category: str, t: Translate) -> str:
    """A group's category as shown: as entered, or "No category"."""
    return category if category != NO_CATEGORY else t("diagnosis.no_category")


def _group(group: PeerGroup, t: Translate) -> dict[str, str | None]:
    return {
        "category": group.category or None,
        "category_label": category_label(group.category, t),
        "channel_type": str(group.format),
        "channel_label": t(f"channel.{group.format}"),
    }


def next_tier_text(found: StorePeers, t: Translate) -> str:
    """ "¥X more 30-day GMV to reach tier N", or why there is no amount."""
    tier = found.tier
    if tier.gmv_to_next_tier is None:
        return t(f"diagnosis.next_tier.{tier.next_tier_withheld}", tier=tier.tier)
    amount = f"¥{tier.gmv_to_next_tier:,.2f}"
    return t("diagnosis.next_tier.amount", amount=amount, tier=tier.tier + 1)


def store_peer_read(found: StorePeers, report: PeerReport, t: Translate) -> StorePeerRead:
    """One store's tier, grades and gap in `t`'s language."""
    store, tier, cell = found.store, found.tier, found.cell
    order_value = found.figures.order_value_per_buyer
    rows = []
    for name in PEER_METRICS:
        grade = tier.grades[name]
        statistics = cell.metrics[name].statistics
        reason = grade.withheld
        rows.append(
            MetricPeerRead(
                metric=name,
                label=t(f"diagnosis.metric.{name}"),
                lower_is_better=name in LOWER_IS_BETTER,
                value=figure(name, grade.value),
                grade=None if grade.grade is None else str(grade.grade),
                grade_label=None if grade.grade is None else t(f"diagnosis.grade.{grade.grade}"),
                withheld=None if reason is None else str(reason),
                withheld_label=_withheld(reason, t),
                mean=None if statistics is None else figure(name, statistics.mean),
                median=None if statistics is None else figure(name, statistics.median),
                p90=None if statistics is None else figure(name, statistics.p90),
            )
        )
    parts = found.gap_parts
    return StorePeerRead(
        store_id=store.id,
        store_code=store.code,
        store_name=store.name,
        channel_type=store.channel_type,
        channel_label=t(f"channel.{store.channel_type}"),
        category=store.category,
        category_label=category_label(tier.group.category, t),
        tier=tier.tier,
        top_tier=report.config.top_tier,
        percentile_rank=tier.percentile_rank,
        figures=FiguresRead(
            gmv=found.figures.gmv,
            visitors=found.figures.visitors,
            buyers=found.figures.buyers,
            conversion=found.figures.conversion,
            order_value=None if order_value is None else order_value.quantize(CENT),
        ),
        gmv_to_next_tier=tier.gmv_to_next_tier,
        next_tier_withheld=None if tier.next_tier_withheld is None else tier.next_tier_withheld,
        next_tier_text=next_tier_text(found, t),
        gap_parts=None
        if parts is None
        else PartsRead(
            visitors=parts[Factor.VISITORS],
            conversion=parts[Factor.CONVERSION],
            order_value=parts[Factor.ORDER_VALUE],
        ),
        gap_parts_withheld=None if found.gap_parts_withheld is None else found.gap_parts_withheld,
        cell_stores=cell.stores,
        metrics=rows,
    )


def _cell(cell: PeerCell, t: Translate) -> PeerCellRead:
    rows = []
    for name in PEER_METRICS:
        benchmark = cell.metrics[name]
        statistics = benchmark.statistics
        rows.append(
            CellMetricRead(
                metric=name,
                label=t(f"diagnosis.metric.{name}"),
                values=None if statistics is None else statistics.values,
                mean=None if statistics is None else figure(name, statistics.mean),
                median=None if statistics is None else figure(name, statistics.median),
                p10=None if statistics is None else figure(name, statistics.p10),
                p90=None if statistics is None else figure(name, statistics.p90),
                withheld=None if benchmark.withheld is None else benchmark.withheld,
                withheld_label=_withheld(benchmark.withheld, t),
            )
        )
    return PeerCellRead(
        **_group(cell.group, t),
        tier=cell.tier,
        stores=cell.stores,
        withheld=None if cell.withheld is None else cell.withheld,
        metrics=rows,
    )


def peer_tiers_read(report: PeerReport, t: Translate) -> PeerTiersRead:
    """The tiers with names, labels and reasons in `t`'s language."""
    return PeerTiersRead(
        time_zone=report.time_zone,
        period=period_read(report.period),
        settings=TierSettingsRead(
            cut_points=list(report.config.cut_points),
            top_tier=report.config.top_tier,
            min_peers=report.config.min_peers,
        ),
        stores=[store_peer_read(s, report, t) for s in report.stores],
        cells=[_cell(c, t) for c in report.cells],
    )
