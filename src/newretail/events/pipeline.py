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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import orjson
import pyarrow as pa
from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from newretail.core.database import utcnow
from newretail.events.models import FailedEvent, FailedEventStatus
from newretail.events.spool import Spool
from newretail.events.stream import EventStream
from newretail.events.submission import (
    Columns,
    Submission,
    concat_parts,
    record_parts,
    select_columns,
)
from newretail.warehouse.connection import EVENT_SCHEMA, EVENT_TABLE, Warehouse

log = logging.getLogger(__name__)
ARROW_SCHEMA = EVENT_SCHEMA.to_pyarrow()
MAX_GROUP_EVENTS = 20_000
MAX_LOAD_ROWS = 200_000
IDENTITY_CACHE_SECONDS = 30.0  # as long as OneID's own cache (merges by other processes)
IDENTITY_CACHE_ENTRIES = 1_000_000


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
        stream: EventStream | None = None,
    ):
        self.sessions = sessions
        self.warehouse = warehouse
        self.resolver = resolver
        self.dedupe_window = dedupe_window
        self.load_interval = load_interval
        self._postgres = not warehouse.url.startswith("duckdb")
        self.stream = stream
        self._spool_dir = None if self._postgres or stream is not None else spool_dir
        self.spool: Spool | None = None
        self._queue: queue.SimpleQueue[Submission | None] = queue.SimpleQueue()
        # (spool segment, record, events in it)
        self._loads: queue.SimpleQueue[tuple[int, bytes, int] | None] = queue.SimpleQueue()
        self._seen: dict[tuple[str, str], float] = {}
        self._writer: threading.Thread | None = None
        self._loader: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._progress = threading.Condition()
        self._logged = 0
        self._loaded = 0
        self._hurry = threading.Event()
        self._last_prune = time.monotonic()
        self._identities: dict[tuple[str, str], tuple[str, str]] = {}
        self._identity_epoch = -1
        self._identities_since = 0.0

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
            if self.stream is not None:
                self.stream.close()

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
        columns = concat_parts(
            [
                part
                for sequence in segments
                for record in self.spool.read(sequence)
                for part in record_parts(record)
            ]
        )
        now = time.monotonic()
        keep = []
        for position, key in enumerate(zip(columns[0], columns[1], strict=True)):
            if key not in self._seen:
                self._seen[key] = now
                keep.append(position)
        fresh = select_columns(columns, keep)
        for start in range(0, len(keep), MAX_LOAD_ROWS):
            self._load([column[start : start + MAX_LOAD_ROWS] for column in fresh])
        log.info(
            "replayed %d events from the spool (%d were stored)",
            len(keep),
            len(columns[1]) - len(keep),
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
            size = len(first.message_ids)
            while size < MAX_GROUP_EVENTS:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stopping = True
                    break
                group.append(more)
                size += len(more.message_ids)
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
        ids_per_submission = [submission.message_ids for submission in group]
        keep_per_submission, keys = self._dedupe(group, ids_per_submission)
        parts = [
            submission.part(keep)
            for submission, keep, ids in zip(
                group, keep_per_submission, ids_per_submission, strict=True
            )
            if (ids if keep is None else keep)  # something new to write
        ]
        stored: set[tuple[str, str]] | None = None
        if parts:
            record = b"[" + b",".join(parts) + b"]"
            if self.stream is not None:  # durable in JetStream; a loader stores them
                self.stream.publish(parts)
            elif self.spool is not None:
                sequence = self.spool.append(record)
                with self._progress:
                    self._logged += 1
                self._loads.put((sequence, record, len(keys)))
            else:
                stored = self._load(concat_parts(orjson.loads(record)))
        now = time.monotonic()
        for key in keys:
            if stored is None or key in stored:
                self._seen[key] = now
        self._prune()
        results = []
        for submission, keep, ids in zip(
            group, keep_per_submission, ids_per_submission, strict=True
        ):
            fresh = ids if keep is None else [ids[i] for i in keep]
            if stored is None:
                count = len(fresh)
            else:
                org = str(submission.organization_id)
                count = sum(1 for message_id in fresh if (org, message_id) in stored)
            results.append((count, len(ids) - count))
        return results

    def _dedupe(
        self, group: list[Submission], ids_per_submission: list[list[str]]
    ) -> tuple[list[list[int] | None], list[tuple[str, str]]]:
        """Positions of each submission's new message ids (None: all are new) and the keys."""
        keep_per_submission: list[list[int] | None] = []
        keys: list[tuple[str, str]] = []
        in_group: set[tuple[str, str]] = set()
        seen = self._seen
        for submission, ids in zip(group, ids_per_submission, strict=True):
            org = str(submission.organization_id)
            keep = []
            for position, message_id in enumerate(ids):
                key = (org, message_id)
                if key in seen or key in in_group:
                    continue
                in_group.add(key)
                keys.append(key)
                keep.append(position)
            keep_per_submission.append(None if len(keep) == len(ids) else keep)
        return keep_per_submission, keys

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
            rows = first[2]
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
                rows += more[2]
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

    def _load_records(self, batch: list[tuple[int, bytes, int]]) -> None:
        columns = concat_parts([part for _, record, _ in batch for part in orjson.loads(record)])
        while True:
            try:
                for start in range(0, len(columns[1]), MAX_LOAD_ROWS):
                    self._load([column[start : start + MAX_LOAD_ROWS] for column in columns])
                break
            except Exception:  # the rows stay in the spool; try again
                log.exception("loading events into the warehouse failed; retrying")
                time.sleep(1.0)
        if self.spool is not None:
            self.spool.delete_before(batch[-1][0])
        with self._progress:
            self._loaded += len(batch)
            self._progress.notify_all()

    def load_columns(self, columns: Columns) -> int:
        """Store events (a stream loader's batch) in the warehouse; returns the rows stored,
        not counting message ids already there."""
        stored = self._load(columns)
        return len(columns[1]) if stored is None else len(stored)

    def _load(self, rows: Columns) -> set[tuple[str, str]] | None:
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

    def _resolve(self, columns: Columns) -> tuple[list[str | None], list[str | None]]:
        """Member and profile of each event. A shopper sends many events with the same
        identifiers, so each distinct list is resolved once and remembered until OneID's
        epoch moves (a merge, an undo, an invalidation) or the resolver's cache period ends."""
        count = len(columns[1])
        members: list[str | None] = [None] * count
        profiles: list[str | None] = [None] * count
        if self.resolver is None:
            return members, profiles
        epoch = self.resolver.epoch
        now = time.monotonic()
        if (
            epoch != self._identity_epoch
            or now - self._identities_since > IDENTITY_CACHE_SECONDS
            or len(self._identities) > IDENTITY_CACHE_ENTRIES
        ):
            self._identities = {}
            self._identity_epoch, self._identities_since = epoch, now
        known = self._identities
        last_received: dict[str, int] = {}
        by_org: dict[str, dict[tuple[str, str], list[int]]] = {}
        received = columns[4]
        for position, key in enumerate(zip(columns[0], columns[8], strict=True)):
            if key[1] == "[]":
                continue
            found = known.get(key)
            if found is None:
                by_org.setdefault(key[0], {}).setdefault(key, []).append(position)
                last_received[key[0]] = received[position]
            else:
                members[position], profiles[position] = found
        fresh: dict[tuple[str, str], tuple[str, str]] = {}
        for org, wanted in by_org.items():
            at = datetime.fromtimestamp(last_received[org] / 1e6, UTC)
            keys = list(wanted)
            lists = [[(kind, value) for kind, value in orjson.loads(key[1])] for key in keys]
            resolved = self.resolver.resolve_batch(uuid.UUID(org), lists, at)
            for key, identity in zip(keys, resolved, strict=True):
                if identity is None:
                    continue
                found = (str(identity.member_id), str(identity.profile_id))
                fresh[key] = found
                for position in wanted[key]:
                    members[position], profiles[position] = found
        if fresh and self.resolver.epoch == epoch:  # nothing merged meanwhile
            known.update(fresh)
        return members, profiles

    def _arrow(self, columns: Columns) -> pa.Table:
        members, profiles = self._resolve(columns)
        stamp = pa.timestamp("us", tz="UTC")
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
                "amount": pa.array(columns[10], pa.string()).cast(pa.decimal128(18, 2)),
                "properties": pa.array(columns[11], pa.string()),
            },
            schema=ARROW_SCHEMA,
        )


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
