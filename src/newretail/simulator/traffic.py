"""The traffic model: shoppers moving through an organisation's scenes over the last N days.

A pure, deterministic function of (world, days, rate, seed, end): the same arguments give
the same shoppers, journeys, message ids and order ids. `simulator.py` sends the result.

- **Rate** R is the number of shopper *sessions* per day: one trip through a commercial
  district, a shop visit, a cloud-shelf browse, a vending-machine stop or an online visit.
  The period is the N × 24 hours before the end; every calendar day it touches (store time
  zone) gets R sessions at random times and those outside the period are dropped, so a run
  holds about N × R sessions. About a third of sessions are returning shoppers, so there
  are roughly 0.65 × N × R distinct shoppers.
- Shoppers start anonymous: offline sensors see a phone's `device_id`, the web shop a cookie
  `anonymous_id` (the app sends both, which ties them). They are identified later, in one
  `identify` event that carries the identifiers together: the member code at a counter or
  till (`device_id` + `phone`, and `member_card` when they hold one), a log-in online
  (`anonymous_id` + `account_id`, `email` when known), WeChat log-in at a cloud shelf
  (`device_id` + `wechat_unionid` + `account_id`).
- Offline scenes happen in opening hours (10:00–22:00 when a store has none). Till sales are
  back-dated POS orders (`sold_at`). The orders API stamps online and cloud-shelf checkouts
  with the time of the call, so those purchases happen in the *sale window* (the last
  6 hours before the end): shoppers who put something in a cart on earlier days come back
  then and pay, as pre-sale carts are paid on the day of a sale.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from newretail.simulator.planning import (
    CART_RETURN_SHARE,
    MAX_DAYS,
    MEMBER_SHARE,
    RATINGS,
    REVIEW_SHARE,
    SHARE_SHARE,
    Plan,
    Planner,
    Sale,
    Shopper,
    product_properties,
)
from newretail.simulator.world import POS_CHANNELS, SkuInfo, StoreInfo, World

__all__ = ["MAX_DAYS", "Plan", "Sale", "plan_traffic"]


def plan_traffic(
    world: World,
    days: int,
    rate: int,
    seed: int,
    end: datetime,
    member_share: float = MEMBER_SHARE,
) -> Plan:
    """Shoppers' sessions over the `days` days up to `end`, `rate` sessions a day."""
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be between 1 and {MAX_DAYS}")
    if rate < 0:
        raise ValueError("rate must not be negative")
    if end.tzinfo is None:
        raise ValueError("end must be an aware time")
    planner = _Journeys(world, seed, end.astimezone(UTC), days, member_share)
    # the period is the `days` × 24 hours before the end: the calendar days it touches, each
    # with `rate` sessions, keeping those that fall inside it (so about days × rate in all)
    for back in range(days, -1, -1):
        for _ in range(rate):
            planner.session(back)
    planner.returning_carts()
    planner.events.sort(key=lambda e: (e["_at"], e["message_id"]))
    for event in planner.events:
        del event["_at"]
    pos = sorted((s for s in planner.sales if s.kind == "pos"), key=lambda s: (s.at, s.shopper))
    checkouts = [s for s in planner.sales if s.kind == "checkout"]
    return Plan(
        events=planner.events,
        sales=pos + checkouts,
        shoppers=len(planner.shoppers),
        sessions=planner.sessions,
        identified=sum(1 for s in planner.shoppers if s.offline_known or s.online_known),
        end=planner.end,
    )


class _Journeys(Planner):
    """The scenes: where shoppers go, what they do there, when they buy."""

    def _district(self, shopper: Shopper, back: int) -> bool:
        rng = self.rng
        places = [s for s in self._in_city(shopper, *POS_CHANNELS) if s.district]
        weights = [3 if s.channel_type == "popup" else 1 for s in places]
        store = rng.choices(places, weights)[0]
        at = self._opening_time(store, back)
        if at is None:
            return False
        sensors = {"device_id": shopper.device_id}
        props = {"district": store.district, "beacon_id": f"{store.code}-district"}
        at = self._emit(shopper, "district_enter", at, store, sensors, props)
        if rng.random() < 0.7:
            screen = {"screen_id": f"{store.code}-screen", "duration_s": rng.randint(3, 40)}
            at = self._emit(shopper, "screen_exposure", at, store, sensors, screen)
        if rng.random() < 0.4:
            self._visit(shopper, store, at, purchase_rate=0.25)
        return True

    def _shop(self, shopper: Shopper, back: int) -> bool:
        shops = ("store", "counter", "popup")
        return self._at_open_store(shopper, back, shops, partial(self._visit, purchase_rate=0.35))

    def _visit(
        self, shopper: Shopper, store: StoreInfo, at: datetime, purchase_rate: float
    ) -> None:
        rng = self.rng
        sensors = {"device_id": shopper.device_id}
        at = self._emit(
            shopper, "store_visit", at, store, sensors, {"dwell_s": rng.randint(60, 1500)}
        )
        if rng.random() < (0.9 if store.channel_type == "counter" else 0.6):
            approach = {
                "distance_m": round(rng.uniform(0.5, 3.0), 1),
                "beacon_id": f"{store.code}-counter",
            }
            at = self._emit(shopper, "counter_approach", at, store, sensors, approach)
        assortment = self.world.assortment(store)
        if assortment and rng.random() < 0.25:
            sku = self._pick(assortment, shopper)
            props = product_properties(sku, store)
            at = self._emit(shopper, "trial_claim", at, store, sensors, props, sku.brand_id)
        if rng.random() < 0.1:
            coupon = {"coupon_id": f"CPN-{rng.randrange(10**8):08d}", "template_id": "in-store"}
            at = self._emit(shopper, "coupon_claim", at, store, sensors, coupon)
        if not assortment or rng.random() >= purchase_rate:
            return
        member = None
        if rng.random() < 0.75:  # shows the member code at the till
            at = self._identify_offline(shopper, store, at)
            member = (
                ("member_card", shopper.member_card)
                if shopper.member_card and rng.random() < 0.5
                else ("phone", shopper.phone)
            )
        self._till_sale(shopper, store, at, assortment, member)

    def _identify_offline(self, shopper: Shopper, store: StoreInfo, at: datetime) -> datetime:
        if shopper.offline_known:
            return at
        ids = {"device_id": shopper.device_id, "phone": shopper.phone}
        if shopper.member_card:
            ids["member_card"] = shopper.member_card
        shopper.offline_known = True
        return self._emit(shopper, "identify", at, store, ids, {"method": "member_code"})

    def _till_sale(
        self,
        shopper: Shopper,
        store: StoreInfo,
        at: datetime,
        assortment: list[SkuInfo],
        member: tuple[str, str] | None,
    ) -> None:
        rng = self.rng
        count = 1 if rng.random() < 0.75 else 2
        chosen = []
        for _ in range(count):
            sku = self._pick(assortment, shopper)
            if sku not in chosen:
                chosen.append(sku)
        lines = [(sku.id, 1 if rng.random() < 0.85 else 2) for sku in chosen]
        sold_at = at + timedelta(seconds=rng.randint(60, 300))
        self.sales.append(
            Sale(
                kind="pos",
                store_id=store.id,
                external_order_id=self._order_id(store),
                lines=lines,
                shopper=shopper.number,
                at=sold_at,
                member=member,
            )
        )
        if member is not None:
            self._after_purchase(shopper, store, sold_at, chosen[0])

    def _vending(self, shopper: Shopper, back: int) -> bool:
        return self._at_open_store(shopper, back, ("vending",), self._vending_stop)

    def _vending_stop(self, shopper: Shopper, machine: StoreInfo, at: datetime) -> None:
        rng = self.rng
        if rng.random() < 0.5:
            screen = {"screen_id": f"{machine.code}-screen", "duration_s": rng.randint(3, 20)}
            at = self._emit(
                shopper, "screen_exposure", at, machine, {"device_id": shopper.device_id}, screen
            )
        assortment = self.world.assortment(machine)
        if assortment and rng.random() < 0.85:
            member = (
                ("phone", shopper.phone) if shopper.offline_known and rng.random() < 0.3 else None
            )
            self._till_sale(shopper, machine, at, assortment, member)

    def _cloud_shelf(self, shopper: Shopper, back: int) -> bool:
        return self._at_open_store(shopper, back, ("cloud_shelf",), self._shelf_browse)

    def _shelf_browse(self, shopper: Shopper, shelf: StoreInfo, at: datetime) -> None:
        rng = self.rng
        assortment = self.world.assortment(shelf)
        sensors = {"device_id": shopper.device_id}
        carted: SkuInfo | None = None
        for _ in range(rng.randint(1, 4) if assortment else 0):
            sku = self._pick(assortment, shopper)
            props = {**product_properties(sku, shelf), "screen_id": f"{shelf.code}-screen"}
            at = self._emit(shopper, "shelf_browse", at, shelf, sensors, props, sku.brand_id)
            if carted is None and rng.random() < 0.3:  # scans the QR code with WeChat
                scanned = {"device_id": shopper.device_id, "wechat_unionid": shopper.wechat_unionid}
                kind = "add_to_cart" if rng.random() < 0.6 else "favorite"
                props = product_properties(sku, shelf) | (
                    {"quantity": 1} if kind == "add_to_cart" else {}
                )
                at = self._emit(shopper, kind, at, shelf, scanned, props, sku.brand_id)
                if kind == "add_to_cart":
                    carted = sku
        if carted is None and not assortment:
            self._emit(shopper, "screen_exposure", at, shelf, sensors, {"screen_id": shelf.code})
        if carted is not None:
            if at >= self.sale_from and rng.random() < 0.4:
                self._checkout(shopper, shelf, at, carted)
            else:
                shopper.carts.append((shelf, carted))

    def _online(self, shopper: Shopper, back: int) -> bool:
        rng = self.rng
        shop = self.online
        assert shop is not None
        day = self.end.astimezone(ZoneInfo(shop.time_zone)).date() - timedelta(days=back)
        minute = rng.randint(7 * 60, 24 * 60 - 46)
        at = self._fits(shop.local(day, minute) + timedelta(seconds=rng.randint(0, 59)))
        if at is None:
            return False
        assortment = self.world.assortment(shop)
        app = rng.random() < 0.5
        ids = self._online_ids(shopper, app)
        if assortment and rng.random() < 0.35:
            category = self._pick(assortment, shopper).category
            query = {"category": category, "query": category.split("/")[-1].lower()}
            at = self._emit(shopper, "category_search", at, shop, ids, query)
        viewed = (
            [self._pick(assortment, shopper) for _ in range(rng.randint(1, 5))]
            if (assortment)
            else []
        )
        for sku in viewed:
            props = product_properties(sku, shop)
            at = self._emit(shopper, "product_view", at, shop, ids, props, sku.brand_id)
        if not viewed:
            self._emit(shopper, "page_view", at, shop, ids, {"name": "home"})
            return True
        if rng.random() < 0.25:
            liked = rng.choice(viewed)
            props = product_properties(liked, shop)
            at = self._emit(shopper, "favorite", at, shop, ids, props, liked.brand_id)
        carted = None
        if rng.random() < 0.35:
            carted = rng.choice(viewed)
            props = product_properties(carted, shop) | {"quantity": 1}
            at = self._emit(shopper, "add_to_cart", at, shop, ids, props, carted.brand_id)
        if rng.random() < 0.1:
            coupon = {"coupon_id": f"CPN-{rng.randrange(10**8):08d}", "template_id": "online"}
            at = self._emit(shopper, "coupon_claim", at, shop, ids, coupon)
        if rng.random() < 0.05:
            at = self._emit(shopper, "follow", at, shop, ids, {"account": "flagship"})
        if not shopper.online_known and rng.random() < 0.3:
            at = self._login(shopper, shop, at, app)
        if carted is not None:
            if at >= self.sale_from and rng.random() < 0.5:
                self._checkout(shopper, shop, at, carted, app)
            else:
                shopper.carts.append((shop, carted))
        return True

    def _online_ids(self, shopper: Shopper, app: bool) -> dict[str, str]:
        ids = {"anonymous_id": shopper.anonymous_id}
        if app:  # the app knows the phone's device id too
            ids["device_id"] = shopper.device_id
        if shopper.online_known:
            ids["account_id"] = shopper.account_id
        return ids

    def _login(self, shopper: Shopper, store: StoreInfo, at: datetime, app: bool) -> datetime:
        if shopper.online_known:
            return at
        ids = self._online_ids(shopper, app) | {"account_id": shopper.account_id}
        if shopper.email:
            ids["email"] = shopper.email
        if store.channel_type == "cloud_shelf":
            ids |= {"device_id": shopper.device_id, "wechat_unionid": shopper.wechat_unionid}
        shopper.online_known = True
        return self._emit(shopper, "identify", at, store, ids, {"method": "login"})

    def _checkout(
        self, shopper: Shopper, store: StoreInfo, at: datetime, sku: SkuInfo, app: bool = True
    ) -> None:
        """Log in if needed, then buy the cart (placed at that moment, sent later)."""
        at = self._login(shopper, store, at, app)
        pickup = None
        if store.channel_type == "cloud_shelf" and self.rng.random() < 0.4:
            pickup = next(
                (
                    s
                    for s in self.world.of_channel("store", "counter")
                    if s.city == store.city
                    and s.brand_id == store.brand_id
                    and self.world.stock.get((s.id, sku.id), 0) > 0  # it can hand it over
                ),
                None,
            )
        origin = self._city_point(shopper) if store.channel_type == "online" else store
        self.sales.append(
            Sale(
                kind="checkout",
                store_id=store.id,
                external_order_id=self._order_id(store),
                lines=[(sku.id, 1)],
                shopper=shopper.number,
                at=at,
                account_id=shopper.account_id,
                phone=shopper.phone if shopper.offline_known or shopper.existing else None,
                email=shopper.email,
                fulfilment="pickup_in_store" if pickup else "ship",
                pickup_store_id=pickup.id if pickup else None,
                latitude=origin.latitude if origin else None,
                longitude=origin.longitude if origin else None,
            )
        )

    def returning_carts(self) -> None:
        """Shoppers with an earlier cart come back in the sale window and pay for it."""
        rng = self.rng
        for shopper in self.shoppers:
            if not shopper.carts or rng.random() >= CART_RETURN_SHARE:
                continue
            store, sku = shopper.carts[-1]
            shopper.carts.clear()
            # a cloud shelf's cart is paid at the shelf, so in its opening hours
            at = self._time_between(store, self.sale_from, self.last - timedelta(minutes=10))
            if at is None:
                continue
            if store.channel_type == "cloud_shelf":  # back at the shelf, its QR code again
                ids = {"device_id": shopper.device_id, "wechat_unionid": shopper.wechat_unionid}
            else:
                ids = self._online_ids(shopper, app=True)
            props = product_properties(sku, store)
            at = self._emit(shopper, "product_view", at, store, ids, props, sku.brand_id)
            self._checkout(shopper, store, at, sku)
            self.sessions += 1

    # ------------------------------------------------------------ after a purchase
    def _after_purchase(
        self, shopper: Shopper, store: StoreInfo, at: datetime, sku: SkuInfo
    ) -> None:
        rng = self.rng
        where = self.online or store
        ids = (
            {"account_id": shopper.account_id} if shopper.online_known else {"phone": shopper.phone}
        )
        if rng.random() < REVIEW_SHARE:
            when = at + timedelta(days=rng.randint(1, 4), minutes=rng.randint(0, 600))
            rating = rng.choices([r for r, _ in RATINGS], [w for _, w in RATINGS])[0]
            review = {"rating": rating, "positive": rating >= 4, "product_id": sku.product_id}
            self._emit(shopper, "review", when, where, ids, review, brand_id=sku.brand_id)
        if rng.random() < SHARE_SHARE:
            share = {"product_id": sku.product_id, "target": "wechat_moments"}
            self._emit(shopper, "share", at + timedelta(hours=2), where, ids, share, sku.brand_id)

    # ------------------------------------------------------------ helpers
