"""Why GMV moved: the organisation's (or a store manager's stores') GMV over a period against a
comparison period, each store's change split into visitors, conversion and order value, and
the organisation's as the sum of its stores' (docs/diagnosis.md, "Why GMV moved").

Every store counts its own local days (metrics); the periods are local days of the
organisation's time zone, which labels them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from newretail.core.localtime import today
from newretail.diagnosis import counters, metrics
from newretail.diagnosis.decomposition import (
    GroupDecomposition,
    PeriodTotals,
    decompose_group,
)
from newretail.diagnosis.errors import InvalidDiagnosisPeriod
from newretail.diagnosis.metrics import Metrics
from newretail.diagnosis.store_days import StoreDays
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.models import Store
from newretail.tenancy.permissions import Permission, Principal
from newretail.warehouse.connection import Warehouse

MAX_PERIOD_DAYS = 92
DEFAULT_PERIOD_DAYS = 7


@dataclass(frozen=True)
class Period:
    """Local days first … last, inclusive."""

    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


@dataclass(frozen=True)
class StoreRef:
    """What a page shows of a store (None: events without a known store)."""

    id: uuid.UUID | None
    code: str | None
    name: str | None
    channel_type: str | None


@dataclass(frozen=True)
class StoreChange:
    """One store's figures in both periods and its decomposition."""

    store: StoreRef
    base: Metrics
    comparison: Metrics
    # days of the base and the comparison period on which the store's people counter, which
    # normally reports, was silent while the till sold (a data-quality flag)
    counter_silent: tuple[tuple[date, ...], tuple[date, ...]] = ((), ())


@dataclass(frozen=True)
class GmvChange:
    """The organisation's GMV change between two periods, split by store and factor; stores
    ranked by the size of their change (largest first, then by name)."""

    time_zone: str
    period: Period
    base_period: Period
    base: Metrics
    comparison: Metrics
    decomposition: GroupDecomposition[str | None]
    stores: list[StoreChange]


def check_periods(
    first: date | None,
    last: date | None,
    base_first: date | None,
    base_last: date | None,
    yesterday: date,
) -> tuple[Period, Period]:
    """The period (default: the last 7 complete local days up to `yesterday`) and the
    comparison base (default: as many days just before); refused by field."""
    if (first is None) != (last is None):
        field = "first_day" if first is None else "last_day"
        raise InvalidDiagnosisPeriod("give both days of the period, or neither", field=field)
    if first is None or last is None:
        last = yesterday
        first = last - timedelta(days=DEFAULT_PERIOD_DAYS - 1)
    period = _period(first, last, "first_day", "last_day")
    if (base_first is None) != (base_last is None):
        field = "base_first_day" if base_first is None else "base_last_day"
        raise InvalidDiagnosisPeriod(
            "give both days of the comparison period, or neither", field=field
        )
    if base_first is None or base_last is None:
        base_last = period.first - timedelta(days=1)
        base_first = base_last - timedelta(days=period.days - 1)
    return period, _period(base_first, base_last, "base_first_day", "base_last_day")


def _period(first: date, last: date, first_field: str, last_field: str) -> Period:
    if last < first:
        raise InvalidDiagnosisPeriod("the last day comes before the first day", field=last_field)
    found = Period(first, last)
    if found.days > MAX_PERIOD_DAYS:
        raise InvalidDiagnosisPeriod(
            f"a period holds at most {MAX_PERIOD_DAYS} days", field=last_field
        )
    return found


def gmv_change(
    session: Session,
    principal: Principal,
    warehouse: Warehouse,
    first: date | None = None,
    last: date | None = None,
    base_first: date | None = None,
    base_last: date | None = None,
    *,
    filters: tenancy_service.StoreFilter | None = None,
) -> GmvChange:
    """The GMV of the principal's stores (those of `filters`, e.g. a brand's) in a period
    against a comparison period, each store's change split into visitors, conversion and
    order value, and their sum."""
    principal.require(Permission.READ)
    zone = tenancy_service.organisation_zone(session, principal.organization_id)
    yesterday = today(zone) - timedelta(days=1)
    period, base_period = check_periods(first, last, base_first, base_last, yesterday)
    stores = tenancy_service.all_stores(
        session, principal, filters or tenancy_service.StoreFilter()
    )
    known = {str(s.id): s for s in stores}
    only = None if principal.store_ids is None and filters is None else list(known)
    zones = {key: s.time_zone for key, s in known.items()}
    organization_id = str(principal.organization_id)
    with warehouse.lock:
        reader = StoreDays(
            session.info, warehouse.connection(), organization_id, zone, store_zones=zones
        )
        # both periods in one query when they touch (a month against the month before)
        base_rows, comparison_rows = reader.read(
            [(base_period.first, base_period.last), (period.first, period.last)], stores=only
        )
    rows = {"base": base_rows, "comparison": comparison_rows}
    found = {
        name: metrics.totals_by(each, lambda row: row.store_id if row.store_id in known else None)
        for name, each in rows.items()
    }
    silent = counters.silent_days_by_store(rows["base"], rows["comparison"])
    keys = sorted(set(found["base"]) | set(found["comparison"]), key=lambda k: (k is None, k or ""))
    figures = {
        key: (found["base"].get(key, Metrics()), found["comparison"].get(key, Metrics()))
        for key in keys
    }
    split = decompose_group(
        {key: (_totals(base), _totals(comparison)) for key, (base, comparison) in figures.items()}
    )
    changes = [
        StoreChange(
            store_ref(known.get(key) if key else None),
            base,
            comparison,
            silent.get(key, ((), ())) if key else ((), ()),
        )
        for key, (base, comparison) in figures.items()
    ]
    changes.sort(key=_rank)
    return GmvChange(
        time_zone=zone,
        period=period,
        base_period=base_period,
        base=metrics.total(base for base, _ in figures.values()),
        comparison=metrics.total(comparison for _, comparison in figures.values()),
        decomposition=split,
        stores=changes,
    )


def store_key(change: StoreChange) -> str | None:
    """The key of a store's decomposition in `GmvChange.decomposition.stores`."""
    return None if change.store.id is None else str(change.store.id)


def _totals(figures: Metrics) -> PeriodTotals:
    return PeriodTotals(figures.visitors, figures.buyers, figures.gmv)


def store_ref(store: Store | None) -> StoreRef:
    """What a page shows of a store (all None: events without a known store)."""
    if store is None:
        return StoreRef(None, None, None, None)
    return StoreRef(store.id, store.code, store.name, store.channel_type)


def _rank(change: StoreChange) -> tuple[Decimal, bool, str]:
    """The largest change first (either way), then by name; events without a store last."""
    size = abs(change.comparison.gmv - change.base.gmv)
    return (-size, change.store.name is None, change.store.name or "")
