"""A coupon issue chosen as a PostgreSQL deadlock's victim: its caller's whole transaction
runs again (`retried`), not the issue's savepoint.

An issue (`coupons.issue_or_find`) waits twice at most: for the stage's budget rows
(`budgets.spend`, id order, as the bulk issue's `budgets.lock_issue_room`) and then, holding
them, for a concurrent insert of the same issue key or member slot. A transaction that issues
more than once, or bulk issues of other stages racing for the same member's slots, can close a
cycle through these waits; PostgreSQL then aborts the statement of the one that detects it.

Why not again in the savepoint, inside the caller's transaction: a session waiting for a row
that a subtransaction changed waits for that subtransaction's xid only while it runs; once it
is released into its parent (the budget's own savepoint in `budgets.spend` is) the waiter
waits for the topmost transaction (`XactLockTableWait` in PostgreSQL's lmgr.c). Rolling back
to the issue's savepoint then frees nothing the other side waits for: it stays blocked, the
rerun closes the same cycle and is chosen again (tests/marketing/test_issue_deadlock.py shows
it). Only ending the transaction frees the other side, so the unit to run again is the
caller's transaction (one per use case, as before), as `bulk_issue` does per batch.

Not yet used by the API's issue routes: they run in the request's transaction (`get_db`, which
on SQLite holds the write lock for the whole request), so rerunning the use case there means
rerunning the request's transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

T = TypeVar("T")
ATTEMPTS = 3  # transactions of one use case chosen as a deadlock's victim
RETRYABLE = {"40P01", "40001"}  # deadlock detected, serialization failure


def sqlstate(error: DBAPIError) -> str | None:
    return getattr(error.orig, "sqlstate", None)


def retried(
    transaction: Callable[[], AbstractContextManager[Session]], work: Callable[[Session], T]
) -> T:
    """`work` in a transaction of its own (`transaction()` opens and commits one), run again in
    a new one when PostgreSQL chose it as a deadlock's victim (up to ATTEMPTS in all)."""
    for attempt in range(ATTEMPTS):
        try:
            with transaction() as session:
                return work(session)
        except DBAPIError as error:
            if attempt + 1 == ATTEMPTS or sqlstate(error) not in RETRYABLE:
                raise
    raise AssertionError("unreachable")
