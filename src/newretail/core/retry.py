"""A use case whose transaction the database gave up on runs again, in a new transaction.

PostgreSQL ends one transaction of a deadlock (SQLSTATE 40P01) and may fail one to keep
transactions serialisable (40001); a busy SQLite says "database is locked". Nothing of the
failed transaction was kept, so its use case can simply run again: one transaction per use
case, owned by its caller, is also the unit that runs again.

Why the whole transaction and not a savepoint inside it: a session waiting for a row that a
subtransaction changed waits for that subtransaction only while it runs; once the savepoint
is released into its parent, the waiter waits for the topmost transaction (PostgreSQL's
`XactLockTableWait`). Rolling back to a savepoint then frees nothing the other side waits
for, and the rerun closes the same cycle (`tests/marketing/test_issue_deadlock.py` shows it
for a coupon issue). Only ending the transaction frees the other side.

- `retried(transaction, work)`: a job's or a command's use case;
- `RerunOnConflict`: an API or console request, whose transaction is the request's
  (`get_db`, committed before the response starts), run again while no byte of its answer
  has been sent; its body is kept for the rerun.

A database that cannot be reached (PostgreSQL stopped or restarting, the link down) is not
a conflict: nothing was kept either, but running again at once would fail the same way, so
the request is answered 503 `unavailable` with `Retry-After` (`unreachable`), and the pool's
pre-ping replaces the dead connections once the database is back.

A SQLite writer that waited out its lock timeout (`busy`: "database is locked", another
writer held the one write lock for `sqlite_busy_timeout_seconds`), or a request that got no
pooled connection in as long (every one waiting for that lock), is overload, not a fault of
the request: nothing was kept, and running again at once would wait as long again, so an HTTP
request is answered the same 503 at once (`RerunOnConflict`, the collector's gateway). A
PostgreSQL conflict still met on the last run is answered so as well.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, TypeVar

import orjson
import psycopg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import OperationalError as SqlOperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from newretail.core.errors import ErrorCode

log = logging.getLogger(__name__)
T = TypeVar("T")
ATTEMPTS = 3  # transactions of one use case in all
RETRYABLE = frozenset({"40P01", "40001"})  # deadlock detected, serialization failure
# the server shuts down, crashed or is starting: the client should come back shortly
GOING_AWAY = frozenset({"57P01", "57P02", "57P03"})
UNAVAILABLE_RETRY_AFTER = 1  # seconds


def sqlstate(error: BaseException) -> str | None:
    """PostgreSQL's SQLSTATE of a database error (None: not PostgreSQL's, or none)."""
    original: Any = getattr(error, "orig", None)
    return getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)


def retryable(error: BaseException) -> bool:
    """A deadlock's victim or a serialisation failure (PostgreSQL), or a busy SQLite."""
    if not isinstance(error, DBAPIError):
        return False
    return sqlstate(error) in RETRYABLE or "database is locked" in str(error)


def busy(error: BaseException) -> bool:
    """A SQLite writer that waited out its lock timeout ("database is locked"), or no
    connection of the pool freed within the pool's timeout."""
    if isinstance(error, PoolTimeout):
        return True
    return isinstance(error, DBAPIError) and "database is locked" in str(error.orig)


def unavailable(error: BaseException) -> bool:
    """Whether a request stopped by `error` is answered 503 `unavailable`: the database could
    not be reached, or SQLite's write lock was not free within its timeout."""
    return unreachable(error) or busy(error)


def unreachable(error: BaseException) -> bool:
    """Whether the database could not be reached or went away mid-request (connection
    refused, PostgreSQL shutting down or starting up, the link dropped): an outage, not a
    fault of the request."""
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, SqlOperationalError):
        original: Any = error.orig
    elif isinstance(error, psycopg.OperationalError):  # raw psycopg (the warehouse)
        original = error
    else:
        return False
    if not isinstance(original, psycopg.OperationalError):
        return False  # SQLite's "database is locked" and the like
    state = getattr(original, "sqlstate", None)
    return state is None or state.startswith("08") or state in GOING_AWAY


UNAVAILABLE_BODY = orjson.dumps(
    {
        "code": ErrorCode.UNAVAILABLE,
        "message": "the database does not answer now; nothing was done, send the request again",
        "field": None,
    }
)


async def answer_unavailable(send: Send) -> None:
    """The 503 `unavailable` answer to a request the database's outage (or its write lock
    not freed in time) stopped."""
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(UNAVAILABLE_BODY)).encode()),
        (b"retry-after", str(UNAVAILABLE_RETRY_AFTER).encode()),
    ]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": UNAVAILABLE_BODY})


def retried(
    transaction: Callable[[], AbstractContextManager[Session]], work: Callable[[Session], T]
) -> T:
    """`work` in a transaction of its own (`transaction()` opens and commits one), run again in
    a new one when the database gave up on it (up to ATTEMPTS in all)."""
    for attempt in range(ATTEMPTS):
        try:
            with transaction() as session:
                return work(session)
        except DBAPIError as error:
            if attempt + 1 == ATTEMPTS or not retryable(error):
                raise
            log.warning("transaction run again (%s): %s", sqlstate(error), error.orig)
    raise AssertionError("unreachable")


class RerunOnConflict:
    """Runs an HTTP request again (up to ATTEMPTS in all) when the app raised a retryable
    database error before its response started, and answers 503 `unavailable` when the
    database could not be reached, SQLite's write lock was not freed in time, or the last
    run met a conflict again; any other outcome passes through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = await _whole_body(receive)
        for attempt in range(ATTEMPTS):
            started = False

            async def tracked(message: Message) -> None:
                nonlocal started
                started = started or message["type"] == "http.response.start"
                await send(message)

            try:
                await self.app(scope, _replay(body, receive), tracked)
                return
            except (DBAPIError, PoolTimeout, psycopg.OperationalError) as error:
                if started:
                    raise
                if unavailable(error) or (attempt + 1 == ATTEMPTS and retryable(error)):
                    log.warning("%s %s: the database does not answer: %s", *_what(scope, error))
                    await answer_unavailable(send)
                    return
                if not retryable(error):
                    raise
                log.warning(
                    "%s %s run again (%s): %s",
                    scope["method"],
                    scope["path"],
                    sqlstate(error),
                    getattr(error, "orig", error),
                )


def _what(scope: Scope, error: BaseException) -> tuple[str, str, str]:
    return scope["method"], scope["path"], str(getattr(error, "orig", None) or error)


async def _whole_body(receive: Receive) -> bytes:
    """The request's body, read to its end (a body limit outside still applies)."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body as one message, then the client's own messages (a disconnect)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
