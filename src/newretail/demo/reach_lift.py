"""The demo's Double 11 lift: a counter trigger rule on the offline extension, members who
approached the counters on its past days decided by the real decision engine, and their
purchases drawn with a known campaign effect, so the lift report has real numbers.

- **The rule** (`trigger_rule`): `counter_approach` at the brand's four counters, the
  counter's clienteling screen (`store_screen`), the extension's counter offer, one contact a
  day. The campaign's 10 % holdout is the one every stage uses.
- **The approaches**: `APPROACHES` members, one each, on a past day of the extension (opening
  hours, the counter's zone), all but `WITHOUT_CONSENT` with marketing consent (those get
  `no_consent`). Each approach is a `counter_approach` fact in the outbox (the warehouse gets
  it from the server's relay, so the member's timeline shows it) and is decided at once by
  `reach.decisions.DecisionEngine` at the approach's moment: the campaign was running then,
  so the engine's own checks hold (the listener decides only fresh events; this is history).
- **The purchases**: each member the engine put in an arm buys with probability `BASE_RATE`,
  plus `CAMPAIGN_EFFECT` when treated (the traffic simulator's `--campaign-effect` model), on
  a past day inside the 14-day window; most at the counter that reached them, some at the
  brand's shop of the city. A treated buyer at the counter redeems the screen's coupon in
  the sale with `REDEEM_SHARE`. Sales go through the till's sale path (`orders.pos`), sent
  late (`offline`, with `sold_at`) as a till that recorded them then would.

Nothing is seeded before the extension's first day has passed (the demo's Double 11 is this
year's until 11 December, then next year's, whose extension has not begun).
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from newretail.catalog.models import Product
from newretail.core.localtime import to_local, zone
from newretail.events import outbox
from newretail.inventory.models import StockLevel
from newretail.marketing.models import Campaign
from newretail.members.models import ConsentPurpose, MemberConsent
from newretail.members.profile_graph import Member
from newretail.orders import pos, schemas
from newretail.reach import triggers
from newretail.reach.decide import Reason, TriggerEvent
from newretail.reach.decisions import DecisionEngine
from newretail.reach.delivery_port import ChannelDelivery
from newretail.reach.snapshot import TriggerSnapshots
from newretail.reach.trigger_schemas import TriggerRuleIn
from newretail.simulator.campaign_effect import check_effect
from newretail.tenancy import service
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.models import ChannelType, Store
from newretail.tenancy.permissions import Principal
from newretail.warehouse.connection import Warehouse

RULE_NAME = "Double 11 counter approach"
COUNTERS = ("SH-JA-COUNTER", "BJ-GM-COUNTER", "HZ-HL-COUNTER", "SZ-FT-COUNTER")
OFFER = "D11-COUNTER-10"
# the engine takes 25 to 50 ms a treated decision and a till sale about as long (one
# transaction on SQLite, a busy machine): these keep the seed to a few seconds
APPROACHES = 200
WITHOUT_CONSENT = 10  # approached members without marketing consent (`no_consent`)
BASE_RATE = 0.10
CAMPAIGN_EFFECT = 0.30  # treated members buy with 0.40, the holdout with 0.10
WINDOW_DAYS = 14
AT_COUNTER_SHARE = 0.8  # the rest buy at the brand's shop of the city, when there is one
REDEEM_SHARE = 0.6
DECISION_LATENCY = timedelta(milliseconds=40)
ONLINE_VIEW_SHARE = 0.35  # approached members who viewed a product at the online shop before
FIRST_MINUTE, LAST_MINUTE = 10 * 60, 20 * 60  # approaches between 10:00 and 20:00 local


@dataclass
class SeededLift:
    """What the seed decided and drew, per arm (the lift report must read the same)."""

    rule_id: uuid.UUID | None = None
    approached: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    members: dict[str, int] = field(default_factory=lambda: {"treated": 0, "holdout": 0})
    buyers: dict[str, int] = field(default_factory=lambda: {"treated": 0, "holdout": 0})
    bought_where_reached: dict[str, int] = field(
        default_factory=lambda: {"treated": 0, "holdout": 0}
    )
    redeemed: int = 0
    viewed_online: dict[str, int] = field(default_factory=lambda: {"treated": 0, "holdout": 0})


def _past_days(first: date, last: date, today: date) -> list[date]:
    """The stage's local days before today."""
    end = min(last, today - timedelta(days=1))
    return [first + timedelta(days=n) for n in range((end - first).days + 1)]


def _approached_members(session: Session, rng: random.Random, count: int) -> list[uuid.UUID]:
    """`count` members, most with marketing consent on a channel, a few without."""
    consenting = set(
        session.scalars(
            select(MemberConsent.member_id).where(
                MemberConsent.purpose == ConsentPurpose.MARKETING,
                MemberConsent.granted.is_(True),
            )
        )
    )
    everyone = list(session.scalars(select(Member.id).order_by(Member.id)))
    with_consent = [m for m in everyone if m in consenting]
    without = [m for m in everyone if m not in consenting]
    rng.shuffle(with_consent)
    rng.shuffle(without)
    refused = min(WITHOUT_CONSENT, len(without))
    chosen = with_consent[: count - refused] + without[:refused]
    rng.shuffle(chosen)
    return chosen


class _Shelves:
    """Free units per (store, SKU) at seed time, taken as the sales are made."""

    def __init__(self, session: Session, store_ids: list[uuid.UUID]) -> None:
        rows = session.execute(
            select(
                StockLevel.location_id,
                StockLevel.sku_id,
                StockLevel.on_hand - StockLevel.allocated - StockLevel.reserved,
            )
            .where(StockLevel.location_id.in_(store_ids))
            .order_by(StockLevel.location_id, StockLevel.sku_id)
        ).all()
        self.free: dict[uuid.UUID, dict[uuid.UUID, int]] = {}
        for store_id, sku_id, free in rows:
            if free > 2:
                self.free.setdefault(store_id, {})[sku_id] = int(free) - 2

    def take(self, rng: random.Random, store_id: uuid.UUID) -> uuid.UUID | None:
        skus = sorted(s for s, units in self.free.get(store_id, {}).items() if units > 0)
        if not skus:
            return None
        sku = rng.choice(skus)
        self.free[store_id][sku] -= 1
        return sku


def seed_lift(
    session: Session,
    owner: Principal,
    warehouse: Warehouse,
    campaign: Campaign,
    now: datetime,
    rng: random.Random,
    approaches: int = APPROACHES,
) -> SeededLift:
    """The rule, the decided approaches and the purchases of the demo's Double 11 extension
    (nothing before the extension's first day has passed)."""
    check_effect(CAMPAIGN_EFFECT, BASE_RATE)
    seeded = SeededLift()
    zone_name = tenancy_service.organisation_zone(session, owner.organization_id)
    extension = campaign.stages[-1]
    days = _past_days(extension.first_day, extension.last_day, to_local(now, zone_name).date())
    if not days:
        return seeded
    counters = [service.store_by_code(session, code) for code in COUNTERS]
    rule = triggers.create_rule(
        session,
        owner,
        TriggerRuleIn(
            name=RULE_NAME,
            campaign_id=campaign.id,
            stage_position=extension.position,
            event_types=["counter_approach"],
            store_ids=[c.id for c in counters],
            channel="store_screen",
            offer_code=OFFER,
            daily_cap=1,
        ),
    )
    seeded.rule_id = rule.id
    members = _approached_members(session, rng, approaches)
    approaches_of = _approach(session, owner, counters, members, days, zone_name, rng)
    viewers = _online_views(session, owner, approaches_of)
    decided_at = [now]
    engine = DecisionEngine(
        TriggerSnapshots(warehouse), ChannelDelivery(), clock=lambda: decided_at[0]
    )
    shops = _city_shops(session, counters)
    shelves = _Shelves(session, [c.id for c in counters] + [s.id for s in shops.values()])
    for number, event in enumerate(approaches_of, start=1):
        decided_at[0] = event.occurred_at + DECISION_LATENCY
        (decision,) = engine.decide(session, event)
        seeded.approached += 1
        seeded.reasons[decision.reason] = seeded.reasons.get(decision.reason, 0) + 1
        arm = str(decision.reason)
        if arm not in seeded.members:
            continue
        seeded.members[arm] += 1
        seeded.viewed_online[arm] += event.member_id in viewers
        chance = BASE_RATE + (CAMPAIGN_EFFECT if arm == Reason.TREATED else 0.0)
        if rng.random() >= chance:
            continue
        counter = next(c for c in counters if c.id == event.store_id)
        shop = shops.get(counter.id)
        store = counter if shop is None or rng.random() < AT_COUNTER_SHARE else shop
        sold_at = _purchase_moment(event.occurred_at, now, zone_name, rng)
        sku = shelves.take(rng, store.id)
        if sku is None:
            continue
        coupon = decision.coupon_id if store is counter and rng.random() < REDEEM_SHARE else None
        pos.pos_sale(
            session,
            owner,
            schemas.PosSaleCreate(
                store_id=store.id,
                external_order_id=f"D11-LIFT-{number:04d}",
                lines=[schemas.PosLineIn(sku_id=sku, quantity=1)],
                member_id=event.member_id,
                sold_at=sold_at,
                coupons=[] if coupon is None else [str(coupon)],
                offline=coupon is not None,
            ),
        )
        seeded.buyers[arm] += 1
        seeded.bought_where_reached[arm] += store is counter
        seeded.redeemed += coupon is not None
    seeded.reasons = dict(sorted(seeded.reasons.items()))
    return seeded


def _approach(
    session: Session,
    owner: Principal,
    counters: list[Store],
    members: list[uuid.UUID],
    days: list[date],
    zone_name: str,
    rng: random.Random,
) -> list[TriggerEvent]:
    """One `counter_approach` per member at a counter on a past day, in time order, each a
    fact in the outbox (the warehouse's message id is the decision's event id)."""
    planned = []
    for member_id in members:
        counter = rng.choice(counters)
        day = rng.choice(days)
        minute = rng.randrange(FIRST_MINUTE, LAST_MINUTE)
        moment = time(minute // 60, minute % 60, rng.randrange(60))
        local = datetime.combine(day, moment, tzinfo=zone(counter.time_zone or zone_name))
        occurred_at = local.astimezone(UTC)
        planned.append((occurred_at, member_id, counter))
    planned.sort(key=lambda p: (p[0], p[1]))
    messages = [
        outbox.enqueue(
            session,
            owner.organization_id,
            "counter_approach",
            occurred_at=at,
            brand_id=counter.brand_id,
            store_id=counter.id,
            channel=ChannelType.COUNTER,
            member_id=member_id,
            properties={"beacon_id": f"{counter.code}-counter", "distance_m": 1.0},
        )
        for at, member_id, counter in planned
    ]
    session.flush()
    return [
        TriggerEvent(
            organization_id=owner.organization_id,
            event_id=f"{outbox.MESSAGE_PREFIX}{message.id}",
            event_type="counter_approach",
            member_id=member_id,
            store_id=counter.id,
            occurred_at=at,
            properties=message.properties,
        )
        for message, (at, member_id, counter) in zip(messages, planned, strict=True)
    ]


def _online_views(
    session: Session, owner: Principal, approaches: list[TriggerEvent]
) -> set[uuid.UUID]:
    """`ONLINE_VIEW_SHARE` of the approached members viewed one of the brand's products at
    the online shop 1 to 6 days before their approach (a `product_view` fact in the outbox),
    so the lift report's "online interest, offline purchase" rows have members. Drawn from
    a generator of their own, so the approaches' and purchases' draws stay as they were."""
    rng = random.Random("demo-online-views")  # noqa: S311 (demo data)
    online = session.scalars(
        select(Store).where(Store.channel_type == ChannelType.ONLINE).order_by(Store.code)
    ).first()
    if online is None:
        return set()
    products = list(session.scalars(select(Product.id).order_by(Product.id).limit(20)))
    viewers = set()
    for event in approaches:
        if not products or rng.random() >= ONLINE_VIEW_SHARE:
            continue
        outbox.enqueue(
            session,
            owner.organization_id,
            "product_view",
            occurred_at=event.occurred_at
            - timedelta(days=rng.randint(1, 6), minutes=rng.randint(0, 600)),
            brand_id=online.brand_id,
            store_id=online.id,
            channel=ChannelType.ONLINE,
            member_id=event.member_id,
            properties={"product_id": str(rng.choice(products))},
        )
        viewers.add(event.member_id)
    return viewers


def _city_shops(session: Session, counters: list[Store]) -> dict[uuid.UUID, Store]:
    """Each counter's brand's shop in its city, when there is one."""
    shops = list(
        session.scalars(
            select(Store).where(Store.channel_type == ChannelType.STORE).order_by(Store.code)
        )
    )
    found = {}
    for counter in counters:
        shop = next(
            (s for s in shops if s.city == counter.city and s.brand_id == counter.brand_id), None
        )
        if shop is not None:
            found[counter.id] = shop
    return found


def _purchase_moment(
    exposed_at: datetime, now: datetime, zone_name: str, rng: random.Random
) -> datetime:
    """A moment inside the window after the exposure, on a local day before today: the same
    day or up to 13 days later, an hour or two after the approach's time of day."""
    exposed_day = to_local(exposed_at, zone_name).date()
    today = to_local(now, zone_name).date()
    latest = min(WINDOW_DAYS - 1, (today - exposed_day).days - 1)
    later = rng.randint(0, max(latest, 0))
    return exposed_at + timedelta(days=later, minutes=rng.randint(10, 110))
