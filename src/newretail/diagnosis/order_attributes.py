"""What each of a store's orders came from — its traffic source and its campaign — for the
cause search (docs/diagnosis.md, "Why it moved"), as Ibis expressions DuckDB and PostgreSQL
answer alike.

- Traffic source of a purchase: the source the purchase names itself (a `utm_source`
  property, or Segment's `context.campaign.source`, lower-cased), else the buyer's latest touch
  in the 30 days before it, anywhere in the organisation (a product view, favourite, cart,
  store visit, shelf browse, counter approach, page or screen view, ad click): the source that
  touch names, else `ad` for an ad click, else the channel type it happened in
  (`channel:online`, `channel:counter`…; an event without a channel is online). A purchase by
  nobody identified, or by somebody without a touch, is `direct`.
- Campaign of an order: the campaign of a coupon redeemed for it (a `coupon_redeemed` fact
  whose `order_ref` is the order; the fact carries the campaign's id and name); an order that
  redeemed coupons of two campaigns counts for the one whose id sorts first. None: no campaign.
- A refund takes its order's source and campaign when the order was paid in the period read;
  otherwise neither (it stays in the dimensions' remainder).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir

from newretail.diagnosis.customers import INTEREST_EVENTS
from newretail.diagnosis.metrics import person
from newretail.warehouse.connection import EVENT_TABLE

Expr = Any  # an Ibis table expression
TOUCH_DAYS = 30
TOUCH_EVENTS = (*INTEREST_EVENTS, "page_view", "screen_view", "ad_click")
DIRECT = "direct"  # no earlier touch, or nobody identified
AD = "ad"  # an ad click that names no source
SOURCE = "utm:"  # a named source: utm:wechat
CHANNEL = "channel:"  # the channel type of the latest touch: channel:online
SEPARATOR = "|"  # between a campaign's id and its name in `campaign`
_STAMP = 12  # digits of the epoch seconds that order touches as text


def named_source(document: ir.JSONValue) -> ir.StringValue:
    """The traffic source an event names: `utm_source`, else `context.campaign.source`
    (lower-cased, blank as none)."""
    own = document["utm_source"].str.strip().lower().nullif("")
    segment = document["context"]["campaign"]["source"].str.strip().lower().nullif("")
    return ibis.coalesce(own, segment)


def _touches(con: Any, organization_id: str, low: datetime, high: datetime, buyers: Expr) -> Expr:
    """The touches of the `buyers` (their `member_id` and `anonymous_id`) in the organisation
    between `low` − 30 days and `high`: who, when, and what the source is read from (read
    only for the touches joined to a purchase). Kept to the buyers before anything is worked
    out per event: the organisation's touches outnumber a store's buyers' by far."""
    event = con.table(EVENT_TABLE)
    found = event.filter(
        event.organization_id == organization_id,
        event.type.isin(list(TOUCH_EVENTS)),
        event.ts >= low - timedelta(days=TOUCH_DAYS),
        event.ts < high,
    )
    members = buyers.filter(buyers.member_id.notnull()).select("member_id").distinct()
    anonymous = buyers.filter(buyers.member_id.isnull() & buyers.anonymous_id.notnull())
    anonymous = anonymous.select("anonymous_id").distinct()
    found = found.filter(
        found.member_id.isin(members.member_id)
        | (found.member_id.isnull() & found.anonymous_id.isin(anonymous.anonymous_id))
    )
    found = found.mutate(twho=person(found, ibis.null(str)))
    found = found.filter(found.twho.notnull())
    return found.select(
        "twho", tts=found.ts, ttype=found.type, tchannel=found.channel, tprops=found.properties
    )


def _touch_mark(joined: Expr) -> ir.StringValue:
    """A touch as text that sorts by time: its epoch seconds, "|", the source it stands for."""
    named = named_source(joined.tprops.cast("json"))
    label = ibis.cases(
        (named.notnull(), SOURCE + named),
        (joined.ttype == "ad_click", ibis.literal(AD)),
        else_=CHANNEL + joined.tchannel.fill_null("online"),
    )
    stamp = joined.tts.epoch_seconds().cast("int64").cast("string").lpad(_STAMP, "0")
    return stamp + SEPARATOR + label


def _campaigns(con: Any, organization_id: str, low: datetime, high: datetime) -> Expr:
    """Per order (`order_ref` of a redemption between `low` and `high`, a day either side):
    `campaign`, the first campaign's id and name as "id|name"."""
    event = con.table(EVENT_TABLE)
    found = event.filter(
        event.organization_id == organization_id,
        event.type == "coupon_redeemed",
        event.ts >= low - timedelta(days=1),
        event.ts < high + timedelta(days=1),
    )
    document = found.properties.cast("json")
    found = found.select(
        ref=document["order_ref"].str.nullif(""),
        campaign_id=document["campaign_id"].str.nullif(""),
        name=document["campaign"].str.nullif(""),
    )
    found = found.filter(found.ref.notnull() & found.campaign_id.notnull())
    mark = found.campaign_id + SEPARATOR + found.name.fill_null(found.campaign_id)
    return found.group_by("ref").aggregate(campaign=mark.min())


def attributed(con: Any, organization_id: str, events: Expr, low: datetime, high: datetime) -> Expr:
    """`events` (a store's purchases and refunds between `low` and `high`, with `event_id`,
    `ts`, `paid`, `order_key`, `person` — the identified person —, `member_id`,
    `anonymous_id` and `document`) with the `source` and `campaign` of their order (null: a
    refund of an order not paid in the events)."""
    purchases = events.filter(events.paid)
    bought = purchases.filter(purchases.person.notnull()).select(
        pid="event_id", pwho="person", pts="ts"
    )
    touches = _touches(con, organization_id, low, high, purchases)
    window = ibis.interval(days=TOUCH_DAYS)
    joined = bought.inner_join(
        touches,
        [
            bought.pwho == touches.twho,
            touches.tts < bought.pts,
            touches.tts >= bought.pts - window,
        ],
    )
    latest = joined.group_by("pid").aggregate(mark=_touch_mark(joined).max())
    purchases = purchases.left_join(latest, purchases.event_id == latest.pid)
    own = named_source(purchases.document)
    source = ibis.coalesce(SOURCE + own, latest_label(purchases.mark), ibis.literal(DIRECT))
    redeemed = _campaigns(con, organization_id, low, high)
    purchases = purchases.mutate(source=source).left_join(
        redeemed, purchases.order_key == redeemed.ref
    )
    orders = purchases.group_by(oref=purchases.order_key).aggregate(
        osource=purchases.source.min(), ocampaign=purchases.campaign.min()
    )
    joined_events = events.left_join(orders, events.order_key == orders.oref)
    return joined_events.mutate(
        source=joined_events.osource, campaign=joined_events.ocampaign
    ).drop("oref", "osource", "ocampaign")


def latest_label(mark: ir.StringValue) -> ir.StringValue:
    """The source of a touch's mark (its epoch seconds, "|", the source)."""
    return mark.substr(_STAMP + len(SEPARATOR))


def source_label(key: str) -> str:
    """A traffic source's label in English (the source a link named is its own label)."""
    if key.startswith(SOURCE):
        return key.removeprefix(SOURCE)
    if key.startswith(CHANNEL):
        return f"{key.removeprefix(CHANNEL)} (last interest)"
    return "an ad click" if key == AD else "direct (no earlier touch)"


def campaign_of(mark: str | None) -> tuple[str, str] | None:
    """A campaign's (id, name) from its mark "id|name" (None: no campaign)."""
    if not mark:
        return None
    key, _, name = mark.partition(SEPARATOR)
    return key, name or key
