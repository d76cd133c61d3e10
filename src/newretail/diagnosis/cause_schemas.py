"""Pydantic reads of why a store's GMV moved: its split, the causes in cents with a sentence
each, and the data-quality causes (money as decimal strings, ISO dates)."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from pydantic import BaseModel

from newretail.core.i18n import Translate
from newretail.diagnosis import order_attributes
from newretail.diagnosis.adtributor import Dimension
from newretail.diagnosis.causes import Cause, StoreCauses
from newretail.diagnosis.decomposition import Factor, PeriodTotals
from newretail.diagnosis.org_causes import OrganisationCauses
from newretail.diagnosis.schemas import PartsRead, PeriodRead, day_runs
from newretail.tenancy.models import ChannelType

CHANNEL_TYPES = frozenset(str(c) for c in ChannelType)


class StoreRead(BaseModel):
    """The store diagnosed."""

    id: uuid.UUID | None
    code: str | None
    name: str
    channel_type: str | None


class TotalsRead(BaseModel):
    """A period's figures as split (a silent counter's days estimated)."""

    gmv: Decimal
    visitors: int
    buyers: int


class CauseRead(BaseModel):
    """A value explaining a factor's part, in money, with its sentence."""

    factor: str
    factor_label: str
    dimension: str
    key: str
    label: str
    amount: Decimal
    explanatory_power: float
    surprise: float
    stock_out_days: list[date]
    base_stock_out_days: list[date]
    text: str


class DataQualityRead(BaseModel):
    """A figure not to be trusted: a people counter silent while the till sold."""

    issue: str
    period: str
    days: list[date]
    counted_visitors: int
    estimated_visitors: int
    amount: Decimal  # the traffic part the silence would have shown, as it was counted
    text: str


class StoreCausesRead(BaseModel):
    """Why a store's GMV moved between a base period and a comparison period."""

    store: StoreRead
    time_zone: str
    period: PeriodRead
    base_period: PeriodRead
    base: TotalsRead
    comparison: TotalsRead
    change: Decimal
    parts: PartsRead
    unattributed: Decimal
    method: str
    causes: list[CauseRead]
    data_quality: list[DataQualityRead]


def money_text(amount: Decimal) -> str:
    """−¥12,400.00 / +¥1,200.00: the sign, ¥, thousands separators, two decimals."""
    sign = "−" if amount < 0 else "+" if amount > 0 else ""
    return f"{sign}¥{abs(amount):,.2f}"


def _totals(totals: PeriodTotals) -> TotalsRead:
    return TotalsRead(gmv=totals.gmv, visitors=totals.visitors, buyers=totals.buyers)


def _channel(name: str, t: Translate) -> str:
    """A channel type's name in `t`'s language (one that is not a channel type as it is)."""
    return t(f"channel.{name}") if name in CHANNEL_TYPES else name


def value_label(dimension: Dimension | str | None, key: str, label: str, t: Translate) -> str:
    """A cause's value as people read it in `t`'s language: a traffic source other than one
    a link named, or a channel type, translated; names (SKUs, stores, campaigns) as they are."""
    if dimension == Dimension.CHANNEL:
        return _channel(key, t)
    if dimension != Dimension.TRAFFIC_SOURCE:
        return label
    if key.startswith(order_attributes.CHANNEL):
        channel = _channel(key.removeprefix(order_attributes.CHANNEL), t)
        return t("diagnosis.cause.source.channel", channel=channel)
    if key == order_attributes.AD:
        return t("diagnosis.cause.source.ad")
    if key == order_attributes.DIRECT:
        return t("diagnosis.cause.source.direct")
    return label


def _cause(cause: Cause, store: str, t: Translate) -> CauseRead:
    assert cause.factor is not None and cause.dimension is not None
    assert cause.key is not None and cause.label is not None
    factor = t(f"diagnosis.cause.factor.{cause.factor}")
    kind = "stock_out" if cause.stock_out_days else str(cause.dimension)
    if cause.dimension is Dimension.CATEGORY and cause.key == "other":
        kind = "sku"
    label = value_label(cause.dimension, cause.key, cause.label, t)
    text = t(
        f"diagnosis.cause.{kind}",
        factor=factor,
        store=store,
        value=label,
        days=day_runs(cause.stock_out_days),
        count=len(cause.stock_out_days),
        amount=money_text(cause.amount),
    )
    return CauseRead(
        factor=cause.factor,
        factor_label=factor,
        dimension=cause.dimension,
        key=cause.key,
        label=label,
        amount=cause.amount,
        explanatory_power=float(cause.explanatory_power or 0),
        surprise=float(cause.surprise or 0),
        stock_out_days=list(cause.stock_out_days),
        base_stock_out_days=list(cause.base_stock_out_days),
        text=text,
    )


def _quality(cause: Cause, store: str, t: Translate) -> DataQualityRead:
    silence = cause.silence
    assert silence is not None
    return DataQualityRead(
        issue="counter_silent",
        period=silence.period,
        days=list(silence.days),
        counted_visitors=silence.counted_visitors,
        estimated_visitors=silence.estimated_visitors,
        amount=cause.amount,
        text=t(
            "diagnosis.cause.counter_silent",
            store=store,
            days=day_runs(silence.days),
            period=t(f"diagnosis.period.{silence.period}"),
            counted=f"{silence.counted_visitors:,}",
            estimated=f"{silence.estimated_visitors:,}",
            amount=money_text(cause.amount),
        ),
    )


def store_causes_read(found: StoreCauses, t: Translate) -> StoreCausesRead:
    """Why the store's GMV moved, with labels and sentences in `t`'s language."""
    split = found.decomposition
    name = found.store.name or t("diagnosis.no_store")
    return StoreCausesRead(
        store=StoreRead(
            id=found.store.id,
            code=found.store.code,
            name=name,
            channel_type=found.store.channel_type,
        ),
        time_zone=found.time_zone,
        period=PeriodRead(
            first_day=found.period.first, last_day=found.period.last, days=found.period.days
        ),
        base_period=PeriodRead(
            first_day=found.base_period.first,
            last_day=found.base_period.last,
            days=found.base_period.days,
        ),
        base=_totals(split.base),
        comparison=_totals(split.comparison),
        change=split.change,
        parts=PartsRead(
            visitors=split.parts[Factor.VISITORS],
            conversion=split.parts[Factor.CONVERSION],
            order_value=split.parts[Factor.ORDER_VALUE],
        ),
        unattributed=split.unattributed,
        method=split.method,
        causes=[_cause(c, name, t) for c in found.causes],
        data_quality=[_quality(c, name, t) for c in found.data_quality],
    )


class OrganisationCausesRead(BaseModel):
    """Why the organisation's GMV moved: the stores that explain each factor's part."""

    time_zone: str
    period: PeriodRead
    base_period: PeriodRead
    base_gmv: Decimal
    comparison_gmv: Decimal
    change: Decimal
    parts: PartsRead
    unattributed: Decimal
    causes: list[CauseRead]
    data_quality: list[DataQualityRead]


def organisation_causes_read(found: OrganisationCauses, t: Translate) -> OrganisationCausesRead:
    """Why the organisation's GMV moved, with sentences in `t`'s language."""
    split = found.decomposition
    return OrganisationCausesRead(
        time_zone=found.time_zone,
        period=PeriodRead(
            first_day=found.period.first, last_day=found.period.last, days=found.period.days
        ),
        base_period=PeriodRead(
            first_day=found.base_period.first,
            last_day=found.base_period.last,
            days=found.base_period.days,
        ),
        base_gmv=split.base_gmv,
        comparison_gmv=split.comparison_gmv,
        change=split.change,
        parts=PartsRead(
            visitors=split.parts[Factor.VISITORS],
            conversion=split.parts[Factor.CONVERSION],
            order_value=split.parts[Factor.ORDER_VALUE],
        ),
        unattributed=split.unattributed,
        causes=[_cause(c, c.label or "", t) for c in found.causes],
        data_quality=[_quality(c, c.label or "", t) for c in found.data_quality],
    )
