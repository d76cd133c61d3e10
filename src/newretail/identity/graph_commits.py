"""The resolver's own transactions: links and merges committed, retried on a deadlock.

`commit_graph` runs a piece of work on a `GraphSession` in a new session, writes the changed
members and the profiles whose warehouse events must move (`identity_pending_move`), and
commits. A PostgreSQL deadlock or serialisation failure, or a busy SQLite, starts it again
(up to RETRIES times). The warehouse update after the commit is the resolver's.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from newretail.core import retry
from newretail.identity.merging import GraphSession
from newretail.identity.warehouse_moves import record_pending_moves

T = TypeVar("T")
RETRIES = 5


@dataclass(frozen=True)
class Committed(Generic[T]):
    result: T
    graph: GraphSession
    statements: list[str]  # the warehouse UPDATEs that move the events
    pending: list[uuid.UUID]  # the pending-move rows to delete once they ran


def commit_graph(
    new_session: Callable[[], Session], work: Callable[[Session], tuple[T, GraphSession]]
) -> Committed[T]:
    """Run `work` in a new transaction and commit it with the graph's changes."""
    for attempt in range(RETRIES):
        session = new_session()
        try:
            result, graph = work(session)
            graph.write_members()
            session.flush()
            statements = graph.warehouse_statements()
            moved = graph.moved_profiles() if statements else []
            pending = record_pending_moves(session, graph.organization_id, moved)
            session.commit()
        except (OperationalError, DBAPIError) as exc:
            session.rollback()
            if attempt == RETRIES - 1 or not retry.retryable(exc):
                raise
            continue
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
        return Committed(result, graph, statements, pending)
    raise RuntimeError("unreachable")  # pragma: no cover - the loop returns or raises
