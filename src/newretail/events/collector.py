"""The collector: authenticates sources, checks incoming events (events.checker) and hands
them to the pipeline.

Read-mostly lookups are cached in the process so that a request needs no database round trip:
write keys (30 s; a revoked key stops within that time), and each organisation's catalogue
(see events.checker).
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from newretail.core import telemetry
from newretail.core.errors import Forbidden, Unauthenticated
from newretail.core.settings import Settings
from newretail.events.checker import CACHE_SECONDS, Checker, Outcome, SourceRef
from newretail.events.loading import LoadedHook, Resolver
from newretail.events.offload import CheckerPool
from newretail.events.pipeline import Pipeline
from newretail.events.stream import EventStream
from newretail.events.submission import Submission
from newretail.tenancy import auth
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.permissions import PrincipalKind
from newretail.warehouse.connection import Warehouse


class Collector(Checker):
    """One per server process: write keys, the checker processes and the pipeline."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        warehouse: Warehouse,
        settings: Settings,
        resolver: Resolver | None,
        on_loaded: LoadedHook | None = None,
    ):
        super().__init__(sessions, settings, resolver)
        stream = None
        if settings.event_stream_url:
            settings.stream_warehouse_url()  # refuses a DuckDB warehouse
            stream = EventStream(settings.event_stream_url, settings.event_stream_name)
        self.pipeline = Pipeline(
            sessions,
            warehouse,
            resolver,
            timedelta(days=settings.dedupe_window_days),
            spool_dir=settings.data_dir / "spool",
            load_interval=settings.event_load_interval_ms / 1000,
            stream=stream,
            on_loaded=on_loaded,
        )
        self.checkers = CheckerPool(settings)
        self._keys: dict[str, tuple[SourceRef, float, int]] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ credentials
    def cached_source(self, token: str) -> SourceRef | None:
        """The source behind a write key if it was seen in the last 30 s (no I/O)."""
        entry = self._keys.get(token)
        if entry is None or entry[1] <= time.monotonic():
            return None
        if entry[2] != tenancy_service.source_generation():  # a source changed here
            self._keys.clear()
            return None
        return entry[0]

    def authenticate(self, token: str | None) -> SourceRef:
        """The source behind a write key (401 unknown or revoked, 403 for other credentials)."""
        if not token:
            raise Unauthenticated(
                "send the source's write key as `Authorization: Bearer <key>` or as the "
                "Basic user name",
                field="authorization",
            )
        if (found := self.cached_source(token)) is not None:
            return found
        with self.sessions() as session, session.begin():
            principal = auth.authenticate_token(session, token)
        if principal.kind != PrincipalKind.WRITE_KEY:
            raise Forbidden("ingestion routes take a source's write key", field="authorization")
        store_id = next(iter(principal.store_ids)) if principal.store_ids else None
        ref = SourceRef(principal.organization_id, principal.source_id, store_id)
        self._keys[token] = (
            ref,
            time.monotonic() + CACHE_SECONDS,
            tenancy_service.source_generation(),
        )
        return ref

    def forget_caches(self) -> None:
        """Drop every cached key and catalogue (after revocations or catalogue changes); the
        checker processes drop theirs at their next request."""
        with self._lock:
            self._keys.clear()
            self.forget_catalogs()
            self.checkers.generation += 1

    def outcome(self, submission: Submission, stored: int, duplicates: int) -> Outcome:
        """The answer for a submission once the pipeline has written it (counted in the
        process's metrics by outcome)."""
        outcome = Outcome(stored, duplicates, submission.rejected)
        telemetry.EVENTS.labels("accepted").inc(stored)
        telemetry.EVENTS.labels("duplicate").inc(duplicates)
        telemetry.EVENTS.labels("rejected").inc(len(submission.rejected))
        return outcome
