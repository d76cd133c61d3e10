"""Loading accepted events into the warehouse `event` table: each event's member and profile
from OneID (remembered per list of identifiers), then one append (DuckDB by name; PostgreSQL
skipping message ids already stored).

Lock order: identities are resolved (operational-store writes) without the warehouse lock, which
is then taken only for the append. A merge commits its operational-store change, bumps the
resolver's epoch and then moves warehouse events under the lock; so if the epoch moved while
rows were being resolved, they are resolved again.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson
import pyarrow as pa

from newretail.events.submission import Columns
from newretail.warehouse.connection import EVENT_SCHEMA, EVENT_TABLE, Warehouse

ARROW_SCHEMA = EVENT_SCHEMA.to_pyarrow()
IDENTITY_CACHE_SECONDS = 30.0  # as long as OneID's own cache (merges by other processes)
IDENTITY_CACHE_ENTRIES = 1_000_000
# (organisation, JSON text of the identifiers) -> (member, profile)
IdentityKey = tuple[str, str]
# called with each batch of events newly stored, with their members (ARROW_SCHEMA), after
# the append; what reacts to accepted events (reach's triggers) is wired here at composition
LoadedHook = Callable[[pa.Table], None]
log = logging.getLogger(__name__)


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


class EventLoader:
    """Appends events (see submission.Columns) to the warehouse with their OneID member."""

    def __init__(
        self,
        warehouse: Warehouse,
        resolver: Resolver | None,
        on_loaded: LoadedHook | None = None,
    ):
        self.warehouse = warehouse
        self.resolver = resolver
        self.on_loaded = on_loaded
        self.postgres = not warehouse.url.startswith("duckdb")
        self._identities: dict[IdentityKey, tuple[str, str]] = {}
        self._identity_epoch = -1
        self._identities_since = 0.0

    def load(self, rows: Columns) -> set[tuple[str, str]] | None:
        """Resolve identities and append rows to the warehouse in one transaction; on
        PostgreSQL, returns the (organisation, message id) pairs really stored. Then the rows
        stored go to `on_loaded` (outside the warehouse lock; its failure is logged, the
        events stay stored)."""
        con = self.warehouse.connection()
        while True:
            epoch = self.resolver.epoch if self.resolver is not None else 0
            table = self._arrow(rows)
            with self.warehouse.lock:
                if self.resolver is not None and self.resolver.epoch != epoch:
                    continue  # a merge or an undo happened meanwhile
                stored = None
                if self.postgres:
                    stored = _append_postgres(con, table)
                else:
                    _append_duckdb(con, table)
            self._loaded(table, stored)
            return stored

    def _loaded(self, table: pa.Table, stored: set[tuple[str, str]] | None) -> None:
        if self.on_loaded is None or table.num_rows == 0:
            return
        if stored is not None:  # PostgreSQL: only the rows new to the warehouse
            orgs, ids = table["organization_id"].to_pylist(), table["message_id"].to_pylist()
            new = [key in stored for key in zip(orgs, ids, strict=True)]
            table = table.filter(pa.array(new, pa.bool_()))
        try:
            self.on_loaded(table)
        except Exception:
            log.exception("reacting to %d loaded events failed", table.num_rows)

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
        known = self._known(epoch)
        last_received: dict[str, int] = {}
        by_org: dict[str, dict[IdentityKey, list[int]]] = {}
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
        fresh: dict[IdentityKey, tuple[str, str]] = {}
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

    def _known(self, epoch: int) -> dict[IdentityKey, tuple[str, str]]:
        """The identities remembered at this epoch (forgotten when it moved, when the cache
        period ended or when there are too many)."""
        now = time.monotonic()
        if (
            epoch != self._identity_epoch
            or now - self._identities_since > IDENTITY_CACHE_SECONDS
            or len(self._identities) > IDENTITY_CACHE_ENTRIES
        ):
            self._identities = {}
            self._identity_epoch, self._identities_since = epoch, now
        return self._identities

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


def _append_duckdb(con: Any, rows: pa.Table) -> None:
    """INSERT … BY NAME from the Arrow table registered on the DuckDB connection."""
    duck = con.con
    duck.register("_incoming_events", rows)
    try:
        duck.execute(f'INSERT INTO "{EVENT_TABLE}" BY NAME SELECT * FROM _incoming_events')  # noqa: S608
    finally:
        duck.unregister("_incoming_events")


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
