"""The buyer metrics of a group of stores over a period — new and returning buyers, repeat
buyers, members' share of sales, buyers who came across channels, coupons redeemed and the GMV
of campaign orders — from the warehouse's events, in one Ibis query that DuckDB and PostgreSQL
answer alike (docs/diagnosis.md, "Metrics", "Buyers").

Unlike the store-day figures (metrics.py) these count distinct people over the whole period and
group, so they are computed per group, never summed from stores:

- an identified buyer is a member, else an anonymous id; an order of neither is a buyer that
  can be neither new nor returning (`unidentified_buyers`);
- returning: an identified buyer who paid in the same group in the 365 local days before the
  period; new: the other identified buyers;
- repeat: an identified buyer with two or more orders in the group in the period;
- members' share: the paid amount of purchases by members ÷ all paid (before refunds);
- across channels (online to offline and back): an identified buyer with a purchase whose
  latest interest in the 30 days before it (a product view, favourite, cart, store visit,
  shelf browse or counter approach, anywhere in the organisation) was on the other side —
  online before a store purchase, or in a store before an online one;
- coupons: `coupon_redeemed` facts of the group's stores in the period (count and discount);
  campaign GMV: the paid amount of the period's orders that redeemed a campaign's coupon.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.datatypes as dt

from newretail.core.money import ZERO
from newretail.diagnosis.metrics import dated_events, order_key, person
from newretail.tenancy.models import IN_PERSON_CHANNELS

Expr = Any  # an Ibis table expression
LOOKBACK_DAYS = 365
INTEREST_DAYS = 30
INTEREST_EVENTS = (
    "product_view",
    "favorite",
    "add_to_cart",
    "store_visit",
    "shelf_browse",
    "counter_approach",
)
_OFFLINE = sorted(str(c) for c in IN_PERSON_CHANNELS)
_MONEY = dt.Decimal(38, 2)
NO_GROUP = "-"  # the group of events without a known store
ALL = "all"  # the one group when the organisation is not split


@dataclass(frozen=True)
class BuyerMetrics:
    """A group's buyers over a period."""

    buyers: int = 0
    unidentified_buyers: int = 0
    new_buyers: int = 0
    returning_buyers: int = 0
    repeat_buyers: int = 0
    across_buyers: int = 0
    paid: Decimal = ZERO
    member_paid: Decimal = ZERO
    coupons_redeemed: int = 0
    coupon_discount: Decimal = ZERO
    campaign_gmv: Decimal = ZERO

    @property
    def identified_buyers(self) -> int:
        return self.new_buyers + self.returning_buyers

    @property
    def repeat_rate(self) -> float | None:
        """Repeat buyers ÷ identified buyers."""
        return None if not self.identified_buyers else self.repeat_buyers / self.identified_buyers

    @property
    def member_share(self) -> float | None:
        """Members' paid amount ÷ all paid."""
        return None if not self.paid else float(self.member_paid / self.paid)

    @property
    def across_share(self) -> float | None:
        """Buyers who came across channels ÷ identified buyers."""
        return None if not self.identified_buyers else self.across_buyers / self.identified_buyers


def _group_key(events: Expr, groups: Mapping[str, str] | None) -> Expr:
    """`events` with `g`: the group of each event's store (`groups`: store id → group key;
    None: the organisation, one group); events without a known store go to NO_GROUP."""
    if groups is None:
        return events.mutate(g=ibis.literal(ALL))
    table = ibis.memtable(
        {"gs": list(groups), "g": list(groups.values())},
        schema={"gs": "string", "g": "string"},
    )
    joined = events.left_join(table, events.store_id == table.gs)
    return joined.mutate(g=joined.g.fill_null(NO_GROUP)).drop("gs")


def buyer_table(
    con: Any,
    organization_id: str,
    first: date,
    last: date,
    time_zone: str,
    *,
    groups: Mapping[str, str] | None = None,
    store_zones: Mapping[str, str] | None = None,
    stores: Sequence[str] | None = None,
) -> Expr:
    """One row per group with the buyer metrics of the local days first … last."""
    since = first - timedelta(days=LOOKBACK_DAYS)
    kinds = ("purchase", "coupon_redeemed")
    events = dated_events(con, organization_id, since, last, time_zone, store_zones, stores, kinds)
    events = _group_key(events, groups)
    events = events.mutate(
        who=person(events, ibis.null(str)),
        offline=events.channel.isin(_OFFLINE).fill_null(False),
        okey=order_key(events, events.type == "purchase"),
        amount=events.amount.cast(_MONEY).fill_null(0),
    )
    now = events.filter(events.day >= first)
    purchases = now.filter(now.type == "purchase")
    purchases = purchases.mutate(buyer=ibis.coalesce(purchases.who, "o:" + purchases.okey))
    before = events.filter((events.day < first) & (events.type == "purchase"))
    before = before.filter(before.who.notnull()).select(pg="g", pwho="who").distinct()

    per_person = (
        purchases.filter(purchases.who.notnull())
        .group_by("g", "who")
        .aggregate(orders=purchases.okey.nunique())
    )
    per_person = per_person.left_join(
        before, (per_person.g == before.pg) & (per_person.who == before.pwho)
    )
    people = per_person.group_by("g").aggregate(
        returning_buyers=per_person.pwho.notnull().sum().cast("int64"),
        new_buyers=per_person.pwho.isnull().sum().cast("int64"),
        repeat_buyers=(per_person.orders >= 2).sum().cast("int64"),
    )

    totals = purchases.group_by("g").aggregate(
        buyers=purchases.buyer.nunique().cast("int64"),
        unidentified_buyers=purchases.buyer.nunique(where=purchases.who.isnull()).cast("int64"),
        paid=purchases.amount.sum().cast(_MONEY),
        member_paid=purchases.amount.sum(where=purchases.member_id.notnull()).cast(_MONEY),
    )

    across = _across(con, organization_id, purchases, first, last, time_zone)

    redeemed = now.filter(now.type == "coupon_redeemed")
    document = redeemed.properties.cast("json")
    redeemed = redeemed.mutate(
        order_ref=document["order_ref"].str, campaign=document["campaign_id"].str
    )
    coupons = redeemed.group_by("g").aggregate(
        coupons_redeemed=redeemed.count().cast("int64"),
        coupon_discount=redeemed.amount.sum().cast(_MONEY),
    )
    campaign_orders = (
        redeemed.filter(redeemed.campaign.notnull() & redeemed.order_ref.notnull())
        .select(ref="order_ref")
        .distinct()
    )
    with_campaign = purchases.semi_join(campaign_orders, purchases.okey == campaign_orders.ref)
    campaigns = with_campaign.group_by("g").aggregate(
        campaign_gmv=with_campaign.amount.sum().cast(_MONEY)
    )

    keys = totals.select("g").union(coupons.select("g")).distinct()
    result = keys
    for part in (totals, people, across, coupons, campaigns):
        renamed = part.rename(k="g")
        result = result.left_join(renamed, result.g == renamed.k).drop("k")
    return result


def _across(
    con: Any,
    organization_id: str,
    purchases: Expr,
    first: date,
    last: date,
    time_zone: str,
) -> Expr:
    """Per group, the identified buyers with a purchase whose latest interest in the 30 days
    before it was on the other side (online vs in a store), anywhere in the organisation."""
    interest = dated_events(
        con,
        organization_id,
        first - timedelta(days=INTEREST_DAYS),
        last,
        time_zone,
        None,
        None,
        INTEREST_EVENTS,
    )
    interest = interest.mutate(
        iwho=person(interest, ibis.null(str)),
        ioffline=interest.channel.isin(_OFFLINE).fill_null(False),
    ).select("iwho", "ioffline", its="ts")
    interest = interest.filter(interest.iwho.notnull())
    bought = purchases.filter(purchases.who.notnull()).select(
        "g", "who", "offline", "ts", pid="message_id"
    )
    window = ibis.interval(days=INTEREST_DAYS)
    joined = bought.inner_join(
        interest,
        [
            bought.who == interest.iwho,
            interest.its < bought.ts,
            interest.its >= bought.ts - window,
        ],
    )
    latest = joined.group_by("g", "who", "offline", "pid").aggregate(
        last_online=joined.its.max(where=~joined.ioffline),
        last_offline=joined.its.max(where=joined.ioffline),
    )
    other = ibis.ifelse(latest.offline, latest.last_online, latest.last_offline)
    same = ibis.ifelse(latest.offline, latest.last_offline, latest.last_online)
    crossed = other.notnull() & (same.isnull() | (other > same))
    return latest.group_by("g").aggregate(
        across_buyers=latest.who.nunique(where=crossed).cast("int64")
    )


def buyer_rows(table: Expr) -> dict[str, BuyerMetrics]:
    """The buyer metrics of a `buyer_table`, by group key."""
    found: dict[str, BuyerMetrics] = {}
    for row in table.to_pyarrow().to_pylist():

        def count(name: str, row: dict[str, Any] = row) -> int:
            return int(row[name] or 0)

        def money(name: str, row: dict[str, Any] = row) -> Decimal:
            return Decimal(row[name] or 0).quantize(ZERO)

        found[row["g"]] = BuyerMetrics(
            buyers=count("buyers"),
            unidentified_buyers=count("unidentified_buyers"),
            new_buyers=count("new_buyers"),
            returning_buyers=count("returning_buyers"),
            repeat_buyers=count("repeat_buyers"),
            across_buyers=count("across_buyers"),
            paid=money("paid"),
            member_paid=money("member_paid"),
            coupons_redeemed=count("coupons_redeemed"),
            coupon_discount=money("coupon_discount"),
            campaign_gmv=money("campaign_gmv"),
        )
    return found
