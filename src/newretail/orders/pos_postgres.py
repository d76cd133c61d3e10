"""A POS sale on PostgreSQL as one statement: one round trip between BEGIN and COMMIT.

The statement reads the store and the SKUs' prices and availability (the SQL form of the
catalogue's sale-price rule, `catalog.pricing`; a sale with coupons gives each line's price
and the offers' discount on it, priced before by `orders.sale_offers`), and only when the
store and every line are valid it inserts the order (ON CONFLICT on the device's order id DO
NOTHING), takes the units of each SKU from on-hand (an upsert in SKU order: goods in hand
are sold even beyond the system's stock, see `inventory.levels.sell_in_hand`), and inserts
the lines, the stock ledger rows and the outbox events, and redeems the sale's coupons
(marketing's redemption statement, `redemption_postgres.embedded`, after the stock rows). A
resend inserts no order, so it touches nothing else. It returns what the caller needs to
name the first invalid input, the event lines written to the outbox and the SKUs whose row
the sale overdrew (the caller sweeps their lapsed reservations).

The order's column list is derived from the `Order` model, so a new column cannot be left
out: its value must be in the caller's parameters (a KeyError at the first sale otherwise).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql

from newretail.catalog import pricing
from newretail.core import prepared
from newretail.marketing import redemption_postgres
from newretail.orders.models import Order
from newretail.tenancy.models import ChannelType

POS_CHANNELS = frozenset(
    {ChannelType.STORE, ChannelType.COUNTER, ChannelType.POPUP, ChannelType.VENDING}
)
_POS_CHANNELS = ", ".join(f"'{channel.value}'" for channel in sorted(POS_CHANNELS))

ORDER_TABLE: Table = Order.__table__  # type: ignore[assignment]

# order columns the statement computes; every other column is a bound parameter
COMPUTED = {
    "channel": "s.channel_type",
    "brand_id": "COALESCE(s.brand_id, v.brand_id)",
    "total_amount": "v.total_amount",
}

_DIALECT = postgresql.dialect()  # type: ignore[no-untyped-call]


def _order_columns() -> tuple[list[str], list[str], list[str]]:
    """(column names, their SQL expressions, the parameter names they need)."""
    names, expressions, parameters = [], [], []
    for column in ORDER_TABLE.columns:
        names.append(column.name)
        if column.name in COMPUTED:
            expressions.append(COMPUTED[column.name])
        else:
            sql_type = column.type.compile(dialect=_DIALECT)
            expressions.append(f"CAST(%({column.name})s AS {sql_type})")
            parameters.append(column.name)
    missing = set(COMPUTED) - set(names)
    if missing:
        raise RuntimeError(f"sales_order has no column {sorted(missing)}")
    return names, expressions, parameters


ORDER_COLUMNS, _ORDER_EXPRESSIONS, ORDER_PARAMETERS = _order_columns()


# built from the model and constants only; every value is a bound parameter ({redeem}: the
# sale's coupon redemptions' expressions, {redeemed}: their answers)
_SELL = f"""
WITH store_row AS MATERIALIZED (
    SELECT organization_id, code, channel_type, status, brand_id FROM store
    WHERE id = %(store_id)s
), our_store AS (
    SELECT code, channel_type, status, brand_id FROM store_row
    WHERE organization_id = %(organization_id)s
), wanted AS (
    SELECT * FROM json_to_recordset(CAST(%(lines)s AS json))
        AS w(id uuid, line_number integer, sku_id uuid, quantity integer, unit_price numeric,
            discount numeric, movement_id uuid)
), priced AS MATERIALIZED (
    SELECT w.id, w.line_number, w.sku_id, w.quantity, COALESCE(k.ours, false) AS known,
        k.code AS sku_code, k.brand_id, k.product_id, k.category, k.available,
        COALESCE(w.unit_price, k.amount) AS unit_price, COALESCE(w.discount, 0) AS discount
    FROM wanted w
    LEFT JOIN LATERAL (
        -- the SKU by its key alone; its organisation is checked here, not in the lookup
        SELECT k.organization_id = %(organization_id)s AS ours, k.code, k.brand_id,
            k.product_id, {pricing.SQL_CATEGORY} AS category,
            {pricing.SQL_SOLD_AT_STORE} AS available,
            {pricing.SQL_AMOUNT} AS amount
        FROM our_store s JOIN sku k ON k.id = w.sku_id
        LEFT JOIN product p ON p.id = k.product_id
        LEFT JOIN sku_price cp ON cp.sku_id = k.id AND cp.channel_type = s.channel_type
        LEFT JOIN sku_store_price sp ON sp.sku_id = k.id AND sp.store_id = %(store_id)s
        LEFT JOIN sku_store_availability av
            ON av.sku_id = k.id AND av.store_id = %(store_id)s
        LIMIT 1
    ) k ON true
), summary AS (
    SELECT bool_and(known AND available AND unit_price IS NOT NULL) AS valid,
        sum(round(unit_price * quantity, 2) - discount) AS total_amount,
        CASE WHEN count(DISTINCT brand_id) = 1 THEN (array_agg(brand_id))[1] END AS brand_id,
        json_agg(json_build_object('known', known, 'available', available,
            'priced', unit_price IS NOT NULL, 'sku_code', sku_code) ORDER BY line_number)
            AS checks,
        json_agg(json_build_object(
            'order_line_id', id, 'sku_id', sku_id, 'sku_code', sku_code,
            'product_id', product_id, 'category', category, 'brand_id', brand_id,
            'quantity', quantity, 'unit_price', CAST(unit_price AS text),
            'amount', CAST(round(unit_price * quantity, 2) - discount AS text),
            'location_id', CAST(%(store_id)s AS uuid)) ORDER BY line_number) AS lines
    FROM priced
), new_order AS (
    INSERT INTO sales_order ({", ".join(ORDER_COLUMNS)})
    SELECT {", ".join(_ORDER_EXPRESSIONS)}
    FROM our_store s CROSS JOIN summary v
    WHERE v.valid AND s.status = 'active' AND s.channel_type IN ({_POS_CHANNELS})
    ON CONFLICT (organization_id, store_id, external_order_id) DO NOTHING
    RETURNING *
), totals AS MATERIALIZED (
    SELECT sku_id, CAST(sum(quantity) AS integer) AS quantity,
        (array_agg(movement_id ORDER BY line_number))[1] AS movement_id
    FROM wanted GROUP BY sku_id ORDER BY sku_id
), taken AS (
    -- goods in hand are sold whatever the system stock says: on-hand may go below zero
    -- (listed by inventory.discrepancies); rows are locked in SKU order by the upsert
    INSERT INTO stock_level (id, organization_id, created_at, sku_id, location_id, on_hand,
        allocated, reserved, updated_at)
    SELECT gen_random_uuid(), o.organization_id, o.created_at, t.sku_id, o.store_id,
        -t.quantity, 0, 0, o.created_at
    FROM totals t CROSS JOIN new_order o
    ORDER BY t.sku_id
    ON CONFLICT (sku_id, location_id) DO UPDATE
        SET on_hand = stock_level.on_hand + EXCLUDED.on_hand, updated_at = EXCLUDED.updated_at
    RETURNING sku_id, on_hand - allocated - reserved AS available
), new_lines AS (
    INSERT INTO sales_order_line (id, organization_id, created_at, order_id, line_number,
        sku_id, brand_id, quantity, unit_price, amount, location_id, refunded_quantity)
    SELECT p.id, o.organization_id, o.created_at, o.id, p.line_number, p.sku_id,
        p.brand_id, p.quantity, p.unit_price, round(p.unit_price * p.quantity, 2) - p.discount,
        o.store_id, 0
    FROM priced p CROSS JOIN new_order o
), movements AS (
    INSERT INTO stock_movement (id, organization_id, created_at, sku_id, location_id, delta,
        reason, note, actor, reference)
    SELECT t.movement_id, o.organization_id, o.created_at, t.sku_id, o.store_id,
        -t.quantity, 'sale', NULL, o.actor, 'order:' || CAST(o.id AS text)
    FROM totals t CROSS JOIN new_order o
), events AS (
    INSERT INTO outbox_message (id, organization_id, created_at, event_type, occurred_at,
        brand_id, store_id, channel, member_id, amount, properties, published_at)
    SELECT e.id, o.organization_id, o.created_at, e.event_type, o.placed_at, o.brand_id,
        o.store_id, o.channel, o.member_id, o.total_amount,
        json_build_object('order_id', o.id, 'external_order_id', o.external_order_id,
            'fulfilment_type', o.fulfilment_type, 'currency', o.currency,
            'lines', (SELECT lines FROM summary)),
        NULL
    FROM new_order o CROSS JOIN (VALUES (CAST(%(placed_event_id)s AS uuid), 'order_placed'),
        (CAST(%(purchase_event_id)s AS uuid), 'purchase')) AS e(id, event_type)
){{redeem}}
SELECT o.id IS NOT NULL AS inserted, (SELECT row_to_json(s) FROM our_store s) AS store,
    m.checks, m.lines AS event_lines, CAST(o.brand_id AS text) AS brand_id,
    CAST(o.total_amount AS text) AS total_amount,
    (SELECT json_agg(t.sku_id ORDER BY t.sku_id) FROM taken t WHERE t.available < 0)
        AS overdrawn{{redeemed}}
FROM summary m LEFT JOIN new_order o ON true
"""  # noqa: S608
SELL = _SELL.replace("{redeem}", "").replace("{redeemed}", "")

# a coupon is redeemed only when the sale inserted its order (a resend inserts none), and only
# after the sale's stock rows are locked (`taken` is read whole first): one lock order, stock
# rows, then coupons and their budgets
_REDEEM_GUARD = "EXISTS (SELECT 1 FROM new_order) AND (SELECT count(*) FROM taken) >= 0"


def time_ordered_uuid() -> uuid.UUID:
    """A version 7 UUID (RFC 9562): Unix milliseconds, then 74 random bits. New rows' keys
    land at the end of their indexes instead of on random pages, which keeps the hot path's
    index pages cached and writes fewer full-page images to the WAL after each checkpoint."""
    value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10))
    value = value & ~(0xF << 76) | 0x7 << 76  # version 7
    value = value & ~(0x3 << 62) | 0x2 << 62  # RFC 9562 variant
    return uuid.UUID(int=value)


SELL_QUERY = prepared.NumberedQuery.of(SELL, typed=True)  # each parameter is cast or compared
SELL_PARAMETERS = SELL_QUERY.names


@cache
def _redeeming(coupons: int) -> prepared.NumberedQuery:
    """The sale statement redeeming `coupons` coupons too (`redemption_postgres.embedded`,
    the i-th coupon's names ending in `_i`)."""
    parts = [redemption_postgres.embedded(f"_{i}", _REDEEM_GUARD) for i in range(coupons)]
    return prepared.NumberedQuery.of(
        _SELL.replace("{redeem}", "".join(f",\n{ctes}" for ctes, _answer in parts)).replace(
            "{redeemed}",
            "".join(f",\n    {answer} AS redeemed_{i}" for i, (_ctes, answer) in enumerate(parts)),
        )
    )


def sell(
    connection: Any, parameters: dict[str, Any], redemptions: Sequence[dict[str, Any]] = ()
) -> tuple[Any, list[Any]]:
    """Run the sale statement on the session's DBAPI connection, redeeming in it the sale's
    coupons (`redemptions`: each one's `redemption_postgres.statement` parameters); the
    sale's row, and what each redemption answered."""
    if not redemptions:
        return prepared.fetch_one(connection.driver_connection, SELL_QUERY, parameters), []
    values = dict(parameters)
    for i, redemption in enumerate(redemptions):
        values.update(redemption_postgres.parameters(f"_{i}", redemption))
    row = prepared.fetch_one(connection.driver_connection, _redeeming(len(redemptions)), values)
    answered = len(row) - len(redemptions)
    return row[:answered], list(row[answered:])
