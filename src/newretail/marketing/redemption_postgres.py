"""`redemption.redeem` on PostgreSQL as one statement: the hot path of a till sale with a coupon.

The statement locks the coupon row, then the budgets of its stage that apply at the store in
id order (the lock order of the Python form: coupon, then budgets by id), and only when the
coupon is usable (issued, or held by this order's reservation or by a lapsed one; valid at
the instant; the member's own) and every budget has room, it redeems the coupon, spends the
budgets, and writes the ledger row and the `coupon_redeemed` fact, all or nothing: a refusal
changes no row, so no savepoint is needed. It answers whether the coupon was found and
usable, whether the budgets had room (and the first that had not), and the coupon row as
redeemed.

The Python form (`redemption._redeem`, used on SQLite) holds the same rules; the ledger tests
run on both databases, and `tests/marketing/test_redeem_postgres.py` checks that both forms
write the same coupon, budget, ledger and outbox rows.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from newretail.core import prepared
from newretail.core.database import ORG_KEY, utcnow
from newretail.marketing.models import Coupon

# the statement's common table expressions (after WITH), then its answer
_CTES = """
target AS MATERIALIZED (
    SELECT c.id, c.organization_id, c.stage_key,
        (c.state = 'issued' OR (c.state = 'reserved' AND (c.reserved_until <= %(now)s
            OR c.reservation = %(reservation)s)))
        AND c.valid_from <= %(now)s AND c.valid_until > %(now)s
        AND (c.member_id IS NULL OR c.member_id = %(member_id)s) AS usable
    FROM coupon c
    WHERE c.id = %(coupon_id)s
        AND (CAST(%(organization_id)s AS uuid) IS NULL
            OR c.organization_id = %(organization_id)s)
        AND {guard}
    FOR UPDATE
), locked AS MATERIALIZED (
    SELECT b.id, b.name,
        (b.redeem_limit IS NULL OR b.redeemed + 1 <= b.redeem_limit)
        AND (b.amount_limit IS NULL OR b.discounted + %(discount)s <= b.amount_limit) AS room
    FROM marketing_budget b JOIN target t
        ON b.organization_id = t.organization_id AND b.stage_key = t.stage_key
    WHERE t.usable AND (b.store_id IS NULL OR b.store_id = %(store_id)s)
    ORDER BY b.id
    FOR UPDATE OF b
), room AS MATERIALIZED (
    SELECT COALESCE(bool_and(room), true) AS ok,
        (array_agg(name ORDER BY id) FILTER (WHERE NOT room))[1] AS refused_by
    FROM locked
), used AS (
    UPDATE coupon c SET state = 'redeemed', order_ref = %(order_ref)s,
        store_id = %(store_id)s, discount = %(discount)s, redeemed_at = %(now)s,
        reservation = NULL, reserved_until = NULL, updated_at = %(clock)s
    FROM target t, room r
    WHERE c.id = t.id AND t.usable AND r.ok
    RETURNING c.*
), spent AS (
    UPDATE marketing_budget b SET redeemed = b.redeemed + 1,
        discounted = b.discounted + %(discount)s
    FROM locked l
    WHERE b.id = l.id AND EXISTS (SELECT 1 FROM used)
), ledger AS (
    INSERT INTO coupon_ledger (id, organization_id, created_at, coupon_id, change, member_id,
        order_ref, store_id, discount, actor)
    SELECT %(ledger_id)s, u.organization_id, %(clock)s, u.id, 'redeemed', u.member_id,
        u.order_ref, u.store_id, u.discount, %(actor)s
    FROM used u
), fact AS (
    INSERT INTO outbox_message (id, organization_id, created_at, event_type, occurred_at,
        brand_id, store_id, channel, member_id, amount, properties, published_at)
    SELECT %(fact_id)s, u.organization_id, %(clock)s, 'coupon_redeemed', %(clock)s, NULL,
        u.store_id, NULL, u.member_id, u.discount,
        json_strip_nulls(json_build_object('coupon_id', u.id, 'offer_id', u.offer_id,
            'offer', o.name, 'campaign_id', split_part(u.stage_key, ':', 1),
            'stage_position', split_part(u.stage_key, ':', 2), 'campaign', ca.name,
            'stage', st.name, 'order_ref', u.order_ref)),
        NULL
    FROM used u
    LEFT JOIN offer o ON o.id = u.offer_id
    LEFT JOIN campaign ca ON ca.id = CASE WHEN split_part(u.stage_key, ':', 1)
        ~ '^[0-9a-fA-F-]{36}$' THEN CAST(split_part(u.stage_key, ':', 1) AS uuid) END
    LEFT JOIN campaign_stage st
        ON st.campaign_id = ca.id AND CAST(st.position AS text) = split_part(u.stage_key, ':', 2)
)
"""
# found, usable, room, refused by (`Outcome` reads them in this order)
_ANSWER = "t.id IS NOT NULL, COALESCE(t.usable, false), r.ok, r.refused_by"
_ANSWER_FROM = "FROM room r LEFT JOIN target t ON true LEFT JOIN used u ON true"
REDEEM = f"WITH {_CTES}\nSELECT {_ANSWER},\n    {{returning}}\n{_ANSWER_FROM}\n"

_COUPON_COLUMNS = tuple(column.key for column in Coupon.__table__.columns)
_COUPON_ROW = ", ".join(f"u.{column.name}" for column in Coupon.__table__.columns)
# the statement answering with the coupon as redeemed, and the sale's, answering only whether


def _query(returning: str, guard: str = "true") -> prepared.NumberedQuery:
    return prepared.NumberedQuery.of(
        REDEEM.replace("{returning}", returning).replace("{guard}", guard)
    )


_RETURNING = _query(_COUPON_ROW)
_QUIET = _query("u.id IS NOT NULL")


_CTE_NAMES = re.compile(r"\b(target|locked|room|used|spent|ledger|fact)\b")
_PARAMETER = re.compile(r"%\((\w+)\)s")


def embedded(suffix: str, guard: str) -> tuple[str, str]:
    """The statement as parts of another one: its common table expressions and its answer
    as one JSON array (found, usable, room, refused by, redeemed), each of its names and
    parameters ending in `suffix` (`parameters` gives their values), redeeming only when
    `guard` (an SQL condition of the other statement) holds. A till's sale redeems its
    coupons in the statement that inserts its order, guarded by that order's row, so a
    resend (which inserts no order) redeems nothing."""

    def rename(sql: str) -> str:
        sql = _CTE_NAMES.sub(lambda match: match.group(1) + suffix, sql)
        return _PARAMETER.sub(lambda match: f"%({match.group(1)}{suffix})s", sql)

    ctes = rename(_CTES.replace("{guard}", guard))
    answer = rename(f"(SELECT json_build_array({_ANSWER}, u.id IS NOT NULL) {_ANSWER_FROM})")
    return ctes, answer


def parameters(suffix: str, values: dict[str, Any]) -> dict[str, Any]:
    """`statement`'s parameters under the names `embedded(suffix, ...)` gave them."""
    return {f"{name}{suffix}": value for name, value in values.items()}


class Outcome:
    """What the statement found: the coupon (None: not found), whether it was usable, the
    budget that had no room (None: all had), and whether it redeemed the coupon, with its
    row as redeemed when it was asked for (`values`)."""

    def __init__(self, row: tuple[Any, ...], returning: bool) -> None:
        self.found, self.usable, self.room, self.refused_by = row[:4]
        self.values: dict[str, Any] | None = None
        if returning:
            values = dict(zip(_COUPON_COLUMNS, row[4:], strict=True))
            self.values = values if values["id"] is not None else None
            self.redeemed = self.values is not None
        else:
            self.redeemed = bool(row[4])


def statement(
    session: Session,
    coupon_id: uuid.UUID,
    *,
    order_ref: str,
    store_id: uuid.UUID | None,
    discount: Decimal,
    member_id: uuid.UUID | None,
    reservation: str,
    actor: str,
    now: datetime,
    returning: bool = False,
) -> tuple[prepared.NumberedQuery, dict[str, Any]]:
    """The statement for the coupon, with its parameters (`returning`: it answers with the
    coupon's row as redeemed too)."""
    session.flush()  # the statement runs beside the ORM: what it holds is written (and
    clock = utcnow()  # stamped) first
    return _RETURNING if returning else _QUIET, {
        "coupon_id": coupon_id,
        "organization_id": session.info.get(ORG_KEY),
        "order_ref": order_ref,
        "store_id": store_id,
        "discount": discount,
        "member_id": member_id,
        "reservation": reservation,
        "actor": actor,
        "now": now,
        "clock": clock,
        "ledger_id": uuid.uuid4(),
        "fact_id": uuid.uuid4(),
    }


def redeem(session: Session, query: prepared.NumberedQuery, parameters: dict[str, Any]) -> Outcome:
    """Run the statement on the session's connection (one round trip)."""
    row = prepared.fetch_one(prepared.driver_of(session.connection()), query, parameters)
    assert row is not None  # the statement always answers one row
    return outcome(query, row)


def outcome(query: prepared.NumberedQuery, row: tuple[Any, ...]) -> Outcome:
    """What the statement's row says."""
    return Outcome(row, query is _RETURNING)


def loaded(session: Session, values: dict[str, Any]) -> Coupon:
    """The redeemed coupon as a persistent object of the session (no second read): the one
    the session holds, refreshed, or a new one."""
    key = session.identity_key(Coupon, values["id"])
    coupon = session.identity_map.get(key)
    if coupon is None:
        coupon = Coupon.__mapper__.class_manager.new_instance()
        coupon.__dict__.update({name: values[name] for name in _COUPON_COLUMNS})
        make_transient_to_detached(coupon)
        session.add(coupon)
        return coupon  # type: ignore[no-any-return]
    for name in _COUPON_COLUMNS:
        set_committed_value(coupon, name, values[name])
    return coupon  # type: ignore[no-any-return]
