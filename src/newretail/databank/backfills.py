"""Backfills run by the server itself: the missing snapshots of a period, one day at a time.

The console's button and `POST /api/v1/databank/backfills` (which the CLI uses while a server
holds the embedded warehouse) start one in a background thread of the server; its progress
is read back by id. The daily job fills the days the Data Bank page reads the same way. The
warehouse lock is taken per day, so pages and the event loader go on between days.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy.orm import Session, sessionmaker

from newretail.core.background import BackgroundJob, JobRegistry
from newretail.core.database import session_scope
from newretail.databank import service
from newretail.databank.errors import BackfillNotFound, BackfillRunning, InvalidPeriod
from newretail.databank.snapshots import (
    SnapshotRun,
    materialised_dates,
    organisation_key,
)
from newretail.tenancy.permissions import Permission, Principal
from newretail.warehouse.connection import Warehouse

# The Data Bank page reads the snapshots of these days before the day shown: the 30-day
# trend and FAST's 8 week ends with the day a week before the first.
PAGE_DAYS = 57
MAX_BACKFILL_DAYS = 3660


@dataclass
class Backfill(BackgroundJob):
    """One backfill's progress."""

    first: date
    last: date
    days: list[date]
    done: int = 0
    runs: list[SnapshotRun] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The API's view of the backfill."""
        return {
            "id": self.id,
            "from_date": self.first,
            "to_date": self.last,
            "total": len(self.days),
            "done": self.done,
            "status": self.status,
            "error": self.error,
            "runs": [{"date": r.date, "mode": r.mode, "rows": r.rows} for r in self.runs],
            "started_at": self.started_at,
            "finished_at": self.finished_at,
        }


def missing_days(
    warehouse: Warehouse, organization_id: uuid.UUID, first: date, last: date
) -> list[date]:
    """The days first … last without a materialised snapshot, oldest first."""
    con = warehouse.connection()
    with warehouse.lock:
        have = materialised_dates(con, organisation_key(organization_id), first, last)
    count = (last - first).days + 1
    return [d for d in (first + timedelta(days=k) for k in range(count)) if d not in have]


def fill_days(
    sessions: sessionmaker[Session],
    warehouse: Warehouse,
    principal: Principal,
    days: list[date],
    on_day: Callable[[SnapshotRun], None] | None = None,
) -> list[SnapshotRun]:
    """Materialise each day in order, taking the warehouse lock per day.

    The operational store is read once, up front: no transaction stays open (on SQLite one
    would hold the write lock) while the warehouse works.
    """
    with session_scope(sessions, principal.organization_id) as session:
        scope = service.snapshot_scope(session, principal)
    runs: list[SnapshotRun] = []
    for day in days:
        run = service.materialise_day(warehouse, scope, day)
        runs.append(run)
        if on_day is not None:
            on_day(run)
    return runs


class BackfillRunner:
    """The backfills of one server: at most one running per organisation."""

    def __init__(self) -> None:
        self._backfills: JobRegistry[Backfill] = JobRegistry(
            "databank-backfill", "Data Bank backfill"
        )

    def start(
        self,
        sessions: sessionmaker[Session],
        warehouse: Warehouse,
        principal: Principal,
        first: date,
        last: date,
        *,
        recompute: bool = False,
    ) -> Backfill:
        """Start materialising the missing days first … last (all with `recompute`)."""
        principal.require(Permission.MANAGE_MARKETING)
        if last < first:
            raise InvalidPeriod("the last day is before the first", field="to_date")
        if (last - first).days >= MAX_BACKFILL_DAYS:
            raise InvalidPeriod("backfill at most ten years at a time", field="to_date")

        def make() -> Backfill:
            if busy := self._backfills.running(principal.organization_id):
                raise BackfillRunning(
                    f"a backfill of {busy[0].first} … {busy[0].last} is running "
                    f"({busy[0].done} of {len(busy[0].days)} days)",
                    field="backfill",
                )
            if recompute:
                days = [first + timedelta(days=k) for k in range((last - first).days + 1)]
            else:
                days = missing_days(warehouse, principal.organization_id, first, last)
            return Backfill(uuid.uuid4().hex, principal.organization_id, first, last, days)

        def work(backfill: Backfill) -> None:
            def advance(run: SnapshotRun) -> None:
                backfill.runs.append(run)
                backfill.done += 1

            fill_days(sessions, warehouse, principal, backfill.days, advance)

        return self._backfills.start(make, work)

    def find(self, principal: Principal, backfill_id: str) -> Backfill:
        """A backfill of the principal's organisation."""
        principal.require(Permission.READ)
        missing = BackfillNotFound("no such backfill in this server", field="backfill_id")
        return self._backfills.find(principal.organization_id, backfill_id, missing)

    def latest(self, principal: Principal) -> Backfill | None:
        """The organisation's most recent backfill, if any."""
        mine = self._backfills.of(principal.organization_id)
        return max(mine, key=lambda b: b.started_at) if mine else None


_RUNNERS: WeakKeyDictionary[Warehouse, BackfillRunner] = WeakKeyDictionary()


def runner(warehouse: Warehouse) -> BackfillRunner:
    """The backfills of the server that holds this warehouse."""
    found = _RUNNERS.get(warehouse)
    if found is None:
        found = _RUNNERS.setdefault(warehouse, BackfillRunner())
    return found
