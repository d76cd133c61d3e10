"""Issuing one offer of a campaign stage to many members at once, set-based.

A batch of members is one transaction (the caller's) of a handful of statements, whatever its
size: the stage's budgets are locked (`budgets.lock_issue_room`, id order), the coupons of the
members who hold none yet are inserted by one `INSERT … SELECT` that takes only what the budget
has room for (`ORDER BY member_id LIMIT room`, `ON CONFLICT DO NOTHING` for a concurrent issuer
of the same key or member slot), the ledger rows and the `coupon_issued` facts follow by one
`INSERT … SELECT` each, and the budget is spent once by the guarded UPDATE for what was
inserted. The issue key (`<stage_key>:<offer code>:<member id>`) makes it idempotent: a second
run issues nothing and spends nothing. Members beyond the budget are refused (`budget_spent`),
members at the offer's per-member limit too (`member_limit`); the report counts both.
Before any of it, the batch's members without marketing consent (the members domain's one
rule, read now by one query over the batch through `consent_port`) are left out and counted
(`no_consent`): a withdrawal counts from the next batch on.

The member ids reach SQL as arrays (`unnest` on PostgreSQL, `json_each` on SQLite).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ColumnElement,
    Integer,
    String,
    Subquery,
    Uuid,
    bindparam,
    cast,
    func,
    literal,
    select,
    type_coerce,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, aliased
from sqlalchemy.types import TypeEngine

from newretail.core.database import UtcDateTime, utcnow
from newretail.events.models import OutboxMessage
from newretail.marketing import budgets, consent_port, coupon_facts, member_limits
from newretail.marketing.errors import LedgerErrorCode
from newretail.marketing.models import Coupon, CouponChange, CouponLedgerEntry, CouponState

BATCH_SIZE = 20_000  # members per transaction
MAX_ROUNDS = 8  # inserts per batch when concurrent issuers took keys or member slots meanwhile
BATCH_ATTEMPTS = 3
RETRYABLE = {"40P01", "40001"}  # deadlock detected, serialization failure


@dataclass(frozen=True)
class BulkPlan:
    """What every coupon of a bulk issue is: the offer, the stage whose budgets it spends,
    where it was issued, its validity, the offer's per-member limit, who issued it, and the
    names its facts carry (`coupon_facts.names_of`)."""

    organization_id: uuid.UUID
    offer_id: uuid.UUID
    offer_code: str
    stage_key: str
    valid_from: datetime
    valid_until: datetime
    actor: str
    names: dict[str, str]
    store_id: uuid.UUID | None = None
    member_limit: int | None = None
    held_out: Callable[[uuid.UUID], bool] | None = None  # the campaign's holdout

    @property
    def key_prefix(self) -> str:
        return f"{self.stage_key}:{self.offer_code}:"

    def issue_key(self, member_id: uuid.UUID) -> str:
        """One coupon per stage, offer and member (the claim by code uses the same key)."""
        return f"{self.key_prefix}{member_id}"


@dataclass
class BulkReport:
    """Members asked for, coupons issued, members who held theirs already, members left out
    for want of marketing consent, members in the campaign's holdout, members refused."""

    members: int = 0
    issued: int = 0
    already_held: int = 0
    no_consent: int = 0  # no marketing consent now: never sent a coupon
    held_out: int = 0  # in the campaign's holdout: never sent a coupon
    refused_budget: int = 0
    refused_member_limit: int = 0

    def add(self, other: BulkReport) -> None:
        for name in (f.name for f in fields(self)):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def refusals(self) -> dict[str, int]:
        """Refused members by code (`budget_spent`, `member_limit`)."""
        counts = {
            LedgerErrorCode.BUDGET_SPENT.value: self.refused_budget,
            LedgerErrorCode.MEMBER_LIMIT.value: self.refused_member_limit,
        }
        return {code: n for code, n in counts.items() if n}


@dataclass
class BulkProgress:
    """After each batch: members done of the total and the report so far."""

    done: int
    total: int
    report: BulkReport = field(default_factory=BulkReport)


def _postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _rows(session: Session, prefix: str, **columns: tuple[TypeEngine[Any], list[Any]]) -> Subquery:
    """Python lists as a table of rows, one bound parameter per column (PostgreSQL) or one
    JSON text (SQLite, where a UUID is stored as its 32 hex digits)."""
    if _postgres(session):
        return select(
            *(
                func.unnest(
                    cast(bindparam(f"{prefix}_{name}", values), postgresql.ARRAY(kind))
                ).label(name)
                for name, (kind, values) in columns.items()
            )
        ).subquery(prefix)
    stored = [
        [v.hex if isinstance(v, uuid.UUID) else v for v in values] for _, values in columns.values()
    ]
    each = func.json_each(
        bindparam(f"{prefix}_rows", json.dumps(list(zip(*stored, strict=True))), String())
    ).table_valued("value")
    return select(
        *(
            type_coerce(func.json_extract(each.c.value, f"$[{i}]"), kind).label(name)
            for i, (name, (kind, _)) in enumerate(columns.items())
        )
    ).subquery(prefix)


def new_id(session: Session) -> ColumnElement[Any]:
    """A fresh row id made by the database. On PostgreSQL a UUIDv7 (48 bits of milliseconds,
    74 random bits): a batch's coupon, ledger and fact ids and the ledger's coupon ids land at
    the right edge of their indexes instead of all over them (a bulk issue of 300,000 ran
    about 30% faster than with random ids). The milliseconds are the statement's, read once
    (an InitPlan), and each row's id is them before the random part of a v4 id's text: no
    arithmetic or hex per row. On SQLite 32 random hex digits, the stored form."""
    if _postgres(session):
        epoch_ms = cast(
            func.floor(func.extract("epoch", func.clock_timestamp()) * 1000), BigInteger
        )
        digits = func.lpad(func.to_hex(epoch_ms), 12, "0")
        # "tttttttt-tttt-7": the first 15 characters of the id's text
        start = select(
            func.concat(func.substr(digits, 1, 8), "-", func.substr(digits, 9, 4), "-7")
        ).scalar_subquery()
        # the v4 id's text from its 16th character (3 random digits, its variant digit, 15
        # random digits, with their hyphens) after it
        random_part = func.substr(cast(func.gen_random_uuid(), String()), 16)
        return cast(func.concat(start, random_part), Uuid())
    return type_coerce(func.lower(func.hex(func.randomblob(16))), Uuid())


def _json(session: Session, text: ColumnElement[Any]) -> ColumnElement[Any]:
    return cast(text, JSON) if _postgres(session) else type_coerce(text, JSON)


def _insert(session: Session) -> Any:
    return postgresql.insert if _postgres(session) else sqlite.insert


def _count(session: Session, source: Subquery, where: ColumnElement[bool]) -> int:
    return int(session.scalar(select(func.count()).select_from(source).where(where)) or 0)


def issue_batch(
    session: Session, plan: BulkPlan, member_ids: Iterable[uuid.UUID], now: datetime | None = None
) -> BulkReport:
    """Issue the plan's coupon to each member who holds none yet, within the stage's budget
    and the offer's per-member limit, in the caller's transaction."""
    asked = sorted(set(member_ids))
    allowed = consent_port.consenting(session, asked) if asked else set()
    consenting = [m for m in asked if m in allowed]
    members = [m for m in consenting if plan.held_out is None or not plan.held_out(m)]
    skipped = len(asked) - len(consenting)
    if not members:
        return BulkReport(
            members=len(asked), no_consent=skipped, held_out=len(consenting) - len(members)
        )
    now = now or utcnow()
    source = _rows(
        session,
        "candidate",
        member_id=(Uuid(), members),
        member_text=(String(), [str(m) for m in members]),
    )
    key = literal(plan.key_prefix, String()) + source.c.member_text
    holder = aliased(Coupon)
    # a correlated scalar subquery, not EXISTS: PostgreSQL would turn EXISTS into a hash join
    # that reads every coupon of the organisation per batch; this probes the key's index
    held = (
        select(literal(1))
        .where(holder.organization_id == plan.organization_id, holder.issue_key == key)
        .limit(1)
        .scalar_subquery()
        .is_not(None)
    )
    slot: ColumnElement[Any] = literal(None, Integer())
    eligible: ColumnElement[bool] = ~held
    over_limit: ColumnElement[bool] | None = None
    if plan.member_limit is not None:
        slot = member_limits.next_slot(plan.organization_id, plan.offer_id, source.c.member_id)
        eligible = eligible & (slot <= plan.member_limit)
        over_limit = ~held & (slot > plan.member_limit)
    room = budgets.lock_issue_room(session, plan.stage_key, plan.store_id)
    issued = refused_budget = 0
    if over_limit is None and (room is None or room >= len(members)):
        # room for everyone: one insert of every member, no anti-join: the conflict on the
        # issue key skips a member who holds the coupon (from before or a concurrent issuer)
        # by the same index probe the anti-join would have made
        issued = _insert_coupons(session, plan, source, key, slot, None, None, now)
        rounds = 0
    else:
        rounds = MAX_ROUNDS
    for _round in range(rounds):
        wanted = _count(session, source, eligible)
        granted = wanted if room is None else min(wanted, room - issued)
        refused_budget = wanted - max(granted, 0)
        if granted <= 0:
            break
        inserted = _insert_coupons(session, plan, source, key, slot, eligible, granted, now)
        issued += inserted
        if inserted == granted:
            break
    if issued:
        budgets.spend(session, plan.stage_key, plan.store_id, budgets.Amounts(issued=issued))
    refused_limit = 0 if over_limit is None else _count(session, source, over_limit)
    return BulkReport(
        members=len(asked),
        no_consent=skipped,
        held_out=len(consenting) - len(members),
        issued=issued,
        already_held=len(members) - issued - refused_budget - refused_limit,
        refused_budget=refused_budget,
        refused_member_limit=refused_limit,
    )


def _insert_coupons(
    session: Session,
    plan: BulkPlan,
    source: Subquery,
    key: ColumnElement[str],
    slot: ColumnElement[Any],
    eligible: ColumnElement[bool] | None,
    granted: int | None,
    now: datetime,
) -> int:
    """The first `granted` (None: all) eligible (None: all) members by id get a coupon (a
    held key or a concurrent issuer's key or slot is skipped), with its ledger row and fact;
    returns how many.

    On PostgreSQL the three inserts are one statement (the ledger's and the outbox's read the
    coupons' RETURNING as CTEs); on SQLite the inserted rows come back and go in again."""
    values: dict[str, ColumnElement[Any]] = {
        "id": new_id(session),
        "created_at": literal(now, UtcDateTime()),
        "organization_id": literal(plan.organization_id, Uuid()),
        "offer_id": literal(plan.offer_id, Uuid()),
        "stage_key": literal(plan.stage_key, String()),
        "member_id": source.c.member_id,
        "issue_key": key,
        "state": literal(CouponState.ISSUED.value, String()),
        "valid_from": literal(plan.valid_from, UtcDateTime()),
        "valid_until": literal(plan.valid_until, UtcDateTime()),
        "updated_at": literal(now, UtcDateTime()),
        "member_slot": slot,
    }
    chosen = select(*(v.label(k) for k, v in values.items())).order_by(source.c.member_id)
    if eligible is not None:
        chosen = chosen.where(eligible)
    if granted is not None:
        chosen = chosen.limit(granted)
    # without a per-member limit the issue key is the only conflict there can be (no slot,
    # no code, a fresh id): naming its constraint spares a probe of the other unique indexes
    target = {"index_elements": [Coupon.organization_id, Coupon.issue_key]}
    coupons = (
        _insert(session)(Coupon)
        .from_select(list(values), chosen)
        .on_conflict_do_nothing(**(target if plan.member_limit is None else {}))
        .returning(Coupon.id, Coupon.member_id)
    )
    if _postgres(session):
        inserted = coupons.cte("inserted")
        rows = select(
            inserted.c.id.label("coupon_id"),
            cast(inserted.c.id, String()).label("coupon_text"),
            inserted.c.member_id,
        ).subquery("issued")
        ledger, facts = _ledger_and_facts(session, plan, rows, now)
        counted = select(func.count()).select_from(inserted)
        statement = counted.add_cte(ledger.cte("ledger"), facts.cte("facts"))
        return int(session.scalar(statement) or 0)
    returned = [(row[0], row[1]) for row in session.execute(coupons)]
    if returned:
        ids = [coupon_id for coupon_id, _ in returned]
        rows = _rows(
            session,
            "issued",
            coupon_id=(Uuid(), ids),
            coupon_text=(String(), [str(i) for i in ids]),
            member_id=(Uuid(), [member_id for _, member_id in returned]),
        )
        for statement in _ledger_and_facts(session, plan, rows, now):
            session.execute(statement)
    return len(returned)


def _ledger_and_facts(
    session: Session, plan: BulkPlan, rows: Subquery, now: datetime
) -> tuple[Any, Any]:
    """The inserts of an `issued` ledger row and a `coupon_issued` fact per coupon of `rows`
    (coupon_id, coupon_text, member_id), shaped as `coupons.record` writes them (properties by
    `coupon_facts`)."""
    at = literal(now, UtcDateTime())
    organization = literal(plan.organization_id, Uuid())
    store = literal(plan.store_id, Uuid())
    ledger = {
        "id": new_id(session),
        "created_at": at,
        "organization_id": organization,
        "coupon_id": rows.c.coupon_id,
        "change": literal(CouponChange.ISSUED.value, String()),
        "member_id": rows.c.member_id,
        "store_id": store,
        "actor": literal(plan.actor, String()),
    }
    before_id, after_id = coupon_facts.properties_json_around_id(plan.names)
    properties = literal(before_id, String()) + rows.c.coupon_text + literal(after_id, String())
    fact = {
        "id": new_id(session),
        "created_at": at,
        "organization_id": organization,
        "event_type": literal(f"coupon_{CouponChange.ISSUED}", String()),
        "occurred_at": at,
        "store_id": store,
        "member_id": rows.c.member_id,
        "properties": _json(session, properties),
    }
    return tuple(
        _insert(session)(table).from_select(
            list(columns), select(*(v.label(k) for k, v in columns.items()))
        )
        for table, columns in ((CouponLedgerEntry, ledger), (OutboxMessage, fact))
    )


def in_batches(
    transaction: Callable[[], AbstractContextManager[Session]],
    plan: BulkPlan,
    member_ids: Sequence[uuid.UUID],
    batch_size: int = BATCH_SIZE,
) -> Iterator[BulkProgress]:
    """Issue to the members one batch per transaction (`transaction()` opens and commits one),
    yielding the progress after each: a crash leaves whole batches, and a rerun issues only
    what is missing."""
    report = BulkReport()
    for start in range(0, len(member_ids), batch_size):
        batch = member_ids[start : start + batch_size]
        report.add(_batch_with_retries(transaction, plan, batch))
        yield BulkProgress(start + len(batch), len(member_ids), replace(report))


def _batch_with_retries(
    transaction: Callable[[], AbstractContextManager[Session]],
    plan: BulkPlan,
    batch: Sequence[uuid.UUID],
) -> BulkReport:
    """One batch in its own transaction, run again when PostgreSQL chose it as a deadlock's
    victim (issuers of other stages racing for the same members' slots): the batch is
    idempotent, so the rerun issues exactly what the first try would have."""
    for attempt in range(BATCH_ATTEMPTS):
        try:
            with transaction() as session:
                return issue_batch(session, plan, batch)
        except DBAPIError as error:
            if attempt + 1 == BATCH_ATTEMPTS or _sqlstate(error) not in RETRYABLE:
                raise
    raise AssertionError("unreachable")


def _sqlstate(error: DBAPIError) -> str | None:
    return getattr(error.orig, "sqlstate", None)
