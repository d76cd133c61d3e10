"""The traffic planner's building blocks: shoppers, sales, the plan, and the steps every
scene shares (choosing a shopper, a time, a product; recording an event). The scenes
themselves are in `traffic.py`."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from newretail.simulator.world import POS_CHANNELS, SkuInfo, StoreInfo, World

RETURNING_SHARE = 0.35
MEMBER_SHARE = 0.4  # of new shoppers, when existing members' phones are known
SALE_WINDOW = timedelta(hours=6)
LAST_EVENT_MARGIN = timedelta(minutes=2)  # nothing is dated closer to the end than this
SESSION_WEIGHTS = {"district": 25, "shop": 25, "cloud_shelf": 10, "vending": 10, "online": 30}
CART_RETURN_SHARE = 0.35
REVIEW_SHARE = 0.2
SHARE_SHARE = 0.05
RATINGS = ((5, 50), (4, 30), (3, 12), (2, 5), (1, 3))
MAX_DAYS = 365


@dataclass
class Sale:
    """An order the simulator places through the orders API."""

    kind: str  # "pos" (back-dated till sale) or "checkout" (online or cloud shelf, back-dated)
    store_id: str
    external_order_id: str
    lines: list[tuple[str, int]]  # (SKU id, quantity)
    shopper: int
    at: datetime | None = None  # POS: sold_at; checkout: placed_at
    member: tuple[str, str] | None = None  # POS: ("phone" | "member_card", value)
    account_id: str | None = None  # checkout: the logged-in account
    phone: str | None = None  # checkout: a phone the shop already knows for the shopper
    email: str | None = None
    fulfilment: str = "carry_out"
    pickup_store_id: str | None = None
    latitude: float | None = None
    longitude: float | None = None


@dataclass
class Shopper:
    number: int
    city: str | None
    brand_id: str | None
    device_id: str
    anonymous_id: str
    phone: str
    account_id: str
    email: str | None
    member_card: str | None
    wechat_unionid: str
    existing: bool
    offline_known: bool = False
    online_known: bool = False
    carts: list[tuple[StoreInfo, SkuInfo]] = field(default_factory=list)
    events: int = 0


@dataclass
class Plan:
    """The simulated traffic: events in time order, then orders."""

    events: list[dict[str, Any]]
    sales: list[Sale]
    shoppers: int
    sessions: int
    identified: int
    end: datetime

    def by_type(self) -> dict[str, int]:
        return dict(sorted(Counter(e["type"] for e in self.events).items()))


class Planner:
    """The state of one planning run; subclasses define the scenes (`_<kind>` methods)."""

    def __init__(
        self, world: World, seed: int, end: datetime, days: int, member_share: float
    ) -> None:
        self.world = world
        self.seed = seed
        # ids name the seed and the end: a run with the same ones sends the same ids (safe to
        # repeat), any other run sends new ones (never mistaken for an earlier run's events)
        self.tag = f"{seed}-{end.astimezone(UTC):%Y%m%d%H%M%S}"
        self.rng = random.Random(seed)  # noqa: S311 (simulated traffic, not secrets)
        self.end = end
        self.last = end - LAST_EVENT_MARGIN
        self.first = end - timedelta(days=days)
        self.sale_from = end - SALE_WINDOW
        self.member_share = member_share
        self.events: list[dict[str, Any]] = []
        self.sales: list[Sale] = []
        self.shoppers: list[Shopper] = []
        self.sessions = 0
        self.orders = 0
        self.phones: set[str] = set()
        self.known_phones = list(world.member_phones)
        self.rng.shuffle(self.known_phones)
        offline = [s for s in world.stores if s.channel_type in (*POS_CHANNELS, "cloud_shelf")]
        cities = Counter(s.city for s in offline if s.city)
        self.cities = sorted(cities)
        self.city_weights = [cities[c] for c in self.cities]
        self.online = next(iter(world.of_channel("online")), None)
        self.brands = sorted({s.brand_id for s in world.skus} | store_brands(world))

    # ------------------------------------------------------------ shoppers
    def _shopper(self) -> Shopper:
        rng = self.rng
        if self.shoppers and rng.random() < RETURNING_SHARE:
            return rng.choice(self.shoppers)
        number = len(self.shoppers) + 1
        city = rng.choices(self.cities, self.city_weights)[0] if self.cities else None
        existing = bool(self.known_phones) and rng.random() < self.member_share
        if existing:
            phone = self.known_phones.pop()
        else:
            phone = f"+86199{rng.randrange(10**8):08d}"
            while phone in self.phones:
                phone = f"+86199{rng.randrange(10**8):08d}"
        self.phones.add(phone)
        account_id = f"u{self.seed}-{rng.randrange(10**10):010d}"
        shopper = Shopper(
            number=number,
            city=city,
            brand_id=rng.choice(self.brands) if self.brands else None,
            device_id=f"dev-{rng.getrandbits(64):016x}",
            anonymous_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            phone=phone,
            account_id=account_id,
            email=f"{account_id}@example.com" if rng.random() < 0.4 else None,
            member_card=f"MC{rng.randrange(10**10):010d}" if rng.random() < 0.3 else None,
            wechat_unionid=f"o{rng.getrandbits(96):024x}",
            existing=existing,
        )
        self.shoppers.append(shopper)
        return shopper

    # ------------------------------------------------------------ sessions
    def session(self, back: int) -> None:
        """One session `back` calendar days before the end's date (none when it would fall
        outside the period; a shopper met only then is forgotten again)."""
        rng = self.rng
        known = len(self.shoppers)
        shopper = self._shopper()
        kinds = self._kinds(shopper)
        done = False
        if kinds:
            kind = rng.choices(kinds, [SESSION_WEIGHTS[k] for k in kinds])[0]
            done = getattr(self, f"_{kind}")(shopper, back)
        if done:
            self.sessions += 1
        elif len(self.shoppers) > known:
            self.shoppers.pop()
            self.phones.discard(shopper.phone)
            if shopper.existing:
                self.known_phones.append(shopper.phone)

    def _kinds(self, shopper: Shopper) -> list[str]:
        kinds = []
        local = [s for s in self.world.stores if shopper.city and s.city == shopper.city]
        channels = {s.channel_type for s in local}
        if any(s.district for s in local if s.channel_type in POS_CHANNELS):
            kinds.append("district")
        if channels & {"store", "counter", "popup"}:
            kinds.append("shop")
        if "cloud_shelf" in channels:
            kinds.append("cloud_shelf")
        if "vending" in channels:
            kinds.append("vending")
        if self.online is not None:
            kinds.append("online")
        return kinds

    def _in_city(self, shopper: Shopper, *channels: str) -> list[StoreInfo]:
        return [
            s for s in self.world.of_channel(*channels) if shopper.city and s.city == shopper.city
        ]

    def _opening_time(self, store: StoreInfo, back: int) -> datetime | None:
        """A moment in the store's opening hours that day, early enough to end in time."""
        day = self.end.astimezone(ZoneInfo(store.time_zone)).date() - timedelta(days=back)
        spans = [(o, c) for o, c in store.open_spans(day) if c - o >= 60]
        if not spans:
            return None
        opens, closes = self.rng.choices(spans, [c - o for o, c in spans])[0]
        minute = self.rng.randint(opens, closes - 45)
        at = store.local(day, minute) + timedelta(seconds=self.rng.randint(0, 59))
        return self._fits(at)

    def _at_open_store(
        self,
        shopper: Shopper,
        back: int,
        channels: tuple[str, ...],
        scene: Callable[[Shopper, StoreInfo, datetime], None],
    ) -> bool:
        """Play `scene` at a store of `channels` in the shopper's city, at a moment it is open
        that day; False (no session) when it is closed that day."""
        store = self.rng.choice(self._in_city(shopper, *channels))
        at = self._opening_time(store, back)
        if at is None:
            return False
        scene(shopper, store, at)
        return True

    def _time_between(self, store: StoreInfo, start: datetime, stop: datetime) -> datetime | None:
        """A random moment in [start, stop] within the store's opening hours (None: closed)."""
        zone = ZoneInfo(store.time_zone)
        windows: list[tuple[datetime, datetime]] = []
        day = start.astimezone(zone).date()
        while day <= stop.astimezone(zone).date():
            for opens, closes in store.open_spans(day):
                low = max(store.local(day, opens), start)
                high = min(store.local(day, closes), stop)
                if high > low:
                    windows.append((low, high))
            day += timedelta(days=1)
        if not windows:
            return None
        pick = self.rng.uniform(0, sum((h - lo).total_seconds() for lo, h in windows))
        for low, high in windows:
            length = (high - low).total_seconds()
            if pick <= length:
                return (low + timedelta(seconds=int(pick))).astimezone(zone)
            pick -= length
        return windows[-1][0].astimezone(zone)

    def _fits(self, at: datetime) -> datetime | None:
        """The time, if a 45-minute session starting then stays inside the simulated period."""
        if at < self.first or at + timedelta(minutes=45) > self.last:
            return None
        return at

    def _pick(self, assortment: list[SkuInfo], shopper: Shopper) -> SkuInfo:
        liked = [s for s in assortment if s.brand_id == shopper.brand_id]
        if liked and self.rng.random() < 0.7:
            return self.rng.choice(liked)
        return self.rng.choice(assortment)

    def _order_id(self, store: StoreInfo) -> str:
        self.orders += 1
        return f"sim-{self.tag}-{store.code}-{self.orders:06d}"

    def _city_point(self, shopper: Shopper) -> StoreInfo | None:
        return next(
            (s for s in self.world.stores if s.city == shopper.city and s.latitude is not None),
            None,
        )

    def _emit(
        self,
        shopper: Shopper,
        event_type: str,
        at: datetime,
        store: StoreInfo,
        identifiers: dict[str, str],
        properties: dict[str, Any],
        brand_id: str | None = None,
    ) -> datetime:
        """Add one event (when it falls inside the period); the next step comes a bit later."""
        if self.first <= at <= self.last:
            shopper.events += 1
            event: dict[str, Any] = {
                "message_id": f"sim-{self.tag}-{shopper.number:06d}-{shopper.events:04d}",
                "type": event_type,
                "ts": at.isoformat(),
                "store_id": store.id,
                "channel": store.channel_type,
                "identifiers": dict(identifiers),
                "properties": properties,
                "_at": at.astimezone(UTC),
            }
            brand = store.brand_id or brand_id
            if brand:
                event["brand_id"] = brand
            self.events.append(event)
        return at + timedelta(seconds=self.rng.randint(20, 240))


def product_properties(sku: SkuInfo, store: StoreInfo) -> dict[str, Any]:
    price = sku.prices.get(store.channel_type)
    props: dict[str, Any] = {
        "product_id": sku.product_id,
        "sku": sku.code,
        "category": sku.category,
    }
    if price is not None:
        props["price"] = float(price.quantize(Decimal("0.01")))
    return props


def store_brands(world: World) -> set[str]:
    return {s.brand_id for s in world.stores if s.brand_id}
