"""The operations centre at a glance (the console's home page): today so far and yesterday for
the principal's stores against the same weekday last week — GMV, visitors, conversion, order
value — and the alerts: data-quality issues of yesterday and the stores whose GMV dropped the
most (docs/diagnosis.md, "The console's home page").

One warehouse query reads the four days shown and nothing else: today up to now and last
week's day up to the same local time, yesterday and last week's yesterday whole. The console
keeps the answer for a short while (`max_age`, NEWRETAIL_DIAGNOSIS_HOME_CACHE_SECONDS) and
only while the warehouse's events are unchanged (`Warehouse.events_marker`): a manager opening
the console again, or several managers of one organisation, do not each read the warehouse;
the page says up to which local time today's figures go.
"""

from __future__ import annotations

import threading
import time as clock
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from newretail.core.localtime import local_day, local_day_bounds, to_local
from newretail.diagnosis import metrics
from newretail.diagnosis.decomposition import (
    Decomposition,
    Period,
    PeriodTotals,
    QualityIssue,
    decompose,
)
from newretail.diagnosis.metrics import Metrics
from newretail.diagnosis.service import StoreRef, store_ref
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.models import ChannelType, Store, StoreStatus
from newretail.tenancy.permissions import Permission, Principal
from newretail.warehouse.connection import Warehouse

WEEK = timedelta(days=7)
WHOLE_DAY = timedelta(days=1)
MAX_DROPS = 5
NO_EVENTS = "no_events"  # an alert of its own: events last week, none yesterday
CACHED_GLANCES = 256  # the answers kept (organisation × the principal's stores), oldest out


@dataclass(frozen=True)
class DayGlance:
    """A day's figures against the same weekday a week before (`until`: both read up to this
    local time, for today)."""

    day: date
    week_before: date
    now: Metrics
    before: Metrics
    until: time | None = None


@dataclass(frozen=True)
class StoreDrop:
    """A store whose GMV yesterday was below last week's, split by factor."""

    store: StoreRef
    before: Metrics
    now: Metrics
    decomposition: Decomposition


@dataclass(frozen=True)
class QualityAlert:
    """What makes a store's figures of yesterday unreliable: decomposition flags of
    yesterday, or `no_events`."""

    store: StoreRef
    issues: tuple[str, ...]


@dataclass(frozen=True)
class Glance:
    """Today and yesterday of the principal's stores, and the alerts."""

    time_zone: str
    as_of: datetime
    today: DayGlance
    yesterday: DayGlance
    drops: list[StoreDrop]
    quality: list[QualityAlert]


def _totals(figures: Metrics) -> PeriodTotals:
    return PeriodTotals(figures.visitors, figures.buyers, figures.gmv)


@dataclass(frozen=True)
class _Kept:
    marker: int
    at: float  # time.monotonic() when computed
    glance: Glance


_kept: OrderedDict[tuple[object, ...], _Kept] = OrderedDict()
_kept_lock = threading.Lock()


def at_a_glance(
    session: Session,
    principal: Principal,
    warehouse: Warehouse,
    now: datetime | None = None,
    max_age: float = 0,
) -> Glance:
    """Today so far and yesterday against the same weekday last week (today up to the same
    local time), the stores whose GMV fell the most yesterday, and yesterday's data-quality
    issues, from one warehouse query over those four days. With `max_age` (seconds; not with
    `now`), an answer computed at most that long ago for the same stores is given again while
    the warehouse's events are unchanged and the organisation's local day is the same."""
    principal.require(Permission.READ)
    zone = tenancy_service.organisation_zone(session, principal.organization_id)
    stores = tenancy_service.all_stores(session, principal, tenancy_service.StoreFilter())
    moment = now or datetime.now(UTC)
    if now is not None or max_age <= 0:
        return _glance(principal, warehouse, zone, stores, moment)
    marker = warehouse.events_marker()
    if marker is None:
        return _glance(principal, warehouse, zone, stores, moment)
    key = (
        warehouse.url,
        principal.organization_id,
        None if principal.store_ids is None else frozenset(principal.store_ids),
        zone,
        local_day(moment, zone),
        tuple(
            (s.id, s.code, s.name, s.channel_type, s.time_zone, s.status, s.category)
            for s in stores
        ),
    )
    with _kept_lock:
        kept = _kept.get(key)
    if kept is not None and kept.marker == marker and clock.monotonic() - kept.at <= max_age:
        return kept.glance
    found = _glance(principal, warehouse, zone, stores, moment)
    with _kept_lock:
        _kept[key] = _Kept(marker, clock.monotonic(), found)
        _kept.move_to_end(key)
        while len(_kept) > CACHED_GLANCES:
            _kept.popitem(last=False)
    return found


def _glance(
    principal: Principal,
    warehouse: Warehouse,
    zone: str,
    stores: Sequence[Store],
    moment: datetime,
) -> Glance:
    today = local_day(moment, zone)
    elapsed = moment - local_day_bounds(today, zone)[0]
    yesterday = today - timedelta(days=1)
    days = {
        today: elapsed,
        today - WEEK: elapsed,
        yesterday: WHOLE_DAY,
        yesterday - WEEK: WHOLE_DAY,
    }
    known = {str(s.id): s for s in stores}
    only = None if principal.store_ids is None else list(known)
    with warehouse.lock:
        rows = metrics.store_day_rows(
            metrics.store_day_table(
                warehouse.connection(),
                str(principal.organization_id),
                min(days),
                max(days),
                zone,
                store_zones={key: s.time_zone for key, s in known.items()},
                stores=only,
                days=days,
            )
        )
    by_day = metrics.totals_by(rows, lambda row: row.day)
    by_store_day = metrics.totals_by(rows, lambda row: (row.store_id, row.day))

    def glance(day: date, until: time | None) -> DayGlance:
        before = day - WEEK
        return DayGlance(
            day, before, by_day.get(day, Metrics()), by_day.get(before, Metrics()), until
        )

    drops: list[StoreDrop] = []
    quality: list[QualityAlert] = []
    for key, store in known.items():
        now_figures = by_store_day.get((key, yesterday), Metrics())
        before = by_store_day.get((key, yesterday - WEEK), Metrics())
        split = decompose(_totals(before), _totals(now_figures))
        if now_figures.gmv < before.gmv:
            drops.append(StoreDrop(store_ref(store), before, now_figures, split))
        issues = sorted(
            {
                str(f.issue)
                for f in split.flags
                if f.period == Period.COMPARISON and not _not_news(f.issue, store, before)
            }
        )
        silent = (
            (key, yesterday) not in by_store_day
            and (key, yesterday - WEEK) in by_store_day
            and store.status != StoreStatus.CLOSED
            and store.channel_type != ChannelType.WAREHOUSE
        )
        if silent:
            issues.append(NO_EVENTS)
        if issues:
            quality.append(QualityAlert(store_ref(store), tuple(issues)))
    drops.sort(key=lambda d: (d.now.gmv - d.before.gmv, d.store.name or ""))
    quality.sort(key=lambda q: q.store.name or "")
    until = to_local(moment, zone).time().replace(microsecond=0)
    return Glance(
        time_zone=zone,
        as_of=moment,
        today=glance(today, until),
        yesterday=glance(yesterday, None),
        drops=drops[:MAX_DROPS],
        quality=quality,
    )


VISITOR_ISSUES = (QualityIssue.BUYERS_WITHOUT_VISITORS, QualityIssue.CONVERSION_ABOVE_ONE)


def _not_news(issue: str, store: Store, before: Metrics) -> bool:
    """Visitor flags that say how a store is equipped, not what went wrong yesterday: any at a
    vending machine (its visitors are only the identified people who used it, so its buyers
    usually outnumber them), and buyers without visitors at a store that counted none the week
    before either. The store's own pages still show them."""
    if issue in VISITOR_ISSUES and store.channel_type == ChannelType.VENDING:
        return True
    return issue == QualityIssue.BUYERS_WITHOUT_VISITORS and before.visitors == 0


def largest_fall(split: Decomposition) -> str | None:
    """The factor that took the most GMV away (None when none did)."""
    worst = min(split.parts.items(), key=lambda item: (item[1], list(split.parts).index(item[0])))
    return str(worst[0]) if worst[1] < Decimal(0) else None
