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
from sqlalchemy.orm import Session

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
    """Run `function` once the session's transaction commits; dropped if it rolls back."""
    session.info.setdefault(_AFTER_COMMIT, []).append(function)


@sa_event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    for function in session.info.pop(_AFTER_COMMIT, []):
        function()


@sa_event.listens_for(Session, "after_rollback")
def _drop_after_commit(session: Session) -> None:
    session.info.pop(_AFTER_COMMIT, None)
