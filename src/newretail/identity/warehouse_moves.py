"""Warehouse events following merges and undos, after the operational store committed.

A merge re-attributes the events of the loser's side to the survivor (by `member_id`); an
undo sends events back to the canonical member of the profile they were recorded for (by
`profile_id`). The profiles concerned are recorded in the merge's own transaction
(`identity_pending_move`) and the rows are deleted once the warehouse follows, so a process
that dies in between is repaired later from the stored canonical members.

Lock order: the operational store is committed before the warehouse lock is taken; nothing
holding the warehouse lock writes to the operational store.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Mapping, Sequence
from datetime import timedelta

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session, sessionmaker

from newretail.core.database import scope_session, utcnow
from newretail.identity.keys import UNSCOPED_NO_SYNC, canonical_members, keyed
from newretail.identity.models import IdentityPendingMove
from newretail.warehouse.connection import Warehouse
from newretail.warehouse.sql import run_sql

log = logging.getLogger(__name__)
_UPDATE = 'UPDATE "event" SET member_id = m.new_id'


def warehouse_sql(
    organization_id: uuid.UUID, column: str, mapping: Mapping[uuid.UUID, uuid.UUID]
) -> list[str]:
    """UPDATE statements setting event.member_id = new where event.<column> = old.

    `column` is member_id (a merge: the side's events follow the survivor) or profile_id (an
    undo: events go back to the canonical member of the profile they were recorded for).
    Values are UUIDs, rendered as literals.
    """
    assert column in {"member_id", "profile_id"}
    pairs = sorted((str(old), str(new)) for old, new in mapping.items() if old is not None)
    statements = []
    for start in range(0, len(pairs), 500):
        values = ", ".join(f"('{old}', '{new}')" for old, new in pairs[start : start + 500])
        statements.append(
            f"{_UPDATE} FROM (VALUES {values}) AS m(old_id, new_id) "
            f"WHERE \"event\".organization_id = '{organization_id}' "
            f'AND "event".{column} = m.old_id'
        )
    return statements


def record_pending_moves(
    session: Session, organization_id: uuid.UUID, profiles: Sequence[uuid.UUID]
) -> list[uuid.UUID]:
    """Record, in the merge's transaction, the profiles whose warehouse events must move;
    returns the row ids, deleted once the warehouse is updated."""
    now = utcnow()
    ids = {member_id: uuid.uuid4() for member_id in sorted(set(profiles))}
    if ids:
        session.execute(
            insert(IdentityPendingMove),
            [
                {
                    "id": row_id,
                    "created_at": now,
                    "organization_id": organization_id,
                    "member_id": member_id,
                }
                for member_id, row_id in ids.items()
            ],
        )
    return list(ids.values())


class WarehouseMover:
    """Runs the warehouse side of merges and undos (one per resolver)."""

    def __init__(
        self, sessions: sessionmaker[Session], warehouse: Warehouse, write_lock: threading.RLock
    ) -> None:
        self.sessions = sessions
        self.warehouse = warehouse
        self.write_lock = write_lock

    def run(self, statements: list[str]) -> None:
        """Run UPDATE statements on the warehouse under its lock."""
        if not statements:
            return
        con = self.warehouse.connection()
        with self.warehouse.lock:
            for statement in statements:
                run_sql(con, statement)

    def stored_canonical(
        self, organization_id: uuid.UUID, profiles: set[uuid.UUID]
    ) -> dict[uuid.UUID, uuid.UUID]:
        """The committed canonical member of each profile."""
        with scope_session(self.sessions(), organization_id) as session:
            found = canonical_members(session, organization_id, profiles)
            session.commit()
        return found

    def repair(self, organization_id: uuid.UUID, profiles: set[uuid.UUID]) -> None:
        """Point the profiles' warehouse events at their committed canonical member."""
        stored = self.stored_canonical(organization_id, profiles)
        self.run(
            warehouse_sql(organization_id, "profile_id", stored)
            + warehouse_sql(organization_id, "member_id", stored)
        )

    def clear_pending(self, organization_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> None:
        """The warehouse follows these pending moves now: delete their rows."""
        if not ids:
            return
        with scope_session(self.sessions(), organization_id) as session:
            for start in range(0, len(ids), 500):
                session.execute(
                    delete(IdentityPendingMove).where(
                        keyed(
                            IdentityPendingMove,
                            organization_id,
                            IdentityPendingMove.id,
                            ids[start : start + 500],
                        )
                    ),
                    execution_options=UNSCOPED_NO_SYNC,
                )
            session.commit()

    def repair_pending_moves(self, older_than_seconds: float = 60.0) -> dict[uuid.UUID, int]:
        """Move the warehouse events of merges and undos committed at least this long ago
        whose warehouse update never finished; returns the profiles repaired per
        organisation. The delay leaves other processes' updates in flight alone."""
        cutoff = utcnow() - timedelta(seconds=older_than_seconds)
        with scope_session(self.sessions(), None) as session:
            rows = session.execute(
                select(
                    IdentityPendingMove.organization_id,
                    IdentityPendingMove.id,
                    IdentityPendingMove.member_id,
                ).where(IdentityPendingMove.created_at <= cutoff)
            ).all()
        by_organization: dict[uuid.UUID, list[tuple[uuid.UUID, uuid.UUID]]] = {}
        for organization_id, row_id, member_id in rows:
            by_organization.setdefault(organization_id, []).append((row_id, member_id))
        for organization_id, pending in by_organization.items():
            with self.write_lock:  # after this process's merges, in commit order
                self.repair(organization_id, {member for _, member in pending})
                self.clear_pending(organization_id, [row for row, _ in pending])
            log.warning(
                "repaired the warehouse events of %d profiles after an unfinished merge",
                len(pending),
            )
        return {org: len(pending) for org, pending in by_organization.items()}
