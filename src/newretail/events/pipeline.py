"""The embedded event pipeline: a writer thread that group-commits accepted events to a durable
log, and a loader thread that moves them to the warehouse in large batches.

Requests validate their events, then hand them to the writer and wait. The writer takes every
submission that is waiting, drops message ids already received (the dedupe window), appends the
rest to the spool as one record and fsyncs it; only then does each request get its answer. So an
acknowledged event is durable, and a client that resends what was not acknowledged never stores
an event twice. The loader resolves identities (OneID) and appends to the warehouse every
`event_load_interval_ms` (or at once on `flush`); after a crash, the start replays the spool.

Dedupe: on DuckDB the server is the only writer (it owns the file), so a map of the message ids
received in the dedupe window is exact; it is rebuilt from the warehouse at start. On
PostgreSQL, where several servers write, there is no spool: the writer inserts directly and a
unique index on (organization_id, message_id) decides, the insert skipping conflicts.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from newretail.core.database import utcnow
from newretail.events.models import FailedEvent, FailedEventStatus
from newretail.events.spool import Spool
from newretail.events.validation import CheckedEvent
from newretail.warehouse.connection import EVENT_SCHEMA, EVENT_TABLE, Warehouse

log = logging.getLogger(__name__)
ARROW_SCHEMA = EVENT_SCHEMA.to_pyarrow()
MAX_GROUP_EVENTS = 20_000
MAX_LOAD_ROWS = 200_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
# A row as logged: organisation, message id, type, ts (µs), received at (µs), brand, store,
# channel, identifiers [[type, value], …], anonymous id, amount (text), properties (JSON text).
Row = list[Any]


class ResolvedIdentity(Protocol):
    @property
    def profile_id(self) -> uuid.UUID: ...

    @property
    def member_id(self) -> uuid.UUID: ...


class Resolver(Protocol):
    """OneID as the pipeline needs it (identity.resolver.IdentityResolver)."""

    @property
    def epoch(self) -> int:
        """Grows with every merge and undo committed in this process."""
        ...

    def resolve_batch(
        self,
        organization_id: uuid.UUID,
        items: Sequence[Sequence[tuple[str, str]]],
        at: datetime,
    ) -> Sequence[ResolvedIdentity | None]: ...


@dataclass
class Rejected:
    """An event refused by validation, stored aside with its reason."""

    index: int
    field: str
    reason: str
    payload: Any
    message_id: str | None = None
    event_type: str | None = None


@dataclass
class Submission:
    organization_id: uuid.UUID
    source_id: uuid.UUID | None
    api: str
    received_at: datetime
    events: list[CheckedEvent]
    rejected: list[Rejected]
    future: Future[tuple[int, int]] = field(default_factory=Future)


def _micros(moment: datetime) -> int:
    return (moment - EPOCH) // MICROSECOND


class Pipeline:
    """The writer and loader threads, the spool and the dedupe window."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        warehouse: Warehouse,
        resolver: Resolver | None,
        dedupe_window: timedelta,
        spool_dir: Path | None = None,
        load_interval: float = 0.2,
    ):
        self.sessions = sessions
        self.warehouse = warehouse
        self.resolver = resolver
        self.dedupe_window = dedupe_window
        self.load_interval = load_interval
        self._postgres = not warehouse.url.startswith("duckdb")
        self._spool_dir = None if self._postgres else spool_dir
        self.spool: Spool | None = None
        self._queue: queue.SimpleQueue[Submission | None] = queue.SimpleQueue()
        self._loads: queue.SimpleQueue[tuple[int, list[Row]] | None] = queue.SimpleQueue()
        self._seen: dict[tuple[str, str], float] = {}
        self._writer: threading.Thread | None = None
        self._loader: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._progress = threading.Condition()
        self._logged = 0
        self._loaded = 0
        self._hurry = threading.Event()
        self._last_prune = time.monotonic()

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Load the dedupe window, replay the spool left by a crash, start the threads."""
        with self._start_lock:
            if self._writer is not None:
                return
            self._load_window()
            if self._spool_dir is not None:
                self.spool = Spool(self._spool_dir)
                self._recover()
                self._loader = threading.Thread(
                    target=self._run_loader, name="event-loader", daemon=True
                )
                self._loader.start()
            self._writer = threading.Thread(target=self._run, name="event-writer", daemon=True)
            self._writer.start()

    def stop(self) -> None:
        """Finish what was submitted, load it, then stop."""
        with self._start_lock:
            if self._writer is None:
                return
            self._queue.put(None)
            self._writer.join()
            self._writer = None
            if self._loader is not None:
                self._loads.put(None)
                self._loader.join()
                self._loader = None
            if self.spool is not None:
                self.spool.close()
                self.spool.delete_before(self.spool.sequence + 1)
                self.spool = None

    def submit(self, submission: Submission) -> Future[tuple[int, int]]:
        """Queue a request's events; the future gives (stored, duplicates) once durable."""
        if self._writer is None:
            self.start()
        self._queue.put(submission)
        return submission.future

    def write_now(self, submission: Submission) -> tuple[int, int]:
        """Submit and wait until durable (imports, replays, the CLI)."""
        return self.submit(submission).result()

    @property
    def backlog(self) -> int:
        """Acknowledged batches not yet in the warehouse."""
        with self._progress:
            return self._logged - self._loaded

    def flush(self, timeout: float = 60.0) -> None:
        """Wait until every acknowledged event is in the warehouse."""
        with self._progress:
            target = self._logged
            self._hurry.set()
            if not self._progress.wait_for(lambda: self._loaded >= target, timeout):
                raise TimeoutError("the event loader did not catch up")

    # ------------------------------------------------------------------ dedupe window
    def _load_window(self) -> None:
        if self._postgres:
            return
        con = self.warehouse.connection()
        since = utcnow() - self.dedupe_window
        with self.warehouse.lock:
            table = con.table(EVENT_TABLE)
            recent = (
                table.filter(table.received_at >= since)
                .select("organization_id", "message_id", "received_at")
                .to_pyarrow()
            )
        now_wall, now_mono = time.time(), time.monotonic()
        orgs = recent.column("organization_id").to_pylist()
        ids = recent.column("message_id").to_pylist()
        stamps = recent.column("received_at").to_pylist()
        for org, message_id, stamp in zip(orgs, ids, stamps, strict=True):
            self._seen[(org, message_id)] = now_mono - (now_wall - stamp.timestamp())

    def _prune(self) -> None:
        now = time.monotonic()
        if now - self._last_prune < 60:
            return
        self._last_prune = now
        horizon = now - self.dedupe_window.total_seconds()
        self._seen = {key: at for key, at in self._seen.items() if at >= horizon}

    def _recover(self) -> None:
        """Load the spool's records that are not in the warehouse yet (after a crash)."""
        assert self.spool is not None
        segments = self.spool.segments()
        if not segments:
            return
        rows: list[Row] = []
        for sequence in segments:
            for record in self.spool.read(sequence):
                rows.extend(record)
        now = time.monotonic()
        fresh = []
        for row in rows:
            key = (row[0], row[1])
            if key not in self._seen:
                self._seen[key] = now
                fresh.append(row)
        for start in range(0, len(fresh), MAX_LOAD_ROWS):
            self._load(fresh[start : start + MAX_LOAD_ROWS])
        log.info(
            "replayed %d events from the spool (%d were stored)", len(fresh), len(rows) - len(fresh)
        )
        self.spool.delete_before(self.spool.sequence + 1)

    # ------------------------------------------------------------------ the writer
    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is None:
                break
            group = [first]
            size = len(first.events)
            while size < MAX_GROUP_EVENTS:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stopping = True
                    break
                group.append(more)
                size += len(more.events)
            try:
                results = self._write(group)
            except BaseException as exc:  # every waiting request learns of the failure
                log.exception("event group commit failed")
                for submission in group:
                    submission.future.set_exception(exc)
                continue
            for submission, result in zip(group, results, strict=True):
                submission.future.set_result(result)

    def _write(self, group: list[Submission]) -> list[tuple[int, int]]:
        self._store_rejected(group)
        fresh_per_submission, keys = self._dedupe(group)
        rows = [
            _row(str(submission.organization_id), _micros(submission.received_at), event)
            for submission, fresh in zip(group, fresh_per_submission, strict=True)
            for event in fresh
        ]
        stored: set[tuple[str, str]] | None = None
        if self.spool is not None:
            if rows:
                sequence = self.spool.append(rows)
                with self._progress:
                    self._logged += 1
                self._loads.put((sequence, rows))
        elif rows:
            stored = self._load(rows)
        now = time.monotonic()
        for key in keys:
            if stored is None or key in stored:
                self._seen[key] = now
        self._prune()
        results = []
        for submission, fresh in zip(group, fresh_per_submission, strict=True):
            org = str(submission.organization_id)
            if stored is None:
                count = len(fresh)
            else:
                count = sum(1 for e in fresh if (org, e.message_id) in stored)
            results.append((count, len(submission.events) - count))
        return results

    def _dedupe(
        self, group: list[Submission]
    ) -> tuple[list[list[CheckedEvent]], list[tuple[str, str]]]:
        fresh_per_submission: list[list[CheckedEvent]] = []
        keys: list[tuple[str, str]] = []
        in_group: set[tuple[str, str]] = set()
        seen = self._seen
        for submission in group:
            org = str(submission.organization_id)
            fresh = []
            for event in submission.events:
                key = (org, event.message_id)
                if key in seen or key in in_group:
                    continue
                in_group.add(key)
                keys.append(key)
                fresh.append(event)
            fresh_per_submission.append(fresh)
        return fresh_per_submission, keys

    def _store_rejected(self, group: list[Submission]) -> None:
        # created_at grows by a microsecond per row, so lists keep the order of the request
        rows = [
            {
                "id": uuid.uuid4(),
                "organization_id": submission.organization_id,
                "source_id": submission.source_id,
                "api": submission.api,
                "received_at": submission.received_at,
                "message_id": r.message_id,
                "event_type": r.event_type,
                "field": r.field[:300],
                "reason": r.reason[:500],
                "payload": r.payload,
                "status": FailedEventStatus.OPEN,
                "created_at": submission.received_at + timedelta(microseconds=position),
            }
            for submission in group
            for position, r in enumerate(submission.rejected)
        ]
        if not rows:
            return
        with self.sessions() as session, session.begin():
            session.execute(insert(FailedEvent), rows)

    # ------------------------------------------------------------------ the loader
    def _run_loader(self) -> None:
        stopping = False
        while not stopping:
            first = self._loads.get()
            if first is None:
                break
            batch = [first]
            rows = len(first[1])
            deadline = time.monotonic() + self.load_interval
            while rows < MAX_LOAD_ROWS and not self._hurry.is_set():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    more = self._loads.get(timeout=min(remaining, 0.05))
                except queue.Empty:
                    continue
                if more is None:
                    stopping = True
                    break
                batch.append(more)
                rows += len(more[1])
            while True:  # drain what is already waiting
                try:
                    more = self._loads.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stopping = True
                    break
                batch.append(more)
            self._hurry.clear()
            self._load_records(batch)

    def _load_records(self, batch: list[tuple[int, list[Row]]]) -> None:
        rows = [row for _, record in batch for row in record]
        while True:
            try:
                for start in range(0, len(rows), MAX_LOAD_ROWS):
                    self._load(rows[start : start + MAX_LOAD_ROWS])
                break
            except Exception:  # the rows stay in the spool; try again
                log.exception("loading events into the warehouse failed; retrying")
                time.sleep(1.0)
        if self.spool is not None:
            self.spool.delete_before(batch[-1][0])
        with self._progress:
            self._loaded += len(batch)
            self._progress.notify_all()

    def _load(self, rows: list[Row]) -> set[tuple[str, str]] | None:
        """Resolve identities and append rows to the warehouse in one transaction; on
        PostgreSQL, returns the (organisation, message id) pairs really stored.

        Lock order: identities are resolved (operational-store writes) without the warehouse
        lock, which is then taken only for the append. A merge commits its operational-store
        change, bumps the resolver's epoch and then moves warehouse events under the lock; so
        if the epoch moved while these rows were being resolved, they are resolved again."""
        con = self.warehouse.connection()
        while True:
            epoch = self.resolver.epoch if self.resolver is not None else 0
            table = self._arrow(rows)
            with self.warehouse.lock:
                if self.resolver is not None and self.resolver.epoch != epoch:
                    continue  # a merge or an undo happened meanwhile
                if not self._postgres:
                    duck = con.con
                    duck.register("_incoming_events", table)
                    try:
                        duck.execute(
                            f'INSERT INTO "{EVENT_TABLE}" BY NAME SELECT * FROM _incoming_events'  # noqa: S608
                        )
                    finally:
                        duck.unregister("_incoming_events")
                    return None
                return _append_postgres(con, table)

    def _arrow(self, rows: list[Row]) -> pa.Table:
        members: list[str | None] = [None] * len(rows)
        profiles: list[str | None] = [None] * len(rows)
        if self.resolver is not None:
            by_org: dict[str, list[int]] = {}
            for position, row in enumerate(rows):
                if row[8]:
                    by_org.setdefault(row[0], []).append(position)
            for org, positions in by_org.items():
                at = datetime.fromtimestamp(rows[positions[-1]][4] / 1e6, UTC)
                resolved = self.resolver.resolve_batch(
                    uuid.UUID(org), [[tuple(i) for i in rows[p][8]] for p in positions], at
                )
                for position, identity in zip(positions, resolved, strict=True):
                    if identity is not None:
                        members[position] = str(identity.member_id)
                        profiles[position] = str(identity.profile_id)
        columns: list[Sequence[Any]] = list(zip(*rows, strict=True)) if rows else [()] * 12
        stamp = pa.timestamp("us", tz="UTC")
        amounts = [None if a is None else Decimal(a) for a in columns[10]]
        return pa.table(
            {
                "organization_id": pa.array(columns[0], pa.string()),
                "message_id": pa.array(columns[1], pa.string()),
                "type": pa.array(columns[2], pa.string()),
                "ts": pa.array(columns[3], pa.int64()).cast(stamp),
                "received_at": pa.array(columns[4], pa.int64()).cast(stamp),
                "brand_id": pa.array(columns[5], pa.string()),
                "store_id": pa.array(columns[6], pa.string()),
                "channel": pa.array(columns[7], pa.string()),
                "member_id": pa.array(members, pa.string()),
                "profile_id": pa.array(profiles, pa.string()),
                "anonymous_id": pa.array(columns[9], pa.string()),
                "amount": pa.array(amounts, pa.decimal128(18, 2)),
                "properties": pa.array(columns[11], pa.string()),
            },
            schema=ARROW_SCHEMA,
        )


def _row(org: str, received_us: int, event: CheckedEvent) -> Row:
    return [
        org,
        event.message_id,
        event.type,
        _micros(event.ts),
        received_us,
        event.brand_id,
        event.store_id,
        event.channel,
        event.identifiers,
        event.anonymous_id,
        None if event.amount is None else str(event.amount),
        event.properties,
    ]


def _append_postgres(con: Any, rows: pa.Table) -> set[tuple[str, str]]:
    """INSERT … ON CONFLICT DO NOTHING through the backend's psycopg connection."""
    names = EVENT_SCHEMA.names
    placeholders = ", ".join(["%s"] * len(names))
    column_list = ", ".join(f'"{n}"' for n in names)
    statement = (
        f'INSERT INTO "{EVENT_TABLE}" ({column_list}) VALUES ({placeholders}) '  # noqa: S608
        "ON CONFLICT (organization_id, message_id) DO NOTHING "
        "RETURNING organization_id, message_id"
    )
    data = rows.to_pydict()
    values = list(zip(*(data[n] for n in names), strict=True))
    stored: set[tuple[str, str]] = set()
    raw = con.con
    with raw.transaction(), raw.cursor() as cursor:
        cursor.executemany(statement, values, returning=True)
        while True:
            stored.update((row[0], row[1]) for row in cursor.fetchall())
            if not cursor.nextset():
                break
    return stored
