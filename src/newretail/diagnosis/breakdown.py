"""Metrics by store, brand, channel type, city or the whole organisation over any local
period against a comparison period: the store-day figures (GMV, visitors, conversion, order
value, transactions, units, refunds — metrics.py) summed per group, and the buyer figures
(distinct buyers, new and returning, repeat, members' share, across channels, coupons and
campaign GMV — customers.py) counted per group (docs/diagnosis.md, "Metrics")."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from sqlalchemy.orm import Session

from newretail.core.localtime import today
from newretail.diagnosis import customers, metrics
from newretail.diagnosis.customers import ALL, NO_GROUP, BuyerMetrics
from newretail.diagnosis.metrics import Metrics
from newretail.diagnosis.service import Period, check_periods
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.models import Store
from newretail.tenancy.permissions import Permission, Principal
from newretail.warehouse.connection import Warehouse


class GroupBy(StrEnum):
    STORE = "store"
    BRAND = "brand"
    CHANNEL = "channel"
    CITY = "city"
    ORGANISATION = "organisation"


@dataclass(frozen=True)
class GroupFigures:
    """A group's store-day figures and buyer figures in one period."""

    store_days: Metrics
    buyers: BuyerMetrics


@dataclass(frozen=True)
class GroupRow:
    """One group (key NO_GROUP: events without a known store) in both periods."""

    key: str
    name: str | None  # a store's, a brand's or a city's name; a channel type's code
    base: GroupFigures
    comparison: GroupFigures

    @property
    def change(self) -> Decimal:
        return self.comparison.store_days.gmv - self.base.store_days.gmv


@dataclass(frozen=True)
class Breakdown:
    by: GroupBy
    time_zone: str
    period: Period
    base_period: Period
    rows: list[GroupRow]  # by GMV now, largest first, then by name


def _group_of(by: GroupBy, brands: dict[str, str]) -> Callable[[Store], tuple[str, str]]:
    """A store's group: (key, name)."""
    if by is GroupBy.STORE:
        return lambda s: (str(s.id), s.name)
    if by is GroupBy.BRAND:
        return lambda s: (str(s.brand_id or ""), brands.get(str(s.brand_id), ""))
    if by is GroupBy.CHANNEL:
        return lambda s: (str(s.channel_type), str(s.channel_type))
    return lambda s: (s.city or "", s.city or "")


def metrics_by(
    session: Session,
    principal: Principal,
    warehouse: Warehouse,
    by: GroupBy,
    first: date | None = None,
    last: date | None = None,
    base_first: date | None = None,
    base_last: date | None = None,
) -> Breakdown:
    """Every metric per group over the period (default: the last 7 complete local days)
    against the base (default: as many days before); a store manager's stores only."""
    principal.require(Permission.READ)
    zone = tenancy_service.organisation_zone(session, principal.organization_id)
    yesterday = today(zone) - timedelta(days=1)
    period, base_period = check_periods(first, last, base_first, base_last, yesterday)
    stores = tenancy_service.all_stores(session, principal, tenancy_service.StoreFilter())
    brand_ids = {s.brand_id for s in stores if s.brand_id is not None}
    brands = {str(b): tenancy_service.get_brand(session, b).name for b in brand_ids}
    group = _group_of(by, brands)
    names: dict[str, str | None] = {}
    groups: dict[str, str] | None = None
    if by is not GroupBy.ORGANISATION:
        groups = {}
        for store in stores:
            key, name = group(store)
            groups[str(store.id)], names[key] = key, name
    only = None if principal.store_ids is None else [str(s.id) for s in stores]
    zones = {str(s.id): s.time_zone for s in stores}
    organization_id = str(principal.organization_id)

    def key_of(row: metrics.StoreDay) -> str:
        if groups is None:
            return ALL
        return groups.get(row.store_id or "", NO_GROUP)

    found: dict[str, dict[str, GroupFigures]] = {}
    with warehouse.lock:
        con = warehouse.connection()
        for name, each in (("base", base_period), ("comparison", period)):
            days = metrics.store_day_rows(
                metrics.store_day_table(
                    con,
                    organization_id,
                    each.first,
                    each.last,
                    zone,
                    store_zones=zones,
                    stores=only,
                )
            )
            summed = metrics.totals_by(days, key_of)
            buyers = customers.buyer_rows(
                customers.buyer_table(
                    con,
                    organization_id,
                    each.first,
                    each.last,
                    zone,
                    groups=groups,
                    store_zones=zones,
                    stores=only,
                )
            )
            for key in set(summed) | set(buyers):
                figures = GroupFigures(summed.get(key, Metrics()), buyers.get(key, BuyerMetrics()))
                found.setdefault(key, {})[name] = figures
    empty = GroupFigures(Metrics(), BuyerMetrics())
    rows = [
        GroupRow(
            key,
            None if key in (ALL, NO_GROUP) else names.get(key) or None,
            both.get("base", empty),
            both.get("comparison", empty),
        )
        for key, both in found.items()
    ]
    rows.sort(key=lambda r: (-r.comparison.store_days.gmv, r.key == NO_GROUP, r.name or ""))
    return Breakdown(by, zone, period, base_period, rows)
