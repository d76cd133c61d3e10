"""The embedded event pipeline: a writer thread that group-commits accepted events to a durable
log, and a loader thread that moves them to the warehouse in large batches.

Requests validate their events, then hand them to the writer and wait. The writer takes every
submission that is waiting, drops message ids already received (the dedupe window), appends the
rest to the spool as one record and fsyncs it; only then does each request get its answer. So an
acknowledged event is durable, and a client that resends what was not acknowledged never stores
an event twice. The loader resolves identities (OneID) and appends to the warehouse every
`event_load_interval_ms` (or at once on `flush`); after a crash, the start replays the spool.

Dedupe: on DuckDB the server is the only writer (it owns the file), so the dedupe window
(events.dedupe) is exact. On PostgreSQL, where several servers write, there is no spool: the
writer loads directly and a unique index on (organization_id, message_id) decides, the insert
skipping conflicts (events.loading).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from concurrent.futures import Future
from datetime import timedelta
from pathlib import Path

import orjson
from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker

from newretail.core.errors import NewRetailError, Unavailable
from newretail.events.batching import batches
from newretail.events.dedupe import DedupeWindow, Key
from newretail.events.loading import EventLoader, LoadedHook, Resolver
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
from newretail.warehouse.connection import Warehouse

log = logging.getLogger(__name__)
MAX_GROUP_EVENTS = 20_000
MAX_LOAD_ROWS = 200_000
# a spool record waiting for the loader: (spool segment, record, events in it)
SpoolRecord = tuple[int, bytes, int]


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
        on_loaded: LoadedHook | None = None,
    ):
        self.sessions = sessions
        self.warehouse = warehouse
        self.loader = EventLoader(warehouse, resolver, on_loaded)
        self.window = DedupeWindow(dedupe_window)
        self.load_interval = load_interval
        self._postgres = self.loader.postgres
        self.stream = stream
        self._spool_dir = None if self._postgres or stream is not None else spool_dir
        self.spool: Spool | None = None
        self._queue: queue.SimpleQueue[Submission | None] = queue.SimpleQueue()
        self._loads: queue.SimpleQueue[SpoolRecord | None] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._loader: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._progress = threading.Condition()
        self._logged = 0
        self._loaded = 0
        self._hurry = threading.Event()

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Load the dedupe window, replay the spool left by a crash, start the threads."""
        with self._start_lock:
            if self._writer is not None:
                return
            if not self._postgres:
                self.window.load(self.warehouse)
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
            self._hurry.set()  # the loader stops waiting for more records
            try:
                if not self._progress.wait_for(lambda: self._loaded >= target, timeout):
                    raise TimeoutError("the event loader did not catch up")
            finally:
                self._hurry.clear()

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
        fresh_keys: set[Key] = set()
        keep = self.window.unseen(zip(columns[0], columns[1], strict=True), fresh_keys)
        self.window.add(fresh_keys)
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
        for group in batches(self._queue, _events_in, MAX_GROUP_EVENTS):
            try:
                results = self._write(group)
            except BaseException as exc:  # every waiting request learns of the failure
                if isinstance(exc, Unavailable):  # NATS away: said, no trace
                    log.warning("event group commit failed: %s", exc)
                else:
                    log.exception("event group commit failed")
                failure = _unavailable(exc)
                for submission in group:
                    submission.future.set_exception(failure)
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
        stored: set[Key] | None = None
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
        self.window.add(keys if stored is None else keys & stored)
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
    ) -> tuple[list[list[int] | None], set[Key]]:
        """Positions of each submission's new message ids (None: all are new) and the keys."""
        keep_per_submission: list[list[int] | None] = []
        keys: set[Key] = set()
        for submission, ids in zip(group, ids_per_submission, strict=True):
            org = str(submission.organization_id)
            keep = self.window.unseen(((org, message_id) for message_id in ids), keys)
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
        for batch in batches(
            self._loads,
            _events_in_record,
            MAX_LOAD_ROWS,
            linger=self.load_interval,
            hurry=self._hurry,
        ):
            self._load_records(batch)

    def _load_records(self, batch: list[SpoolRecord]) -> None:
        columns = concat_parts([part for _, record, _ in batch for part in orjson.loads(record)])
        start = 0  # a retry goes on from the chunk that failed: the chunks before are stored
        while start < len(columns[1]):
            try:
                self._load([column[start : start + MAX_LOAD_ROWS] for column in columns])
                start += MAX_LOAD_ROWS
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

    def _load(self, rows: Columns) -> set[Key] | None:
        """Append rows to the warehouse (see EventLoader.load)."""
        return self.loader.load(rows)


def _unavailable(exc: BaseException) -> BaseException:
    """What a request learns when its events could not be made durable (the spool's disk
    full, NATS or the database away): 503 `unavailable`, nothing acknowledged, send again."""
    if isinstance(exc, NewRetailError) or not isinstance(exc, Exception):
        return exc
    failure = Unavailable(
        f"the events could not be stored durably now ({type(exc).__name__}); nothing was "
        "acknowledged: send them again"
    )
    failure.__cause__ = exc
    return failure


def _events_in(submission: Submission) -> int:
    return len(submission.message_ids)


def _events_in_record(record: SpoolRecord) -> int:
    return record[2]
