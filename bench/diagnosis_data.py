"""A generated retail organisation for the diagnosis benchmark (bench/diagnosis.py) and its test
(tests/diagnosis/test_bench_data.py): stores made through the tenancy service, a plan of each
store's local days in numpy (fixed seed), and the events written straight into the warehouse's
event table by DuckDB SQL (hash-based pseudo-random values, fixed seed), one INSERT per day
in time order as a collector would have appended them.

The shapes (docs/diagnosis.md, "Benchmark"):
- stores: 3 % online, 35 % shops, 40 % counters, 8 % pop-ups, 8 % cloud shelves, 6 % vending
  machines; 6 main categories; 85 % in Asia/Shanghai, the rest in Hong Kong, Tokyo, Singapore
  and London (London changes its clocks inside the month); sizes skewed (a store's share of
  orders falls as 1/√rank), each with its own trend between the two months; 2 % closed after
  the first month (tier 1 in the second) and 2 % opened in the second (split by Shapley).
- purchases: one per order, with `order_id` and `lines` (sku, category, quantity, unit price,
  amount; 1–3 lines, 1–2 units each), the amount the lines' sum; online 60 % members, the rest
  anonymous; offline 35 % members, the rest walk-ins without an id.
- refunds (`order_refunded`): 2 % of the orders, 1–5 days later at the order's store, whole or
  the first line.
- offline visitors: a people counter (`footfall`, an hourly `count` over 12 opening hours) in
  70 % of the offline stores, silent on 1 % of their days; `store_visit` events (Wi-Fi and
  member check-ins) everywhere, 7 distinct people in every 8 visits.
- online visitors: sessions of 1–4 events (a `page_view`, then `product_view`s), 40 % of them
  members; 10 % of sessions add to cart, 4 % favourite.
- the rest of the events (ad impressions, screen exposures, coupon claims, counter
  approaches), which the metrics do not read, bring the total to the number asked.
"""

# ruff: noqa: S608 (the SQL is built from constants and numbers of this module)

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa

from newretail.core.database import scope_session, session_scope
from newretail.core.localtime import local_day_bounds
from newretail.tenancy import schemas
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.models import ChannelType, Role
from newretail.tenancy.permissions import Principal, PrincipalKind

SEED = 20261207
OWNER_PASSWORD = "bench-password-123"  # noqa: S105 (a throw-away organisation)
ORG_ZONE = "Asia/Shanghai"
CHANNELS = [
    (ChannelType.ONLINE, 3),
    (ChannelType.STORE, 35),
    (ChannelType.COUNTER, 40),
    (ChannelType.POPUP, 8),
    (ChannelType.CLOUD_SHELF, 8),
    (ChannelType.VENDING, 6),
]
CATEGORIES = ["beauty", "fashion", "food", "home", "sports", "electronics"]
ZONES = [
    ("Asia/Shanghai", 85, ["Shanghai", "Beijing", "Hangzhou", "Shenzhen", "Chengdu", "Wuhan"]),
    ("Asia/Hong_Kong", 5, ["Hong Kong"]),
    ("Asia/Tokyo", 4, ["Tokyo", "Osaka"]),
    ("Asia/Singapore", 4, ["Singapore"]),
    ("Europe/London", 2, ["London"]),
]
SKUS = 3000
OPEN_HOUR, OPEN_HOURS = 10, 12
SESSION_EVENTS = 2.5  # a session's mean number of page and product views (1–4)
CART_PCT, FAVOURITE_PCT = 10, 4
REFUND_PCT = 2
COUNTER_PCT, COUNTER_SILENT_PCT = 70, 1
FILLER_TYPES = ["ad_impression", "screen_exposure", "coupon_claim", "ad_click"]


@dataclass(frozen=True)
class Size:
    """What to generate: `days` local days ending today (today up to now)."""

    stores: int
    events: int
    orders: int
    days: int = 61


@dataclass
class Organisation:
    """The generated organisation: its id, owner login, stores and the days generated."""

    organization_id: uuid.UUID
    owner_email: str
    stores: list[dict[str, Any]]  # id, code, channel_type, time_zone, category, city
    first_day: date
    today: date

    @property
    def owner(self) -> Principal:
        return Principal.for_role(
            PrincipalKind.USER, self.organization_id, Role.OWNER, actor="bench"
        )


def _pick(rng: np.random.Generator, options: list[Any], weights: list[int], n: int) -> list[Any]:
    p = np.array(weights, dtype=float) / sum(weights)
    return [options[i] for i in rng.choice(len(options), size=n, p=p)]


def create_organisation(container: Any, stores: int) -> Organisation:
    """One organisation with 3 brands and `stores` stores, through the tenancy service."""
    rng = np.random.default_rng(SEED)
    suffix = uuid.uuid4().hex[:8]
    email = f"owner-{suffix}@example.com"
    channels = _pick(rng, [c for c, _ in CHANNELS], [w for _, w in CHANNELS], stores)
    zones = _pick(rng, list(range(len(ZONES))), [w for _, w, _ in ZONES], stores)
    categories = rng.integers(0, len(CATEGORIES), size=stores)
    city_draw = rng.integers(0, 1000, size=stores)
    made: list[dict[str, Any]] = []
    with session_scope(container.sessions) as session:
        created = tenancy_service.create_organization(
            scope_session(session, None),
            f"Bench retail {suffix}",
            owner_email=email,
            owner_password=OWNER_PASSWORD,
            slug=f"bench-{suffix}",
        )
        org_id = created.organization.id
        scope_session(session, org_id)
        owner = Principal.for_role(PrincipalKind.USER, org_id, Role.OWNER, actor="bench")
        brands = [
            tenancy_service.create_brand(
                session, owner, schemas.BrandCreate(code=f"b{n}", name=f"Brand {n}")
            )
            for n in range(3)
        ]
        for k in range(stores):
            channel = channels[k]
            zone, _, cities = ZONES[0] if channel == ChannelType.ONLINE else ZONES[zones[k]]
            city = None if channel == ChannelType.ONLINE else cities[city_draw[k] % len(cities)]
            category = CATEGORIES[categories[k]]
            store = tenancy_service.create_store(
                session,
                owner,
                schemas.StoreCreate(
                    code=f"S{k:04d}",
                    name=f"{city or 'Online'} {category} {channel.value} {k:04d}",
                    channel_type=channel,
                    brand_id=brands[k % len(brands)].id,
                    city=city,
                    category=category,
                    time_zone=zone,
                ),
            )
            made.append(
                {
                    "k": k,
                    "store_id": str(store.id),
                    "brand_id": str(store.brand_id),
                    "channel_type": channel.value,
                    "time_zone": zone,
                    "category": category,
                    "city": city,
                }
            )
    today = datetime.now(UTC).astimezone(_zone(ORG_ZONE)).date()
    return Organisation(org_id, email, made, today, today)


def _zone(name: str) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def plan(org: Organisation, size: Size) -> pa.Table:
    """Each store's local days: orders, visitors aimed at, people-counter hours, visit events,
    online sessions and filler events (numpy, fixed seed)."""
    rng = np.random.default_rng(SEED + 1)
    n, days = len(org.stores), size.days
    org.first_day = org.today - timedelta(days=days - 1)
    middle = (days - 1) // 2  # the first day of the second month (the comparison period)
    rank = rng.permutation(n)
    weight = np.sqrt((rank + 1) / n) - np.sqrt(rank / n)
    online = np.array([s["channel_type"] == "online" for s in org.stores])
    weight = np.where(online, weight * 3, weight)
    trend = rng.uniform(-0.35, 0.35, n)
    conversion = np.where(online, rng.uniform(0.02, 0.08, n), rng.uniform(0.08, 0.30, n))
    conversion_trend = rng.uniform(-0.2, 0.2, n)
    fate = rng.integers(0, 100, n)  # 0, 1: closed after the first month; 2, 3: opened after
    counter = ~online & (rng.integers(0, 100, n) < COUNTER_PCT)

    day_index = np.arange(days)
    dates = [org.first_day + timedelta(days=int(d)) for d in day_index]
    weekend = np.array([1.3 if d.weekday() >= 5 else 1.0 for d in dates])
    progress = (day_index - middle) / max(middle, 1)
    alive = np.ones((n, days), dtype=bool)
    alive[fate < 2, middle:] = False
    alive[(fate >= 2) & (fate < 4), :middle] = False
    factor = weight[:, None] * (1 + trend[:, None] * progress[None, :]) * weekend[None, :] * alive
    expected = size.orders * factor / factor.sum()
    orders = rng.poisson(expected)
    rate = conversion[:, None] * (1 + conversion_trend[:, None] * progress[None, :])
    visitors = expected / rate
    visit_share = np.where(counter, 0.3, 1.0)[:, None]
    # the events visitors make (visits offline, sessions online); fewer when they would
    # exceed the events asked for, which raises conversion
    made_by_visitors = np.where(
        online[:, None],
        visitors * (SESSION_EVENTS + (CART_PCT + FAVOURITE_PCT) / 100),
        visitors * visit_share * 8 / 7,
    ).sum()
    fixed = size.orders * (1 + REFUND_PCT / 100) + (counter[:, None] & alive).sum() * OPEN_HOURS
    if fixed + made_by_visitors > size.events:
        visitors *= max(0.0, size.events - fixed) / made_by_visitors
    visitors = np.rint(visitors).astype(np.int64)
    silent = rng.integers(0, 100, (n, days)) < COUNTER_SILENT_PCT
    counter_hours = np.where(counter[:, None] & ~silent & alive, OPEN_HOURS, 0)
    visits = np.where(online[:, None], 0, np.rint(visitors * visit_share * 8 / 7)).astype(np.int64)
    sessions = np.where(online[:, None], visitors, 0).astype(np.int64)
    produced = (
        orders.sum() * (1 + REFUND_PCT / 100)
        + counter_hours.sum()
        + visits.sum()
        + sessions.sum() * (SESSION_EVENTS + (CART_PCT + FAVOURITE_PCT) / 100)
    )
    rest = max(0.0, size.events - produced)
    filler = rng.poisson(rest * factor / factor.sum()) if rest else np.zeros_like(orders)

    starts = {
        (zone, d): local_day_bounds(dates[d], zone)[0]
        for zone in {s["time_zone"] for s in org.stores}
        for d in range(days)
    }
    zone_of = [s["time_zone"] for s in org.stores]
    return pa.table(
        {
            "k": np.repeat(np.arange(n), days).astype(np.int64),
            "d": np.tile(day_index, n).astype(np.int64),
            "start_utc": pa.array(
                [starts[(zone_of[k], d)] for k in range(n) for d in range(days)],
                pa.timestamp("us", tz="UTC"),
            ),
            "orders": orders.ravel().astype(np.int64),
            "visitors": visitors.ravel(),
            "counter_hours": counter_hours.ravel().astype(np.int64),
            "visits": visits.ravel(),
            "sessions": sessions.ravel(),
            "filler": filler.ravel().astype(np.int64),
        }
    )


def _h(*parts: str | int) -> str:
    """A pseudo-random unsigned 64-bit value of the given SQL expressions and the seed."""
    return f"hash({', '.join(str(p) for p in (*parts, SEED))})"


def _line(n: int) -> str:
    """The JSON of a purchase's line n (columns sku{n}, q{n}, price{n} of the row)."""
    return (
        f"""'{{"order_line_id":"' || oid || '-{n}","sku_id":"sku-' || sku{n} || """
        f"""'","sku_code":"SKU' || sku{n} || '","category":"' || cat{n} || """
        f"""'","quantity":' || q{n} || ',"unit_price":"' || price{n} || """
        f"""'","amount":"' || (price{n} * q{n}) || '"}}'"""
    )


def _categories() -> str:
    return "[" + ", ".join(f"'{c}'" for c in CATEGORIES) + "]"


PURCHASES_VIEW = f"""
CREATE OR REPLACE MACRO bench_purchase(first_d, last_d) AS TABLE
WITH o AS (
    SELECT sd.k, sd.d, sd.start_utc, s.store_id, s.brand_id, s.channel_type,
           unnest(range(sd.orders)) AS j
    FROM bench_store_day sd JOIN bench_store s USING (k)
    WHERE sd.orders > 0 AND sd.d BETWEEN first_d AND last_d
), r AS (
    SELECT *, 'o-' || k || '-' || d || '-' || j AS oid,
           CAST({_h("k", "d", "j", 1)} % 10 AS INTEGER) AS n_lines_draw,
           CAST({_h("k", "d", "j", 2)} % {SKUS} AS INTEGER) AS sku0,
           CAST({_h("k", "d", "j", 3)} % {SKUS} AS INTEGER) AS sku1,
           CAST({_h("k", "d", "j", 4)} % {SKUS} AS INTEGER) AS sku2,
           1 + CAST({_h("k", "d", "j", 5)} % 10 >= 8 AS INTEGER) AS q0,
           1 + CAST({_h("k", "d", "j", 6)} % 10 >= 8 AS INTEGER) AS q1,
           1 + CAST({_h("k", "d", "j", 7)} % 10 >= 8 AS INTEGER) AS q2,
           CAST({_h("k", "d", "j", 8)} % 100 AS INTEGER) AS member_draw,
           CAST({_h("k", "d", "j", 9)} AS UBIGINT) AS member_hash,
           CASE WHEN channel_type = 'online' THEN {_h("k", "d", "j", 10)} % 86400
                ELSE {OPEN_HOUR * 3600} + {_h("k", "d", "j", 10)} % {OPEN_HOURS * 3600}
           END AS secs
    FROM o
), p AS (
    SELECT *,
           1 + CAST(n_lines_draw >= 6 AS INTEGER) + CAST(n_lines_draw >= 9 AS INTEGER)
               AS n_lines,
           CAST((1900 + sku0 * 7919 % 48100) / 100 AS DECIMAL(18, 2)) AS price0,
           CAST((1900 + sku1 * 7919 % 48100) / 100 AS DECIMAL(18, 2)) AS price1,
           CAST((1900 + sku2 * 7919 % 48100) / 100 AS DECIMAL(18, 2)) AS price2,
           {_categories()}[sku0 % {len(CATEGORIES)} + 1] AS cat0,
           {_categories()}[sku1 % {len(CATEGORIES)} + 1] AS cat1,
           {_categories()}[sku2 % {len(CATEGORIES)} + 1] AS cat2,
           start_utc + to_seconds(CAST(secs AS BIGINT)) AS ts
    FROM r
)
SELECT k, d, j, store_id, brand_id, channel_type, oid, ts, n_lines,
       price0 * q0 + CASE WHEN n_lines >= 2 THEN price1 * q1 ELSE 0 END
           + CASE WHEN n_lines >= 3 THEN price2 * q2 ELSE 0 END AS amount,
       price0 * q0 AS first_line_amount,
       q0 + CASE WHEN n_lines >= 2 THEN q1 ELSE 0 END + CASE WHEN n_lines >= 3 THEN q2 ELSE 0 END
           AS units,
       CASE WHEN member_draw < CASE WHEN channel_type = 'online' THEN 60 ELSE 35 END
            THEN 'mem-' || member_hash % {{members}} END AS member_id,
       CASE WHEN channel_type = 'online' AND member_draw >= 60 THEN 'anon-p-' || oid END
           AS anonymous_id,
       {_line(0)} AS line0,
       {_line(1)} AS line1,
       {_line(2)} AS line2
FROM p
"""

EVENT_COLUMNS = (
    "organization_id, message_id, type, ts, received_at, brand_id, store_id, channel, "
    "member_id, profile_id, anonymous_id, amount, properties"
)


def _days_insert(org: str, first: int, last: int, now: datetime, members: int) -> str:
    """Every event of plan days first … last (all stores), in time order, up to `now`."""
    return f"""
    INSERT INTO event ({EVENT_COLUMNS})
    WITH sd AS (
        SELECT sd.*, s.store_id, s.brand_id, s.channel_type
        FROM bench_store_day sd JOIN bench_store s USING (k) WHERE sd.d BETWEEN {first} AND {last}
    ), purchases AS (
        SELECT 'purchase' AS type, 'p-' || oid AS message_id, ts, brand_id, store_id,
               CASE WHEN channel_type = 'online' THEN 'online' ELSE 'pos' END AS channel,
               member_id, anonymous_id, amount,
               '{{"order_id":"' || oid || '","fulfilment_type":"'
                   || CASE WHEN channel_type = 'online' THEN 'ship' ELSE 'carry_out' END
                   || '","currency":"CNY","lines":[' || line0
                   || CASE WHEN n_lines >= 2 THEN ',' || line1 ELSE '' END
                   || CASE WHEN n_lines >= 3 THEN ',' || line2 ELSE '' END || ']}}'
                   AS properties
        FROM bench_purchase({first}, {last})
    ), hours AS (
        SELECT sd.*, unnest(range(counter_hours)) AS h FROM sd WHERE counter_hours > 0
    ), footfall AS (
        SELECT 'footfall' AS type, 'f-' || k || '-' || d || '-' || h AS message_id,
               start_utc + to_seconds(CAST({OPEN_HOUR * 3600} + h * 3600 + 3599 AS BIGINT))
                   AS ts,
               brand_id, store_id, 'sensor' AS channel, NULL AS member_id,
               NULL AS anonymous_id, NULL AS amount,
               '{{"count":' || (visitors // {OPEN_HOURS}
                   + CAST(h < visitors % {OPEN_HOURS} AS INTEGER))
                   || ',"sensor_id":"door-' || k || '"}}' AS properties
        FROM hours
    ), visit_rows AS (
        SELECT sd.*, unnest(range(visits)) AS j FROM sd WHERE visits > 0
    ), visits AS (
        SELECT 'store_visit' AS type, 'v-' || k || '-' || d || '-' || j AS message_id,
               start_utc + to_seconds(CAST({OPEN_HOUR * 3600}
                   + {_h("k", "d", "j", 20)} % {OPEN_HOURS * 3600} AS BIGINT)) AS ts,
               brand_id, store_id, channel_type AS channel,
               CASE WHEN {_h("k", "d", "j", 21)} % 100 < 30
                    THEN 'mem-' || {_h("k", "d", "j", 22)} % {members} END AS member_id,
               'wifi-' || k || '-' || d || '-' || (j * 7 // 8) AS anonymous_id,
               NULL AS amount,
               '{{"dwell_s":' || {_h("k", "d", "j", 23)} % 1800 || '}}' AS properties
        FROM visit_rows
    ), session_rows AS (
        SELECT sd.*, unnest(range(sessions)) AS s FROM sd WHERE sessions > 0
    ), session_people AS (
        SELECT *,
               CASE WHEN {_h("k", "d", "s", 30)} % 100 < 40
                    THEN 'mem-' || {_h("k", "d", "s", 31)} % {members} END AS member_id,
               'anon-w-' || k || '-' || d || '-' || s AS anonymous_id,
               {_h("k", "d", "s", 32)} % 86000 AS secs,
               CAST({_h("k", "d", "s", 33)} % {SKUS} AS INTEGER) AS sku,
               {_h("k", "d", "s", 34)} % 100 AS action
        FROM session_rows
    ), views AS (
        SELECT *, unnest(range(1 + CAST({_h("k", "d", "s", 35)} % 4 AS INTEGER))) AS v
        FROM session_people
    ), session_events AS (
        SELECT CASE WHEN v = 0 THEN 'page_view' ELSE 'product_view' END AS type,
               'w-' || k || '-' || d || '-' || s || '-' || v AS message_id,
               start_utc + to_seconds(CAST(secs + v * 40 AS BIGINT)) AS ts,
               brand_id, store_id, 'online' AS channel, member_id, anonymous_id,
               NULL AS amount,
               CASE WHEN v = 0 THEN '{{"name":"home","url":"/"}}'
                    ELSE '{{"product_id":"prod-' || ((sku + v) % {SKUS}) // 3
                         || '","sku":"sku-' || (sku + v) % {SKUS} || '","category":"'
                         || {_categories()}[(sku + v) % {SKUS} % {len(CATEGORIES)} + 1]
                         || '"}}' END AS properties
        FROM views
        UNION ALL
        SELECT CASE WHEN action < {CART_PCT} THEN 'add_to_cart' ELSE 'favorite' END,
               'c-' || k || '-' || d || '-' || s,
               start_utc + to_seconds(CAST(secs + 200 AS BIGINT)),
               brand_id, store_id, 'online', member_id, anonymous_id, NULL,
               '{{"product_id":"prod-' || sku // 3 || '","sku":"sku-' || sku
                   || '","quantity":1}}'
        FROM session_people WHERE action < {CART_PCT + FAVOURITE_PCT}
    ), filler_rows AS (
        SELECT sd.*, unnest(range(filler)) AS j FROM sd WHERE filler > 0
    ), filler AS (
        SELECT {_filler_types()}[
                   CAST({_h("k", "d", "j", 40)} % {len(FILLER_TYPES)} AS BIGINT) + 1] AS type,
               'x-' || k || '-' || d || '-' || j AS message_id,
               start_utc + to_seconds(CAST({_h("k", "d", "j", 41)} % 86400 AS BIGINT)) AS ts,
               brand_id, store_id, channel_type AS channel,
               CASE WHEN {_h("k", "d", "j", 42)} % 100 < 50
                    THEN 'mem-' || {_h("k", "d", "j", 43)} % {members} END AS member_id,
               'anon-x-' || {_h("k", "d", "j", 44)} % {members * 3} AS anonymous_id,
               NULL AS amount, '{{}}' AS properties
        FROM filler_rows
    ), all_events AS (
        SELECT * FROM purchases UNION ALL SELECT * FROM footfall UNION ALL SELECT * FROM visits
        UNION ALL SELECT * FROM session_events UNION ALL SELECT * FROM filler
    )
    SELECT '{org}', message_id, type, ts, ts, brand_id, store_id, channel, member_id, member_id,
           anonymous_id, CAST(amount AS DECIMAL(18, 2)), properties
    FROM all_events
    WHERE ts < TIMESTAMPTZ '{now.isoformat()}'
    ORDER BY ts
    """


def _filler_types() -> str:
    return "[" + ", ".join(f"'{t}'" for t in FILLER_TYPES) + "]"


def _refunds_insert(org: str, now: datetime, last_day: int) -> str:
    """Refunds of 2 % of the orders, 1–5 days after the purchase, appended in time order."""
    return f"""
    INSERT INTO event ({EVENT_COLUMNS})
    WITH r AS (
        SELECT *, ts + to_seconds(CAST(86400 + {_h("k", "d", "j", 50)} % (4 * 86400) AS BIGINT))
                   AS refunded_at,
               {_h("k", "d", "j", 51)} % 100 < 70 AS whole
        FROM bench_purchase(0, {last_day}) WHERE {_h("k", "d", "j", 52)} % 100 < {REFUND_PCT}
    )
    SELECT '{org}', 'r-' || oid, 'order_refunded', refunded_at, refunded_at, brand_id, store_id,
           CASE WHEN channel_type = 'online' THEN 'online' ELSE 'pos' END, member_id, member_id,
           anonymous_id, CASE WHEN whole THEN amount ELSE first_line_amount END,
           '{{"order_id":"' || oid || '","refund_id":"rf-' || oid || '","lines":['
               || CASE WHEN whole THEN line0
                       || CASE WHEN n_lines >= 2 THEN ',' || line1 ELSE '' END
                       || CASE WHEN n_lines >= 3 THEN ',' || line2 ELSE '' END
                  ELSE line0 END || ']}}'
    FROM r WHERE refunded_at < TIMESTAMPTZ '{now.isoformat()}'
    ORDER BY refunded_at
    """


def members_of(size: Size) -> int:
    """The member pool: about 2.5 orders per member."""
    return max(1000, math.ceil(size.orders / 2.5))


def generate(con: Any, org: Organisation, size: Size, log: Any = None) -> dict[str, int]:
    """Write the organisation's stores, plan and events into the warehouse (`con`: an Ibis
    DuckDB connection with the event table); returns the counts of what was written."""
    stores = pa.Table.from_pylist(org.stores)
    con.create_table("bench_store", stores, overwrite=True)
    con.create_table("bench_store_day", plan(org, size), overwrite=True)
    members = members_of(size)
    con.raw_sql(PURCHASES_VIEW.replace("{members}", str(members)))
    now = datetime.now(UTC).replace(microsecond=0)
    # about 2M events a statement: sorted in memory, and time-ordered in the table
    step = max(1, size.days * 2_000_000 // max(size.events, 1))
    for first in range(0, size.days, step):
        last = min(first + step, size.days) - 1
        con.raw_sql(_days_insert(str(org.organization_id), first, last, now, members))
        if log is not None:
            log(f"  generated days {first + 1}-{last + 1} of {size.days}")
    con.raw_sql(_refunds_insert(str(org.organization_id), now, size.days - 1))
    counts = con.raw_sql(
        "SELECT count(*), count(*) FILTER (WHERE type = 'purchase'), "
        "count(*) FILTER (WHERE type = 'order_refunded') FROM event"
    ).fetchone()
    return {"events": int(counts[0]), "orders": int(counts[1]), "refunds": int(counts[2])}
