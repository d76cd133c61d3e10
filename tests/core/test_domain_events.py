"""Domain events run in the caller's transaction; after-commit work runs only after a commit."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from newretail import handlers
from newretail.core import domain_events


@dataclass(frozen=True)
class Noted:
    value: str


seen: list[str] = []


@domain_events.handler(Noted)
def _write_note(session: Session, event: Noted) -> None:
    session.execute(text("INSERT INTO note (value) VALUES (:value)"), {"value": event.value})


def _session() -> Session:
    engine = create_engine("sqlite://")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE note (value TEXT)"))
    return Session(engine)


def test_handler_writes_in_the_callers_transaction_and_rolls_back_with_it() -> None:
    handlers.install()
    session = _session()
    domain_events.publish(session, Noted("kept"))
    session.commit()
    domain_events.publish(session, Noted("dropped"))
    session.rollback()
    assert session.scalars(text("SELECT value FROM note")).all() == ["kept"]
    assert domain_events.handlers_of(Noted) == (_write_note,)


def test_after_commit_runs_once_after_commit_and_never_after_rollback() -> None:
    session = _session()
    calls: list[str] = []
    domain_events.after_commit(session, lambda: calls.append("first"))
    assert calls == []
    session.execute(text("INSERT INTO note (value) VALUES ('x')"))
    session.commit()
    assert calls == ["first"]
    session.commit()
    assert calls == ["first"]
    domain_events.after_commit(session, lambda: calls.append("rolled back"))
    session.execute(text("INSERT INTO note (value) VALUES ('y')"))
    session.rollback()
    session.commit()
    assert calls == ["first"]


def test_after_commit_inside_a_savepoint_waits_for_the_outer_commit() -> None:
    session = _session()
    calls: list[str] = []
    session.execute(text("INSERT INTO note (value) VALUES ('a')"))
    domain_events.after_commit(session, lambda: calls.append("outside"))
    with session.begin_nested():
        domain_events.after_commit(session, lambda: calls.append("released"))
        with session.begin_nested():
            domain_events.after_commit(session, lambda: calls.append("inner released"))
    assert calls == []  # releasing a savepoint is not a commit
    savepoint = session.begin_nested()
    domain_events.after_commit(session, lambda: calls.append("undone"))
    nested = session.begin_nested()
    domain_events.after_commit(session, lambda: calls.append("undone within"))
    nested.commit()
    savepoint.rollback()
    assert calls == []
    session.commit()
    assert calls == ["outside", "released", "inner released"]


def test_after_commit_inside_a_savepoint_is_dropped_with_the_outer_rollback() -> None:
    session = _session()
    calls: list[str] = []
    session.execute(text("INSERT INTO note (value) VALUES ('b')"))
    with session.begin_nested():
        domain_events.after_commit(session, lambda: calls.append("released"))
    session.rollback()
    session.commit()
    assert calls == []
