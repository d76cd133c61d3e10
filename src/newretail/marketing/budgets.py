"""The budget ledger: a campaign stage's limits (and its stores'), spent by guarded UPDATEs.

Each spend is one UPDATE whose WHERE clause holds the limit (`issued + 1 <= issue_limit`), so
concurrent tills and servers can never overspend: the database refuses the row instead of a
read-then-write race. A spend touches every budget of the stage that applies (the stage's own,
and the store's where the coupon is issued or used), in id order, inside a savepoint: all of
them or none.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, or_, select, update
from sqlalchemy.orm import QueryableAttribute, Session

from newretail.core.database import NO_SYNC
from newretail.marketing.errors import BudgetSpent
from newretail.marketing.models import Budget

ZERO = Decimal("0")


def create_budget(
    session: Session,
    organization_id: uuid.UUID,
    *,
    name: str,
    stage_key: str,
    store_id: uuid.UUID | None = None,
    issue_limit: int | None = None,
    redeem_limit: int | None = None,
    amount_limit: Decimal | None = None,
) -> Budget:
    budget = Budget(
        organization_id=organization_id,
        name=name,
        stage_key=stage_key,
        store_id=store_id,
        issue_limit=issue_limit,
        redeem_limit=redeem_limit,
        amount_limit=amount_limit,
        issued=0,
        redeemed=0,
        discounted=ZERO,
    )
    session.add(budget)
    session.flush()
    return budget


def applicable(session: Session, stage_key: str, store_id: uuid.UUID | None) -> list[uuid.UUID]:
    """The budgets a change of this stage at this store spends, in id order."""
    where_store: ColumnElement[bool] = Budget.store_id.is_(None)
    if store_id is not None:
        where_store = or_(where_store, Budget.store_id == store_id)
    return list(
        session.scalars(
            select(Budget.id).where(Budget.stage_key == stage_key, where_store).order_by(Budget.id)
        )
    )


def _issue_limits(stage_key: str, store_id: uuid.UUID | None) -> Select[int | None, int]:
    """The issue limits and counters of the budgets an issue of this stage at this store
    spends, in id order."""
    where_store: ColumnElement[bool] = Budget.store_id.is_(None)
    if store_id is not None:
        where_store = or_(where_store, Budget.store_id == store_id)
    return (
        select(Budget.issue_limit, Budget.issued)
        .where(Budget.stage_key == stage_key, where_store)
        .order_by(Budget.id)
    )


def _room(rows: Sequence[Row[int | None, int]] | Sequence[tuple[int | None, int]]) -> int | None:
    rooms = [limit - issued for limit, issued in rows if limit is not None]
    return max(0, min(rooms)) if rooms else None


def lock_issue_room(
    session: Session, stage_key: str | None, store_id: uuid.UUID | None
) -> int | None:
    """Lock the budgets an issue of this stage at this store spends (`FOR UPDATE`, in id
    order, until the caller's transaction ends) and say how many more coupons all of them
    allow (None: no limit). A bulk issue then spends what it inserted with the guarded
    `spend`, which the locks keep within this room; SQLite's writers are serialised anyway."""
    if stage_key is None:
        return None
    statement = _issue_limits(stage_key, store_id).with_for_update()
    return _room(session.execute(statement.execution_options(populate_existing=True)).all())


StageAt = tuple[str, uuid.UUID | None]  # a stage key and the store an issue happens at


def _applies(budget_store: uuid.UUID | None, store_id: uuid.UUID | None) -> bool:
    return budget_store is None or budget_store == store_id


def lock_issue_rooms(session: Session, stages: Iterable[StageAt]) -> dict[StageAt, int | None]:
    """`lock_issue_room` of several stages and stores by one statement (the budgets locked in
    id order): how many more coupons each allows (None: no limit)."""
    wanted = set(stages)
    if not wanted:
        return {}
    statement = (
        select(Budget.stage_key, Budget.store_id, Budget.issue_limit, Budget.issued)
        .where(Budget.stage_key.in_({stage for stage, _ in wanted}))
        .order_by(Budget.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    rows = session.execute(statement).all()
    return {
        (stage, store): _room(
            [
                (limit, issued)
                for key, at, limit, issued in rows
                if key == stage and _applies(at, store)
            ]
        )
        for stage, store in wanted
    }


def spend_many(session: Session, issued: dict[StageAt, int]) -> None:
    """Spend `n` issued coupons of each stage and store: each applicable budget moved once by
    its total (guarded, in id order), or `BudgetSpent` naming the one that refused."""
    wanted = {stage_at: n for stage_at, n in issued.items() if n}
    if not wanted:
        return
    rows = session.execute(
        select(Budget.id, Budget.stage_key, Budget.store_id, Budget.name)
        .where(Budget.stage_key.in_({stage for stage, _ in wanted}))
        .order_by(Budget.id)
    ).all()
    with session.begin_nested():
        for budget_id, stage_key, budget_store, name in rows:
            total = sum(
                n
                for (stage, store), n in wanted.items()
                if stage == stage_key and _applies(budget_store, store)
            )
            if total and not _change(session, budget_id, Amounts(issued=total)):
                raise BudgetSpent(budget=name)


@dataclass(frozen=True)
class Amounts:
    """What one change spends (or gives back): coupons issued, redeemed, money off."""

    issued: int = 0
    redeemed: int = 0
    discounted: Decimal = ZERO

    def negated(self) -> Amounts:
        return Amounts(-self.issued, -self.redeemed, -self.discounted)


def _within(limit: QueryableAttribute[Any], after: ColumnElement[Any]) -> ColumnElement[bool]:
    """No limit, or the counter after the change within it."""
    return or_(limit.is_(None), after <= limit)


def _change(session: Session, budget_id: uuid.UUID, change: Amounts) -> bool:
    """One guarded UPDATE: the counters move by `change` only if every limit still holds and
    none goes below zero; False when the database refused the row."""
    after = (
        Budget.issued + change.issued,
        Budget.redeemed + change.redeemed,
        Budget.discounted + change.discounted,
    )
    statement = (
        update(Budget)
        .where(
            Budget.id == budget_id,
            _within(Budget.issue_limit, after[0]),
            _within(Budget.redeem_limit, after[1]),
            _within(Budget.amount_limit, after[2]),
            after[0] >= 0,
            after[1] >= 0,
            after[2] >= 0,
        )
        .values(issued=after[0], redeemed=after[1], discounted=after[2])
        .execution_options(**NO_SYNC)
    )
    return bool(session.execute(statement).rowcount == 1)  # type: ignore[attr-defined]


def spend(
    session: Session, stage_key: str | None, store_id: uuid.UUID | None, amounts: Amounts
) -> None:
    """Spend on every applicable budget, or raise `BudgetSpent` naming the one that refused."""
    if stage_key is None:
        return
    with session.begin_nested():
        for budget_id in applicable(session, stage_key, store_id):
            if not _change(session, budget_id, amounts):
                name = session.scalar(select(Budget.name).where(Budget.id == budget_id))
                raise BudgetSpent(budget=name or str(budget_id))


def give_back(
    session: Session, stage_key: str | None, store_id: uuid.UUID | None, amounts: Amounts
) -> None:
    """Return what a restored or voided coupon had spent (never below zero)."""
    if stage_key is None:
        return
    for budget_id in applicable(session, stage_key, store_id):
        _change(session, budget_id, amounts.negated())
