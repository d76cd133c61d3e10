"""Checking incoming events against an organisation's catalogue (stores, brands, custom event
types and track-name mappings, cached in the process for 30 s and reloaded at once when an
event names something not yet in the cache). The server's collector is a checker; each checker
process (events.offload) has its own."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from newretail.core.database import SQLITE_DEFERRED, scope_session
from newretail.core.errors import InvalidInput
from newretail.core.settings import Settings
from newretail.events import segment
from newretail.events.models import CustomEventType, EventNameMapping
from newretail.events.submission import Rejected, Submission
from newretail.events.taxonomy import BUILT_IN
from newretail.events.validation import (
    BUILT_IN_IDENTIFIERS,
    CheckedEvent,
    Limits,
    OrgCatalog,
    check_event,
    compile_schema,
)
from newretail.tenancy.models import Brand, Store

CACHE_SECONDS = 30.0
RELOAD_AFTER_SECONDS = 1.0  # a miss reloads the catalogue at most this often
_BUILT_IN_CHECKS = {name: compile_schema(schema) for name, schema in BUILT_IN.items()}


@dataclass(frozen=True)
class SourceRef:
    """The authenticated sender of a request."""

    organization_id: uuid.UUID
    source_id: uuid.UUID | None
    store_id: uuid.UUID | None


@dataclass
class Outcome:
    """What a request's events came to."""

    accepted: int
    duplicates: int
    failed: list[Rejected]

    def as_dict(self) -> dict[str, Any]:
        """The JSON answer (failed events by index, field and reason)."""
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "failed": [
                {"index": r.index, "field": r.field, "reason": r.reason} for r in self.failed
            ],
        }


class Checker:
    """Checks events against an organisation's catalogue (cached); no I/O but catalogue reads.
    The server's collector is one; each checker process (events.offload) has its own."""

    def __init__(self, sessions: sessionmaker[Session], settings: Settings, resolver: Any):
        self.sessions = sessions
        self.settings = settings
        self.resolver = resolver  # for the organisation's custom identifier types
        self.limits = Limits(
            max_age=timedelta(days=settings.max_event_age_days),
            max_future_skew=timedelta(seconds=settings.max_future_skew_seconds),
            max_event_bytes=settings.max_event_bytes,
            max_property_depth=settings.max_property_depth,
        )
        self._catalogs: dict[uuid.UUID, OrgCatalog] = {}
        self._mappings: dict[uuid.UUID, tuple[dict[str, str], float]] = {}

    # ------------------------------------------------------------------ catalogue
    def forget_catalogs(self) -> None:
        self._catalogs.clear()
        self._mappings.clear()

    def catalog(self, organization_id: uuid.UUID, *, reload: bool = False) -> OrgCatalog:
        """The organisation's stores, brands and types, cached."""
        now = time.monotonic()
        found = self._catalogs.get(organization_id)
        if found is not None:
            age = now - found.loaded_at
            if age < CACHE_SECONDS and not (reload and age >= RELOAD_AFTER_SECONDS):
                return found
        loaded = self._load_catalog(organization_id)
        loaded.loaded_at = now
        self._catalogs[organization_id] = loaded
        return loaded

    def _load_catalog(self, organization_id: uuid.UUID) -> OrgCatalog:
        with self.sessions() as raw:
            session = scope_session(raw, organization_id)
            # a read: on SQLite it must not queue behind writers for the write lock (it runs
            # in the request's path, on the event loop for a small body)
            session.connection(execution_options={SQLITE_DEFERRED: True})
            stores = {
                str(store_id): (None if brand_id is None else str(brand_id), channel)
                for store_id, brand_id, channel in session.execute(
                    select(Store.id, Store.brand_id, Store.channel_type)
                )
            }
            brands = frozenset(str(b) for b in session.scalars(select(Brand.id)))
            custom = list(session.scalars(select(CustomEventType)))
        event_types = dict(_BUILT_IN_CHECKS)
        for item in custom:
            event_types[item.name] = compile_schema(item.schema)
        identifier_types = BUILT_IN_IDENTIFIERS
        known = getattr(self.resolver, "known_types", None)
        if known is not None:
            identifier_types = frozenset(identifier_types | set(known(organization_id)))
        return OrgCatalog(organization_id, stores, brands, event_types, identifier_types)

    def mapping(self, source_id: uuid.UUID | None, organization_id: uuid.UUID) -> dict[str, str]:
        """The source's track-name → event-type mapping, cached."""
        if source_id is None:
            return {}
        now = time.monotonic()
        entry = self._mappings.get(source_id)
        if entry is not None and now - entry[1] < CACHE_SECONDS:
            return entry[0]
        with self.sessions() as raw:
            session = scope_session(raw, organization_id)
            session.connection(execution_options={SQLITE_DEFERRED: True})  # a read (above)
            rows = session.execute(
                select(EventNameMapping.event_name, EventNameMapping.event_type).where(
                    EventNameMapping.source_id == source_id
                )
            )
            mapping = {name: kind for name, kind in rows}
        self._mappings[source_id] = (mapping, now)
        return mapping

    # ------------------------------------------------------------------ checking
    def check(
        self,
        source: SourceRef,
        raw_events: Sequence[Any],
        received_at: datetime,
        *,
        api: str,
        convert: Callable[[Any, str], dict[str, Any] | tuple[str, str]] | None = None,
        path: str = "events",
        custom_allowed: bool = False,
    ) -> Submission:
        """Check a batch; valid events go on, invalid ones are kept aside with their reason."""
        if len(raw_events) > self.settings.max_batch_events:
            raise InvalidInput(
                f"at most {self.settings.max_batch_events} events per request", field=path
            )
        catalog = self.catalog(source.organization_id)
        default_store = None if source.store_id is None else str(source.store_id)
        accepted: list[CheckedEvent] = []
        rejected: list[Rejected] = []
        for index, raw in enumerate(raw_events):
            at = f"{path}[{index}]"
            native = convert(raw, at) if convert is not None else raw
            if isinstance(native, tuple):
                result: CheckedEvent | tuple[str, str] = native
            else:
                result = check_event(
                    native, at, catalog, self.limits, received_at, default_store, custom_allowed
                )
                if isinstance(result, tuple) and _may_be_stale(result[0]):
                    fresh = self.catalog(source.organization_id, reload=True)
                    if fresh is not catalog:
                        catalog = fresh
                        result = check_event(
                            native,
                            at,
                            catalog,
                            self.limits,
                            received_at,
                            default_store,
                            custom_allowed,
                        )
            if isinstance(result, tuple):
                rejected.append(_rejected(index, result, raw, native))
            else:
                result.index = index
                accepted.append(result)
        return Submission(
            organization_id=source.organization_id,
            source_id=source.source_id,
            api=api,
            received_at=received_at,
            events=accepted,
            rejected=rejected,
        )

    def check_segment(
        self,
        source: SourceRef,
        messages: Sequence[Any],
        received_at: datetime,
        path: str,
        sent_at: Any = None,
    ) -> Submission:
        """Check Segment messages, mapped to native events by the source's track mapping."""
        mapping = self.mapping(source.source_id, source.organization_id)
        received = received_at.isoformat()

        def convert(message: Any, at: str) -> dict[str, Any] | tuple[str, str]:
            return segment.to_native(message, at, mapping, sent_at, received)

        return self.check(
            source,
            messages,
            received_at,
            api="segment",
            convert=convert,
            path=path,
            custom_allowed=True,
        )


def _may_be_stale(field: str) -> bool:
    return field.endswith((".store_id", ".brand_id", ".type")) or ".identifiers." in field


def _rejected(index: int, failure: tuple[str, str], raw: Any, native: Any) -> Rejected:
    source = native if isinstance(native, dict) else raw if isinstance(raw, dict) else {}
    message_id = source.get("message_id") if isinstance(source, dict) else None
    event_type = source.get("type") if isinstance(source, dict) else None
    return Rejected(
        index=index,
        field=failure[0],
        reason=failure[1],
        payload=raw if isinstance(raw, dict | list) else {"value": raw},
        message_id=message_id[:100] if isinstance(message_id, str) else None,
        event_type=event_type[:64] if isinstance(event_type, str) else None,
    )
