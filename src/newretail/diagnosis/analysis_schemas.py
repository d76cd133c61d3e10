"""Pydantic reads of the funnels and metrics APIs (docs/diagnosis.md, "Funnels", "Metrics by
group")."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field

from newretail.core.i18n import Translate
from newretail.core.money import CENT
from newretail.diagnosis.breakdown import Breakdown, GroupBy, GroupFigures, GroupRow
from newretail.diagnosis.customers import ALL, NO_GROUP
from newretail.diagnosis.funnels import Funnel
from newretail.diagnosis.schemas import PeriodRead, period_read
from newretail.tenancy.crowd_floor import below_floor, shown, shown_together

# A count of people below the organisation's minimum crowd size (tenancy.crowd_floor) is null,
# and its row's `suppressed` is true (as the Data Bank's and audiences' counts are); a rate
# computed from a hidden count is null with it.
People = Annotated[int | None, Field(description="null when below the minimum crowd size")]
Suppressed = Annotated[
    bool, Field(description="true when a count of people is below the minimum crowd size")
]


class FunnelStepRead(BaseModel):
    """The people who reached a step, and the share of the previous required step's."""

    step: str
    label: str
    event_types: list[str]
    where: str  # online or offline
    optional: bool
    people: People
    from_previous: float | None  # null too when either count is hidden
    from_first: float | None
    suppressed: Suppressed


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
    entered: People
    converted: People
    conversion: float | None  # converted ÷ entered
    steps: list[FunnelStepRead]
    min_crowd_size: int
    suppressed: Suppressed  # a step's people are hidden


def _kept(ratio: float | None, *counts: int | None) -> float | None:
    """A rate as it may be shown: None when a count it is computed from is hidden."""
    return None if any(c is None for c in counts) else ratio


def funnel_read(found: Funnel, t: Translate, floor: int) -> FunnelRead:
    """The funnel with its labels in `t`'s language and its people through the crowd floor
    (`floor`: the organisation's minimum crowd size)."""
    people = [shown(s.people, floor) for s in found.steps]
    steps = []
    previous: int | None = None  # the shown people at the previous required step
    for index, s in enumerate(found.steps):
        steps.append(
            FunnelStepRead(
                step=s.step.key,
                label=t(f"diagnosis.funnel.step.{s.step.key}"),
                event_types=list(s.step.types),
                where=s.step.where,
                optional=s.step.optional,
                people=people[index],
                from_previous=_kept(s.from_previous, people[index], previous),
                from_first=_kept(s.from_first, people[index], people[0]),
                suppressed=below_floor(s.people, floor),
            )
        )
        if not s.step.optional:
            previous = people[index]
    entered, converted = people[0], people[-1]
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
        entered=entered,
        converted=converted,
        conversion=_kept(
            None if not found.entered else found.converted / found.entered, entered, converted
        ),
        steps=steps,
        min_crowd_size=floor,
        suppressed=any(s.suppressed for s in steps),
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
    buyers: People  # distinct over the period
    unidentified_buyers: int  # orders of no one known: not people who can be singled out
    new_buyers: People  # new and returning are hidden together (they add up to a shown
    returning_buyers: People  # total: buyers less the unidentified)
    repeat_rate: float | None  # null when the repeat buyers or the buyers are hidden
    member_share: float | None  # of money
    across_share: float | None  # null when the buyers across channels or the buyers are hidden
    suppressed: Suppressed
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
    min_crowd_size: int


def _cents(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(CENT)


def _figures(found: GroupFigures, floor: int) -> GroupFiguresRead:
    """A group's figures, its counts of people through the crowd floor."""
    days, people = found.store_days, found.buyers
    buyers = shown(people.buyers, floor)
    new, returning = shown_together([people.new_buyers, people.returning_buyers], floor)
    identified = None if buyers is None or new is None else people.identified_buyers
    repeat = shown(people.repeat_buyers, floor)
    across = shown(people.across_buyers, floor)
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
        buyers=buyers,
        unidentified_buyers=people.unidentified_buyers,
        new_buyers=new,
        returning_buyers=returning,
        repeat_rate=_kept(people.repeat_rate, repeat, identified),
        member_share=people.member_share,
        across_share=_kept(people.across_share, across, identified),
        suppressed=buyers is None or new is None or repeat is None or across is None,
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


def breakdown_read(found: Breakdown, t: Translate, floor: int) -> BreakdownRead:
    """The groups with their names in `t`'s language and their counts of people through the
    crowd floor (`floor`: the organisation's minimum crowd size)."""
    return BreakdownRead(
        by=found.by,
        time_zone=found.time_zone,
        period=period_read(found.period),
        base_period=period_read(found.base_period),
        groups=[
            GroupRowRead(
                key=row.key,
                name=_group_name(found, row, t),
                base=_figures(row.base, floor),
                comparison=_figures(row.comparison, floor),
                change=row.change,
            )
            for row in found.rows
        ],
        min_crowd_size=floor,
    )
