"""Peer tiers of the organisation's stores from the warehouse (docs/diagnosis.md, "Peer tiers
of your stores"): each store's last 30 local days (metrics), tiered within its main category ×
format and graded against its peer cell (tiers), and the GMV it lacks for the next tier split
into visitors, conversion and order value.

- Main category: the store's `category` attribute (the one its operator declares, as a Tmall
  shop declares its 主营类目); stores without one are peers of each other ("no category").
- Who is tiered: every store of the organisation except warehouses, and closed stores without
  sales in the window. A store manager sees their own stores' rows, compared with every peer.
- The gap split: the next tier's typical store (its cell's visitors per store, buyers ÷
  visitors and GMV ÷ buyers: its GMV is the cell's mean) differs from the store by factors
  whose logarithms add up to ln(its GMV ÷ the store's); the gap is shared in proportion to
  them — the LMDI split of the way from the store to the next tier along the straight
  log-path to that typical store — rounded to cents adding up to the gap.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy.orm import Session

from newretail.core.errors import NotFound
from newretail.core.localtime import today
from newretail.core.settings import Settings
from newretail.diagnosis import metrics
from newretail.diagnosis.decomposition import Factor, round_parts_to_cents
from newretail.diagnosis.errors import PeerWithholding
from newretail.diagnosis.metrics import Metrics
from newretail.diagnosis.service import Period
from newretail.diagnosis.store_days import StoreDays
from newretail.diagnosis.tiers import (
    PEER_FORMATS,
    MetricValue,
    PeerCell,
    PeerGroup,
    PeerTiers,
    StoreFigures,
    StoreTier,
    TierConfig,
    tier_peers,
)
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.models import ChannelType, Store, StoreStatus
from newretail.tenancy.permissions import Permission, Principal
from newretail.warehouse.connection import Warehouse

WINDOW_DAYS = 30
NO_CATEGORY = ""
# the metrics each store is graded on, in the order pages show them
PEER_METRICS = (
    "gmv",
    "visitors",
    "conversion",
    "order_value",
    "units_per_transaction",
    "refund_rate",
)
LOWER_IS_BETTER = frozenset({"refund_rate"})
CENTS = Decimal("0.01")


def tier_config(min_peers: int = 5, cut_points: Sequence[Decimal] | None = None) -> TierConfig:
    """The tiers (default cut-points unless given) with the organisation's privacy minimum and
    the metrics graded lower-is-better."""
    if cut_points is None:
        return TierConfig(min_peers=min_peers, lower_is_better=LOWER_IS_BETTER)
    return TierConfig(
        cut_points=tuple(cut_points), min_peers=min_peers, lower_is_better=LOWER_IS_BETTER
    )


def configured(settings: Settings) -> TierConfig:
    """The tiers of the settings: NEWRETAIL_DIAGNOSIS_MIN_PEERS and
    NEWRETAIL_DIAGNOSIS_TIER_CUT_POINTS."""
    return tier_config(settings.diagnosis_min_peers, settings.tier_cut_points)


@dataclass(frozen=True)
class PeerStore:
    """What tiering needs of a store (a `tenancy.models.Store` has it)."""

    id: uuid.UUID
    code: str
    name: str
    channel_type: str
    category: str | None
    status: str


@dataclass(frozen=True)
class StorePeers:
    """A store's last-30-day figures, its tier and grades, its cell, and the GMV it lacks
    for the next tier split by factor (None with the reason when it cannot be split)."""

    store: PeerStore
    figures: Metrics
    tier: StoreTier
    cell: PeerCell
    gap_parts: Mapping[Factor, Decimal] | None
    gap_parts_withheld: PeerWithholding | None


@dataclass(frozen=True)
class PeerReport:
    """The principal's stores tiered among all their peers over the 30 local days up to
    `period.last`; stores by tier (highest first), then GMV, then name."""

    time_zone: str
    period: Period
    config: TierConfig
    stores: list[StorePeers]
    cells: list[PeerCell]  # the cells of the shown stores' groups, by group then tier

    def store(self, code: str) -> StorePeers:
        """One shown store by its code; not found otherwise."""
        for found in self.stores:
            if found.store.code == code:
                return found
        raise NotFound(f"no store with code {code!r} among your stores", field="store")


def metric_values(figures: Metrics) -> dict[str, MetricValue]:
    """The graded metrics of a store's figures (None: undefined, e.g. no visitors)."""
    refund_rate = None if figures.paid <= 0 else float(figures.refunded / figures.paid)
    return {
        "gmv": figures.gmv,
        "visitors": figures.visitors,
        "conversion": figures.conversion,
        "order_value": figures.order_value_per_buyer,
        "units_per_transaction": figures.units_per_transaction,
        "refund_rate": refund_rate,
    }


def store_metrics(
    con: Any,
    organization_id: str,
    period: Period,
    time_zone: str,
    stores: Iterable[PeerStore],
    store_zones: Mapping[str, str] | None = None,
) -> dict[uuid.UUID, Metrics]:
    """Each store's figures summed over the period's local days (one warehouse query);
    a store without events has zero figures."""
    reader = StoreDays({}, con, organization_id, time_zone, store_zones=store_zones)
    return read_store_metrics(reader, period, stores)


def read_store_metrics(
    reader: StoreDays, period: Period, stores: Iterable[PeerStore]
) -> dict[uuid.UUID, Metrics]:
    """`store_metrics` through a reader: no query when it has read those days already."""
    wanted = {str(store.id): store.id for store in stores}
    rows = reader.rows(period.first, period.last, sorted(wanted))
    found = metrics.totals_by(rows, lambda row: row.store_id)
    return {store_id: found.get(key, Metrics()) for key, store_id in wanted.items()}


def tiered(store: PeerStore, figures: Metrics) -> bool:
    """Whether a store is tiered: not a warehouse, and open or with sales in the window."""
    if store.channel_type not in PEER_FORMATS:
        return False
    return store.status != StoreStatus.CLOSED or figures.gmv > 0


def rank_stores(
    stores: Sequence[PeerStore],
    figures: Mapping[uuid.UUID, Metrics],
    config: TierConfig,
    shown: Iterable[uuid.UUID] | None = None,
) -> tuple[list[StorePeers], list[PeerCell]]:
    """Tier the stores (those `tiered`) among each other and return the `shown` ones (all by
    default) ranked, with the cells of their groups."""
    peers = [store for store in stores if tiered(store, figures[store.id])]
    found = tier_peers(
        (
            StoreFigures(
                store_id=store.id,
                category=store.category or NO_CATEGORY,
                format=ChannelType(store.channel_type),
                gmv_30d=figures[store.id].gmv,
                metrics=metric_values(figures[store.id]),
            )
            for store in peers
        ),
        config,
    )
    wanted = None if shown is None else set(shown)
    cell_figures = _cell_figures(found, figures)
    result: list[StorePeers] = []
    for store in peers:
        if wanted is not None and store.id not in wanted:
            continue
        tier = found.stores[store.id]
        parts, withheld = _gap_parts(tier, figures[store.id], found, cell_figures, config)
        result.append(
            StorePeers(store, figures[store.id], tier, found.cell_of(store.id), parts, withheld)
        )
    result.sort(key=lambda s: (-s.tier.tier, -s.figures.gmv, s.store.name, s.store.code))
    groups = {s.tier.group for s in result}
    cells = [cell for key, cell in sorted(found.cells.items()) if key[0] in groups]
    return result, cells


def _cell_figures(
    found: PeerTiers, figures: Mapping[uuid.UUID, Metrics]
) -> dict[tuple[PeerGroup, int], Metrics]:
    sums: dict[tuple[PeerGroup, int], Metrics] = {}
    for store_id, tier in found.stores.items():
        key = (tier.group, tier.tier)
        sums[key] = sums.get(key, Metrics()) + figures[store_id]
    return sums


def _gap_parts(
    tier: StoreTier,
    own: Metrics,
    found: PeerTiers,
    cell_figures: Mapping[tuple[PeerGroup, int], Metrics],
    config: TierConfig,
) -> tuple[dict[Factor, Decimal] | None, PeerWithholding | None]:
    gap = tier.gmv_to_next_tier
    if gap is None:
        return None, tier.next_tier_withheld
    if own.visitors <= 0 or own.buyers <= 0 or own.gmv <= 0:
        return None, PeerWithholding.NO_VALUE  # no factors to grow (a store without sales)
    above = sorted(t for g, t in found.cells if g == tier.group and t > tier.tier)
    target = found.cells[(tier.group, above[0])]
    if target.stores < config.min_peers:
        return None, PeerWithholding.TOO_FEW_STORES
    cell = cell_figures[(tier.group, target.tier)]
    if cell.visitors <= 0 or cell.buyers <= 0 or cell.gmv <= 0:
        return None, PeerWithholding.TOO_FEW_VALUES
    typical = {
        Factor.VISITORS: Fraction(cell.visitors, target.stores),
        Factor.CONVERSION: Fraction(cell.buyers, cell.visitors),
        Factor.ORDER_VALUE: Fraction(cell.gmv) / cell.buyers,
    }
    mine = {
        Factor.VISITORS: Fraction(own.visitors),
        Factor.CONVERSION: Fraction(own.buyers, own.visitors),
        Factor.ORDER_VALUE: Fraction(own.gmv) / own.buyers,
    }
    logs = {factor: math.log(typical[factor] / mine[factor]) for factor in Factor}
    whole = sum(logs.values())
    cents = int(gap / CENTS)
    exact = {factor: Fraction(cents) * Fraction(logs[factor] / whole) for factor in Factor}
    rounded = round_parts_to_cents(exact, cents, list(Factor))
    return {factor: Decimal(rounded[factor]) * CENTS for factor in Factor}, None


def window(last: date) -> Period:
    """The 30 local days ending on `last`."""
    return Period(last - timedelta(days=WINDOW_DAYS - 1), last)


def peer_tiers(
    session: Session,
    principal: Principal,
    warehouse: Warehouse,
    config: TierConfig | None = None,
    last_day: date | None = None,
) -> PeerReport:
    """The principal's stores tiered by their last-30-local-day GMV among every store of the
    organisation in the same main category and format, graded against their tier, with the
    GMV each lacks for the next tier split by factor."""
    principal.require(Permission.READ)
    config = config or tier_config()
    zone = tenancy_service.organisation_zone(session, principal.organization_id)
    period = window(last_day or today(zone) - timedelta(days=1))
    every = tenancy_service.organisation_stores(session, principal)
    stores = [_peer_store(s) for s in every]
    zones = {str(s.id): s.time_zone for s in every}
    with warehouse.lock:
        # the month's store-days already read by this unit of work (a GMV change of the same
        # days) are not read again
        reader = StoreDays(
            session.info,
            warehouse.connection(),
            str(principal.organization_id),
            zone,
            store_zones=zones,
        )
        figures = read_store_metrics(reader, period, stores)
    shown = None if principal.store_ids is None else principal.store_ids
    ranked, cells = rank_stores(stores, figures, config, shown)
    return PeerReport(zone, period, config, ranked, cells)


def _peer_store(store: Store) -> PeerStore:
    return PeerStore(
        store.id, store.code, store.name, store.channel_type, store.category, store.status
    )
