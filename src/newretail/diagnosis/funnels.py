"""Funnels across online and offline: how many people went from a view to a payment, step by
step, online, in the stores, and across (browsed online, paid in a store) — docs/diagnosis.md,
"Funnels".

An ordered funnel with a conversion window, as PostHog counts one:
- a person is the member, else the anonymous id (events of neither cannot be followed);
- a person enters at their first event of the first step in the period (local days of the
  organisation's zone); each later step counts when the person did it after the previous
  required step they reached and within the window from their entry, inside the period;
- an optional step (a favourite, a cart at the counter, an order before a till sale) is
  counted, but the next step does not need it: it is measured from the previous required step;
- online is every channel that is not a place a shopper walks into (tenancy's
  `IN_PERSON_CHANNELS`); with a store, its steps are the store's (an online store's online
  steps, a shop's or counter's offline steps) and the other side stays the whole organisation's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

import ibis
from sqlalchemy.orm import Session

from newretail.core.localtime import today
from newretail.databank.localdays import day_start
from newretail.diagnosis.errors import InvalidFunnelWindow
from newretail.diagnosis.metrics import IN_STORE_VISITS
from newretail.diagnosis.service import Period, check_periods
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.models import IN_PERSON_CHANNELS, Brand, Store
from newretail.tenancy.permissions import Permission, Principal
from newretail.warehouse.connection import EVENT_TABLE, Warehouse

Expr = Any  # an Ibis table expression
DEFAULT_WINDOW_DAYS = 7
MAX_WINDOW_DAYS = 30
_OFFLINE = sorted(str(c) for c in IN_PERSON_CHANNELS)


class Where(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"


class FunnelKind(StrEnum):
    ONLINE = "online"  # view → favourite → cart → order → pay, online
    OFFLINE = "offline"  # visit or view → … → pay, in the stores
    ACROSS = "across"  # viewed online → visited → paid in a store (online to offline)


@dataclass(frozen=True)
class Step:
    key: str  # view, favourite, cart, order, visit, pay
    types: tuple[str, ...]
    where: Where
    optional: bool = False


_VIEW = ("product_view",)
_IN_STORE_VIEW = (*IN_STORE_VISITS, "product_view")
FUNNELS: dict[FunnelKind, tuple[Step, ...]] = {
    FunnelKind.ONLINE: (
        Step("view", _VIEW, Where.ONLINE),
        Step("favourite", ("favorite",), Where.ONLINE, optional=True),
        Step("cart", ("add_to_cart",), Where.ONLINE),
        Step("order", ("order_placed",), Where.ONLINE),
        Step("pay", ("purchase",), Where.ONLINE),
    ),
    FunnelKind.OFFLINE: (
        Step("view", _IN_STORE_VIEW, Where.OFFLINE),
        Step("favourite", ("favorite",), Where.OFFLINE, optional=True),
        Step("cart", ("add_to_cart",), Where.OFFLINE, optional=True),
        Step("order", ("order_placed",), Where.OFFLINE, optional=True),
        Step("pay", ("purchase",), Where.OFFLINE),
    ),
    FunnelKind.ACROSS: (
        Step("view", _VIEW, Where.ONLINE),
        Step("cart", ("add_to_cart",), Where.ONLINE, optional=True),
        Step("visit", IN_STORE_VISITS, Where.OFFLINE, True),
        Step("pay", ("purchase",), Where.OFFLINE),
    ),
}


@dataclass(frozen=True)
class StepCount:
    step: Step
    people: int
    # of the people at the previous required step (None for the first step or without any)
    from_previous: float | None
    from_first: float | None  # of the people who entered


@dataclass(frozen=True)
class Funnel:
    kind: FunnelKind
    time_zone: str
    period: Period
    window_days: int
    store: Store | None
    steps: list[StepCount]
    brand: Brand | None = None

    @property
    def entered(self) -> int:
        return self.steps[0].people

    @property
    def converted(self) -> int:
        return self.steps[-1].people


def _ratio(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole


def step_counts(
    con: Any,
    organization_id: str,
    steps: tuple[Step, ...],
    period: Period,
    time_zone: str,
    window_days: int = DEFAULT_WINDOW_DAYS,
    stores: dict[Where, list[str]] | None = None,
) -> list[int]:
    """The people who reached each step (one warehouse query; DuckDB and PostgreSQL alike).
    `stores` restricts a side's steps to those stores."""
    start = day_start(period.first, time_zone)
    end = day_start(period.last + timedelta(days=1), time_zone)
    event = con.table(EVENT_TABLE)
    types = sorted({t for s in steps for t in s.types})
    events = event.filter(
        event.organization_id == organization_id,
        event.type.isin(types),
        event.ts >= start,
        event.ts < end,
    )
    person = ibis.coalesce("m:" + events.member_id, "a:" + events.anonymous_id)
    offline = events.channel.isin(_OFFLINE).fill_null(False)
    events = events.select("type", "ts", "store_id", person=person, offline=offline)
    events = events.filter(events.person.notnull())

    def of(step: Step) -> Expr:
        found = events.filter(events.type.isin(list(step.types)))
        found = found.filter(found.offline if step.where is Where.OFFLINE else ~found.offline)
        if stores is not None and step.where in stores:
            found = found.filter(found.store_id.isin(stores[step.where]))
        return found

    first = of(steps[0])
    reached = first.group_by("person").aggregate(t0=first.ts.min())
    reached = reached.mutate(
        anchor=reached.t0, deadline=reached.t0 + ibis.interval(days=window_days)
    )
    for index, step in enumerate(steps[1:], start=1):
        found = of(step).select(who="person", at="ts")
        joined = reached.left_join(
            found,
            [
                reached.person == found.who,
                found.at >= reached.anchor,
                found.at <= reached.deadline,
            ],
        )
        keep = [c for c in reached.columns]
        reached = joined.group_by(keep).aggregate(**{f"t{index}": joined.at.min()})
        if not step.optional:
            reached = reached.mutate(anchor=reached[f"t{index}"])
    counts = reached.aggregate(
        **{f"c{i}": reached[f"t{i}"].count().cast("int64") for i in range(len(steps))}
    )
    row = counts.to_pyarrow().to_pylist()[0]
    return [int(row[f"c{i}"] or 0) for i in range(len(steps))]


def counted(steps: tuple[Step, ...], people: list[int]) -> list[StepCount]:
    """Each step's people with its conversion from the previous required step and from entry."""
    found: list[StepCount] = []
    previous = None  # the people at the previous required step
    for step, count in zip(steps, people, strict=True):
        found.append(
            StepCount(
                step,
                count,
                None if previous is None else _ratio(count, previous),
                _ratio(count, people[0]) if found else None,
            )
        )
        if not step.optional:
            previous = count
    return found


def _side(store: Store) -> Where:
    return Where.OFFLINE if store.channel_type in IN_PERSON_CHANNELS else Where.ONLINE


def scope(
    kind: FunnelKind, store: Store | None, managed: list[Store] | None
) -> dict[Where, list[str]]:
    """The stores each side's steps are restricted to: the store asked for on its side; for
    a store manager or a brand (`managed`: their stores, the brand's), each side to those
    stores of it — but for the online interest of the
    across funnel, which stays the organisation's (it is what led people to their stores)."""
    if store is not None:
        return {_side(store): [str(store.id)]}
    if managed is None:
        return {}
    found: dict[Where, list[str]] = {Where.ONLINE: [], Where.OFFLINE: []}
    for each in managed:
        found[_side(each)].append(str(each.id))
    if kind is FunnelKind.ACROSS:
        del found[Where.ONLINE]
    return found


def funnel(
    session: Session,
    principal: Principal,
    warehouse: Warehouse,
    kind: FunnelKind,
    first: date | None = None,
    last: date | None = None,
    store_reference: str | None = None,
    window_days: int = DEFAULT_WINDOW_DAYS,
    brand_code: str | None = None,
) -> Funnel:
    """The funnel of a kind over the period (default: the last 7 complete local days), for
    the organisation, one brand's stores (by its code) or one store; a store manager sees
    their stores only."""
    principal.require(Permission.READ)
    if not 1 <= window_days <= MAX_WINDOW_DAYS:
        raise InvalidFunnelWindow(
            f"the conversion window is 1 to {MAX_WINDOW_DAYS} days", field="window_days"
        )
    zone = tenancy_service.organisation_zone(session, principal.organization_id)
    yesterday = today(zone) - timedelta(days=1)
    period, _ = check_periods(first, last, None, None, yesterday)
    store = (
        None
        if store_reference is None
        else tenancy_service.visible_store(session, principal, store_reference)
    )
    steps = FUNNELS[kind]
    brand = None if brand_code is None else tenancy_service.brand_by_code(session, brand_code)
    managed = None
    if principal.store_ids is not None or brand is not None:
        filters = tenancy_service.StoreFilter(brand_id=None if brand is None else brand.id)
        managed = list(tenancy_service.all_stores(session, principal, filters))
    with warehouse.lock:
        people = step_counts(
            warehouse.connection(),
            str(principal.organization_id),
            steps,
            period,
            zone,
            window_days,
            scope(kind, store, managed),
        )
    return Funnel(kind, zone, period, window_days, store, counted(steps, people), brand)
