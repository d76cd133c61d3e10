"""People counters as a data-quality question: a store whose counter normally reports, on a
day it sold and the counter sent nothing, has its visitors fall back to identified visits —
usually none — which would read as a fall in traffic (docs/diagnosis.md, "Why it moved")."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from fractions import Fraction

from newretail.diagnosis import metrics
from newretail.diagnosis.decomposition import PeriodTotals
from newretail.diagnosis.metrics import StoreDay


def counter_reports_normally(days: Iterable[StoreDay]) -> bool:
    """Whether the store's counter normally reports: it reported on at least half of the
    store-days on which the store sold."""
    selling = [d for d in days if d.metrics.transactions > 0]
    counted = [d for d in selling if d.footfall is not None]
    return bool(selling) and 2 * len(counted) >= len(selling)


def silent_days(days: Iterable[StoreDay], normal: bool) -> tuple[StoreDay, ...]:
    """The store-days on which the store sold and its counter, which normally reports, sent
    nothing."""
    return tuple(d for d in days if normal and d.metrics.transactions > 0 and d.footfall is None)


def silent_days_by_store(
    base: Iterable[StoreDay], comparison: Iterable[StoreDay]
) -> dict[str | None, tuple[tuple[date, ...], tuple[date, ...]]]:
    """Each store's silent-counter days in the base and the comparison period (stores with
    none are absent)."""
    by_store: dict[str | None, tuple[list[StoreDay], list[StoreDay]]] = {}
    for index, rows in enumerate((base, comparison)):
        for row in rows:
            by_store.setdefault(row.store_id, ([], []))[index].append(row)
    found = {}
    for store, (before, now) in by_store.items():
        normal = counter_reports_normally([*before, *now])
        days = tuple(tuple(d.day for d in silent_days(each, normal)) for each in (before, now))
        if days[0] or days[1]:
            found[store] = (days[0], days[1])
    return found


def _half_up(value: Fraction) -> int:
    """The nearest whole number, halves up (visitors are never negative)."""
    return int((value + Fraction(1, 2)).__floor__())


def corrected_totals(
    days: Sequence[StoreDay], normal: bool, fallback: Sequence[StoreDay] = ()
) -> tuple[PeriodTotals, PeriodTotals, tuple[StoreDay, ...], int]:
    """The period's figures as counted and with silent-counter days estimated (visitors =
    the day's buyers ÷ the conversion of the period's counted days, else of `fallback`'s,
    rounded half up), the silent days and the visitors estimated for them."""
    total = metrics.total(days)
    raw = PeriodTotals(total.visitors, total.buyers, total.gmv)
    silent = silent_days(days, normal)
    if not silent:
        return raw, raw, (), 0
    counted = [d for d in days if d.footfall is not None and d.metrics.buyers > 0]
    if not counted:
        counted = [d for d in fallback if d.footfall is not None and d.metrics.buyers > 0]
    if not counted:
        return raw, raw, silent, 0
    visitors = sum(d.metrics.visitors for d in counted)
    buyers = sum(d.metrics.buyers for d in counted)
    estimated = sum(_half_up(Fraction(d.metrics.buyers * visitors, buyers)) for d in silent)
    kept = total.visitors - sum(d.metrics.visitors for d in silent)
    return raw, PeriodTotals(kept + estimated, total.buyers, total.gmv), silent, estimated


def days_without_events(
    rows: Iterable[StoreDay], stores: Iterable[str], days: Sequence[date]
) -> dict[str, tuple[date, ...]]:
    """Of `stores` (ids of stores expected to report: open, not warehouses, with events in
    the period or the one compared with), the days of `days` on which nothing arrived from
    the store — no sale, visit, view or count: a till or a feed that stopped. Stores that
    missed no day are absent."""
    seen: dict[str | None, set[date]] = {}
    for row in rows:
        seen.setdefault(row.store_id, set()).add(row.day)
    found = {}
    for store in stores:
        missing = tuple(day for day in days if day not in seen.get(store, set()))
        if missing:
            found[store] = missing
    return found
