"""Pydantic reads of the diagnosis API: why GMV moved (money as decimal strings, ISO dates)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal

from pydantic import BaseModel

from newretail.core.i18n import Translate
from newretail.core.money import CENT
from newretail.diagnosis.decomposition import Decomposition, Factor
from newretail.diagnosis.metrics import Metrics
from newretail.diagnosis.service import GmvChange, Period, StoreChange, store_key


class PeriodRead(BaseModel):
    """Local days first … last, inclusive."""

    first_day: date
    last_day: date
    days: int


class FiguresRead(BaseModel):
    """A period's GMV and its factors: visitors × conversion × order value."""

    gmv: Decimal
    visitors: int
    buyers: int
    conversion: float | None  # buyers ÷ visitors
    order_value: Decimal | None  # GMV ÷ buyers, to the cent


class PartsRead(BaseModel):
    """The change split into its three factors, in money."""

    visitors: Decimal
    conversion: Decimal
    order_value: Decimal


class FlagRead(BaseModel):
    """A data-quality issue of one period, with its text."""

    issue: str
    period: str
    text: str


class StoreChangeRead(BaseModel):
    """One store's GMV in both periods and its change split by factor (store None: events
    without a known store)."""

    store_id: uuid.UUID | None
    store_code: str | None
    store_name: str
    channel_type: str | None
    channel_label: str | None
    base: FiguresRead
    comparison: FiguresRead
    change: Decimal
    parts: PartsRead
    unattributed: Decimal
    method: str
    method_label: str
    flags: list[FlagRead]


class OrganisationChangeRead(BaseModel):
    """The organisation's (the principal's stores') GMV change: the sum of its stores'."""

    base: FiguresRead
    comparison: FiguresRead
    change: Decimal
    parts: PartsRead
    unattributed: Decimal


class GmvChangeRead(BaseModel):
    """Why GMV moved between a base period and a comparison period (docs/diagnosis.md)."""

    time_zone: str
    period: PeriodRead
    base_period: PeriodRead
    organisation: OrganisationChangeRead
    stores: list[StoreChangeRead]


def day_runs(days: Sequence[date]) -> str:
    """Days as runs of consecutive days: '2026-11-10 – 2026-11-12, 2026-11-14'."""
    runs: list[tuple[date, date]] = []
    for day in sorted(days):
        if runs and day == runs[-1][1] + timedelta(days=1):
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return ", ".join(
        first.isoformat() if first == last else f"{first.isoformat()} – {last.isoformat()}"
        for first, last in runs
    )


def period_read(period: Period) -> PeriodRead:
    return PeriodRead(first_day=period.first, last_day=period.last, days=period.days)


def _figures(figures: Metrics) -> FiguresRead:
    value = figures.order_value_per_buyer
    return FiguresRead(
        gmv=figures.gmv,
        visitors=figures.visitors,
        buyers=figures.buyers,
        conversion=figures.conversion,
        order_value=None if value is None else value.quantize(CENT),
    )


def _parts(parts: Mapping[Factor, Decimal]) -> PartsRead:
    return PartsRead(
        visitors=parts[Factor.VISITORS],
        conversion=parts[Factor.CONVERSION],
        order_value=parts[Factor.ORDER_VALUE],
    )


def _store(change: StoreChange, split: Decomposition, t: Translate) -> StoreChangeRead:
    store = change.store
    channel = store.channel_type
    flags = sorted(split.flags, key=lambda f: (f.period != "base", f.issue))
    return StoreChangeRead(
        store_id=store.id,
        store_code=store.code,
        store_name=store.name or t("diagnosis.no_store"),
        channel_type=channel,
        channel_label=t(f"channel.{channel}") if channel else None,
        base=_figures(change.base),
        comparison=_figures(change.comparison),
        change=split.change,
        parts=_parts(split.parts),
        unattributed=split.unattributed,
        method=split.method,
        method_label=t(f"diagnosis.method.{split.method}"),
        flags=[
            FlagRead(
                issue=f.issue,
                period=f.period,
                text=t(
                    f"diagnosis.flag.{f.issue}",
                    period=t(f"diagnosis.period.{f.period}"),
                ),
            )
            for f in flags
        ]
        + [
            FlagRead(
                issue="counter_silent",
                period=period,
                text=t(
                    "diagnosis.flag.counter_silent",
                    period=t(f"diagnosis.period.{period}"),
                    days=day_runs(days),
                ),
            )
            for period, days in zip(("base", "comparison"), change.counter_silent, strict=True)
            if days
        ],
    )


def gmv_change_read(found: GmvChange, t: Translate) -> GmvChangeRead:
    """The diagnosis with store names, labels and flag texts in `t`'s language."""
    split = found.decomposition
    return GmvChangeRead(
        time_zone=found.time_zone,
        period=period_read(found.period),
        base_period=period_read(found.base_period),
        organisation=OrganisationChangeRead(
            base=_figures(found.base),
            comparison=_figures(found.comparison),
            change=split.change,
            parts=_parts(split.parts),
            unattributed=split.unattributed,
        ),
        stores=[_store(c, split.stores[store_key(c)], t) for c in found.stores],
    )
