"""Pydantic reads of the funnels and metrics APIs (docs/diagnosis.md, "Funnels", "Metrics by
group")."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel

from newretail.core.i18n import Translate
from newretail.core.money import CENT
from newretail.diagnosis.breakdown import Breakdown, GroupBy, GroupFigures, GroupRow
from newretail.diagnosis.customers import ALL, NO_GROUP
from newretail.diagnosis.funnels import Funnel
from newretail.diagnosis.schemas import PeriodRead, period_read


class FunnelStepRead(BaseModel):
    """The people who reached a step, and the share of the previous required step's."""

    step: str
    label: str
    event_types: list[str]
    where: str  # online or offline
    optional: bool
    people: int
    from_previous: float | None
    from_first: float | None


class FunnelRead(BaseModel):
    kind: str
    kind_label: str
    time_zone: str
    period: PeriodRead
    window_days: int
    store_code: str | None
    store_name: str | None
    brand_code: str | None = None
    brand_name: str | None = None
    entered: int
    converted: int
    conversion: float | None  # converted ÷ entered
    steps: list[FunnelStepRead]


def funnel_read(found: Funnel, t: Translate) -> FunnelRead:
    """The funnel with its labels in `t`'s language."""
    return FunnelRead(
        kind=found.kind,
        kind_label=t(f"diagnosis.funnel.kind.{found.kind}"),
        time_zone=found.time_zone,
        period=period_read(found.period),
        window_days=found.window_days,
        store_code=None if found.store is None else found.store.code,
        store_name=None if found.store is None else found.store.name,
        brand_code=None if found.brand is None else found.brand.code,
        brand_name=None if found.brand is None else found.brand.name,
        entered=found.entered,
        converted=found.converted,
        conversion=None if not found.entered else found.converted / found.entered,
        steps=[
            FunnelStepRead(
                step=s.step.key,
                label=t(f"diagnosis.funnel.step.{s.step.key}"),
                event_types=list(s.step.types),
                where=s.step.where,
                optional=s.step.optional,
                people=s.people,
                from_previous=s.from_previous,
                from_first=s.from_first,
            )
            for s in found.steps
        ],
    )


class GroupFiguresRead(BaseModel):
    """A group's figures in one period (money as decimal strings; None: nothing to divide)."""

    gmv: Decimal
    paid: Decimal
    refunded: Decimal
    refunded_orders: int
    visitors: int
    transactions: int
    conversion: float | None  # buyer-days ÷ visitor-days of the store-days counting visitors
    order_value: Decimal | None  # GMV ÷ buyer-days, as the decomposition's
    transaction_value: Decimal | None  # GMV ÷ transactions
    units_per_transaction: float | None
    buyers: int  # distinct over the period
    unidentified_buyers: int
    new_buyers: int
    returning_buyers: int
    repeat_rate: float | None
    member_share: float | None
    across_share: float | None
    coupons_redeemed: int
    coupon_discount: Decimal
    campaign_gmv: Decimal


class GroupRowRead(BaseModel):
    key: str
    name: str
    base: GroupFiguresRead
    comparison: GroupFiguresRead
    change: Decimal


class BreakdownRead(BaseModel):
    by: str
    time_zone: str
    period: PeriodRead
    base_period: PeriodRead
    groups: list[GroupRowRead]


def _cents(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(CENT)


def _figures(found: GroupFigures) -> GroupFiguresRead:
    days, people = found.store_days, found.buyers
    return GroupFiguresRead(
        gmv=days.gmv,
        paid=days.paid,
        refunded=days.refunded,
        refunded_orders=days.refunded_orders,
        visitors=days.visitors,
        transactions=days.transactions,
        conversion=days.visited_conversion,
        order_value=_cents(days.order_value_per_buyer),
        transaction_value=_cents(days.order_value_per_transaction),
        units_per_transaction=days.units_per_transaction,
        buyers=people.buyers,
        unidentified_buyers=people.unidentified_buyers,
        new_buyers=people.new_buyers,
        returning_buyers=people.returning_buyers,
        repeat_rate=people.repeat_rate,
        member_share=people.member_share,
        across_share=people.across_share,
        coupons_redeemed=people.coupons_redeemed,
        coupon_discount=people.coupon_discount,
        campaign_gmv=people.campaign_gmv,
    )


def _group_name(found: Breakdown, row: GroupRow, t: Translate) -> str:
    if row.key == ALL:
        return t("diagnosis.organisation")
    if row.key == NO_GROUP:
        return t("diagnosis.no_store")
    if found.by is GroupBy.CHANNEL:
        return t(f"channel.{row.key}")
    return row.name or t(f"diagnosis.metrics.no_{found.by}")


def breakdown_read(found: Breakdown, t: Translate) -> BreakdownRead:
    """The groups with their names in `t`'s language."""
    return BreakdownRead(
        by=found.by,
        time_zone=found.time_zone,
        period=period_read(found.period),
        base_period=period_read(found.base_period),
        groups=[
            GroupRowRead(
                key=row.key,
                name=_group_name(found, row, t),
                base=_figures(row.base),
                comparison=_figures(row.comparison),
                change=row.change,
            )
            for row in found.rows
        ],
    )
