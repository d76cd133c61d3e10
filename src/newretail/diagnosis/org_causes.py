"""Why the organisation's GMV moved: its change split into stores × factors (each store on its
own, silent-counter days estimated as for one store), and for each factor the stores and the
channel types (online, shop, counter, pop-up, cloud shelf, vending) that explain it — the
Adtributor search over the store and channel-type dimensions (docs/diagnosis.md, "Why it
moved"). A store's amount is its own part, so the store causes of a factor are parts of the
organisation's, which is their sum; a channel type's amount is its stores' figures added up
and split as one."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from newretail.core.localtime import today
from newretail.diagnosis import metrics
from newretail.diagnosis.adtributor import Dimension, Value, explain
from newretail.diagnosis.causes import Cause, CauseKind, CounterSilence
from newretail.diagnosis.counters import corrected_totals, counter_reports_normally
from newretail.diagnosis.decomposition import (
    Factor,
    GroupDecomposition,
    PeriodTotals,
    decompose,
    decompose_group,
)
from newretail.diagnosis.metrics import StoreDay
from newretail.diagnosis.service import Period, check_periods
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.permissions import Permission, Principal
from newretail.warehouse.connection import Warehouse


@dataclass(frozen=True)
class OrganisationCauses:
    """The organisation's (the principal's stores') change, split, and the stores that
    explain each factor."""

    time_zone: str
    period: Period
    base_period: Period
    decomposition: GroupDecomposition[str | None]
    causes: list[Cause]  # the largest amount first
    data_quality: list[Cause]


def organisation_causes(
    session: Session,
    principal: Principal,
    warehouse: Warehouse,
    first: date | None = None,
    last: date | None = None,
    base_first: date | None = None,
    base_last: date | None = None,
    no_store_label: str = "without a store",
    brand_id: uuid.UUID | None = None,
) -> OrganisationCauses:
    """Why the principal's stores' GMV moved between a period (default: the last 7 complete
    local days of the organisation) and a base (default: as many days before): the stores
    explaining each factor's part in money, and the silent people counters. With `brand_id`,
    the brand's stores only."""
    principal.require(Permission.READ)
    zone = tenancy_service.organisation_zone(session, principal.organization_id)
    period, base_period = check_periods(
        first, last, base_first, base_last, today(zone) - timedelta(days=1)
    )
    filters = tenancy_service.StoreFilter(brand_id=brand_id)
    stores = tenancy_service.all_stores(session, principal, filters)
    known = {str(s.id): s for s in stores}
    only = None if principal.store_ids is None and brand_id is None else list(known)
    with warehouse.lock:
        con = warehouse.connection()
        rows = [
            metrics.store_day_rows(
                metrics.store_day_table(
                    con,
                    str(principal.organization_id),
                    each.first,
                    each.last,
                    zone,
                    store_zones={key: s.time_zone for key, s in known.items()},
                    stores=only,
                )
            )
            for each in (base_period, period)
        ]
    by_store: dict[str | None, tuple[list[StoreDay], list[StoreDay]]] = {}
    for index, found in enumerate(rows):
        for row in found:
            key = row.store_id if row.store_id in known else None
            by_store.setdefault(key, ([], []))[index].append(row)
    keys = sorted(by_store, key=lambda k: (k is None, known[k].name if k else ""))
    totals: dict[str | None, tuple[PeriodTotals, PeriodTotals]] = {}
    quality: list[Cause] = []
    for key in keys:
        before, now = by_store[key]
        normal = key is not None and counter_reports_normally([*before, *now])
        raw_base, base, base_silent, base_estimated = corrected_totals(before, normal, now)
        raw, comparison, silent, estimated = corrected_totals(now, normal, before)
        totals[key] = (base, comparison)
        amount = (
            decompose(raw_base, raw).parts[Factor.VISITORS]
            - decompose(base, comparison).parts[Factor.VISITORS]
        )
        for name, days, count in (
            ("base", base_silent, base_estimated),
            ("comparison", silent, estimated),
        ):
            if days:
                quality.append(
                    Cause(
                        kind=CauseKind.DATA_QUALITY,
                        amount=amount,
                        factor=Factor.VISITORS,
                        dimension=Dimension.STORE,
                        key=key,
                        label=known[key].name if key else no_store_label,
                        silence=CounterSilence(
                            name,
                            tuple(d.day for d in days),
                            sum(d.metrics.visitors for d in days),
                            count,
                        ),
                    )
                )
    split = decompose_group(totals)
    values = [
        Value(key or "", known[key].name if key else no_store_label, *totals[key]) for key in keys
    ]
    channels: dict[str | None, list[str | None]] = {}
    for key in keys:
        channels.setdefault(str(known[key].channel_type) if key else None, []).append(key)
    by_channel = [
        Value(
            channel or "",
            channel or no_store_label,
            _sum(totals[k][0] for k in members),
            _sum(totals[k][1] for k in members),
            named=channel is not None,
        )
        for channel, members in sorted(channels.items(), key=lambda c: (c[0] is None, c[0] or ""))
    ]
    alone = {c or "": (m[0] or "") for c, m in channels.items() if len(m) == 1}
    return OrganisationCauses(
        time_zone=zone,
        period=period,
        base_period=base_period,
        decomposition=split,
        causes=_causes(split, values, by_channel, alone),
        data_quality=quality,
    )


def _sum(found: Iterable[PeriodTotals]) -> PeriodTotals:
    """Stores' figures added up (visitors and buyers per store-day, as a group's)."""
    visitors, buyers, gmv = 0, 0, Decimal("0.00")
    for totals in found:
        visitors, buyers, gmv = visitors + totals.visitors, buyers + totals.buyers, gmv + totals.gmv
    return PeriodTotals(visitors, buyers, gmv)


def _causes(
    split: GroupDecomposition[str | None],
    stores: Sequence[Value],
    channels: Sequence[Value],
    alone: Mapping[str, str],
) -> list[Cause]:
    """The stores and the channel types of each moved factor's explaining sets, the largest
    amount first; a channel type of one store that is itself a cause of the factor is not
    said twice (`alone`: a channel type's only store)."""
    found: list[Cause] = []
    for factor in Factor:
        part = split.parts[factor]
        if part == 0:
            continue
        said: set[str] = set()
        for dimension, values in ((Dimension.STORE, stores), (Dimension.CHANNEL, channels)):
            explanation = explain(dimension, factor, values)
            if explanation is None:
                continue
            amount = sum((c.amount for c in explanation.candidates), Decimal("0.00"))
            if (amount > 0) != (part > 0):
                continue
            for c in explanation.candidates:
                if dimension is Dimension.CHANNEL and alone.get(c.value.key, None) in said:
                    continue
                said.add(c.value.key)
                found.append(
                    Cause(
                        kind=CauseKind.BUSINESS,
                        amount=c.amount,
                        factor=factor,
                        dimension=dimension,
                        key=c.value.key,
                        label=c.value.label,
                        explanatory_power=c.explanatory_power,
                        surprise=c.surprise,
                    )
                )
    found.sort(key=lambda c: (-abs(c.amount), str(c.factor), str(c.dimension), c.label or ""))
    return found
