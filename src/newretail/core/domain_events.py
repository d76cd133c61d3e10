"""Domain events: typed facts one domain publishes in the caller's session, handled by the owner.

A domain never writes another domain's tables. It publishes a frozen dataclass (`OrderPaid`,
`MembersMerged`, ...) with `publish(session, event)`; the handlers registered for that type run
synchronously, in the same session and so in the same transaction, owned by the caller.
Handlers register with `@handler(EventType)` in the owning domain's module; `newretail.handlers`
imports those modules and calls `install()` once per process (bootstrap does it).

Side effects outside the database (cache drops, notifications) run after the commit through
`after_commit(session, fn)`, never by committing early; a rollback discards them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session, SessionTransaction

E = TypeVar("E")
Handler = Callable[[Session, Any], None]
EventHandler = Callable[[Session, E], None]

_handlers: dict[type, list[Handler]] = {}
_installed = False
_AFTER_COMMIT = "newretail.after_commit"


class HandlersNotInstalled(RuntimeError):
    """An event was published before `newretail.handlers.install()` ran (it would be lost)."""


def handler(event_type: type[E]) -> Callable[[EventHandler[E]], EventHandler[E]]:
    """Register the decorated function as a handler of `event_type`."""

    def register(function: EventHandler[E]) -> EventHandler[E]:
        registered = _handlers.setdefault(event_type, [])
        if function not in registered:
            registered.append(function)
        return function

    return register


def mark_installed() -> None:
    """Called by `newretail.handlers.install()` once every handler module is imported."""
    global _installed
    _installed = True


def publish(session: Session, event: object) -> None:
    """Run every handler of the event's type now, in the caller's session and transaction."""
    if not _installed:
        raise HandlersNotInstalled(
            f"{type(event).__name__} published before handlers were installed"
        )
    for function in _handlers.get(type(event), ()):
        function(session, event)


def handlers_of(event_type: type) -> tuple[Handler, ...]:
    """The handlers registered for a type (for tests and docs)."""
    return tuple(_handlers.get(event_type, ()))


def after_commit(session: Session, function: Callable[[], None]) -> None:
    """Run `function` once the session's transaction commits; dropped if it rolls back.

    Registered inside a savepoint (`session.begin_nested()`), it waits for the outermost
    commit: releasing the savepoint is not a commit (the transaction may still roll back),
    and rolling the savepoint back drops it while what was registered outside it stays."""
    pending = session.info.setdefault(_AFTER_COMMIT, [])
    pending.append((session.get_nested_transaction(), function))


def _enclosing_savepoint(transaction: SessionTransaction) -> SessionTransaction | None:
    parent = transaction.parent
    while parent is not None and not parent.nested:
        parent = parent.parent
    return parent


def _within(transaction: SessionTransaction | None, savepoint: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is savepoint:
            return True
        transaction = transaction.parent
    return False


@sa_event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    released = session.get_nested_transaction()
    if released is not None:  # a savepoint released: its functions now wait with its parent's
        outer = _enclosing_savepoint(released)
        session.info[_AFTER_COMMIT] = [
            (outer if where is released else where, function)
            for where, function in session.info.get(_AFTER_COMMIT, [])
        ]
        return
    for _, function in session.info.pop(_AFTER_COMMIT, []):
        function()


@sa_event.listens_for(Session, "after_rollback")
def _drop_after_commit(session: Session) -> None:
    undone = session.get_nested_transaction()
    if undone is None:
        session.info.pop(_AFTER_COMMIT, None)
        return
    session.info[_AFTER_COMMIT] = [
        (where, function)
        for where, function in session.info.get(_AFTER_COMMIT, [])
        if not _within(where, undone)
    ]
