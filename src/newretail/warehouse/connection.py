"""The analytics warehouse behind Ibis: DuckDB by default, PostgreSQL for one server.

The embedded DuckDB file admits one process at a time, so the server owns it while it runs.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.datatypes as dt

from newretail.core.errors import Unavailable
from newretail.warehouse.sql import fetch_rows, run_sql

EVENT_TABLE = "event"

# The instant of a warehouse row: UTC, with its time zone.
UTC_TIMESTAMP = dt.Timestamp(timezone="UTC")


def organisation_schema(columns: Mapping[str, Any]) -> ibis.Schema:
    """A warehouse table's schema: every table is kept and read by organisation, so its
    first column is `organization_id`, then `columns` in order."""
    return ibis.schema({"organization_id": dt.string, **columns})


# One row per touchpoint or commerce fact (issue 4 fills it; the Data Bank reads it).
EVENT_SCHEMA = organisation_schema(
    {
        "message_id": dt.string,
        "type": dt.string,
        "ts": UTC_TIMESTAMP,
        "received_at": UTC_TIMESTAMP,
        "brand_id": dt.String(nullable=True),
        "store_id": dt.String(nullable=True),
        "channel": dt.String(nullable=True),
        "member_id": dt.String(nullable=True),
        # the profile the event's identifiers first belonged to; member_id follows merges
        "profile_id": dt.String(nullable=True),
        "anonymous_id": dt.String(nullable=True),
        "amount": dt.Decimal(18, 2, nullable=True),
        "properties": dt.String(nullable=True),
    }
)


class Warehouse:
    """A lazily opened Ibis connection with the NewRetail schema in place."""

    def __init__(self, url: str):
        self.url = url
        self._connection: Any = None
        self.lock = threading.RLock()

    def connection(self) -> Any:
        """The Ibis backend, connected and migrated on first use."""
        with self.lock:
            if self._connection is not None and _broken(self._connection):
                self._connection = None  # PostgreSQL restarted or the link dropped: reconnect
            if self._connection is None:
                self._connection = self._connect()
                ensure_schema(self._connection)
            return self._connection

    def _connect(self) -> Any:
        if self.url.startswith("duckdb://"):
            path = self.url.removeprefix("duckdb://")
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            try:
                return ibis.duckdb.connect(path or ":memory:")
            except Exception as exc:  # duckdb raises IOException on a held lock
                raise Unavailable(
                    f"cannot open the warehouse {path}: {exc}. The embedded DuckDB file admits "
                    "one process; stop the server or go through its API",
                    field="warehouse_url",
                ) from exc
        return ibis.connect(self.url)

    def ping(self) -> bool:
        """True when the warehouse answers a trivial query."""
        con = self.connection()
        with self.lock:
            return int(con.table(EVENT_TABLE).count().execute()) >= 0

    def events_marker(self) -> int | None:
        """Something that changes whenever the events change, read cheaply, so a figure
        computed from them can be kept until it does: the embedded DuckDB's count of event
        rows (from its table statistics; the table is appended to and deduplicated, never
        updated). None on other engines, where no count is cheap."""
        with self.lock:
            con = self.connection()
            if con.name != "duckdb":
                return None
            [(rows,)] = fetch_rows(con, f'SELECT count(*) FROM "{EVENT_TABLE}"')  # noqa: S608
            return int(rows)

    def close(self) -> None:
        with self.lock:
            if self._connection is not None:
                self._connection.disconnect()
                self._connection = None


def _broken(con: Any) -> bool:
    """Whether a PostgreSQL backend's connection was lost (psycopg marks it closed after a
    failed call: a server restart, a dropped link). DuckDB's is never lost."""
    client = getattr(con, "con", None) if con.name == "postgres" else None
    return bool(getattr(client, "closed", False))


def ensure_schema(con: Any) -> None:
    """Create the warehouse tables that do not exist yet."""
    if EVENT_TABLE not in con.list_tables():
        try:
            con.create_table(EVENT_TABLE, schema=EVENT_SCHEMA)
        except Exception:  # another server created it at the same moment
            if EVENT_TABLE not in con.list_tables():
                raise
    if con.name == "postgres":  # several servers may write: the index decides duplicates
        try:
            run_sql(
                con,
                f'CREATE UNIQUE INDEX IF NOT EXISTS "ux_{EVENT_TABLE}_message" '
                f'ON "{EVENT_TABLE}" (organization_id, message_id)',
            )
        except Exception:  # created by another server at the same moment
            found = fetch_rows(
                con,
                f"SELECT 1 FROM pg_indexes WHERE indexname = 'ux_{EVENT_TABLE}_message'",  # noqa: S608
            )
            if not found:
                raise
    present = set(con.table(EVENT_TABLE).columns)
    for name, kind in EVENT_SCHEMA.items():
        if name not in present:  # a warehouse written by an earlier version
            if not (kind.is_string() and kind.nullable):
                raise RuntimeError(f"cannot add the warehouse column {name} ({kind}) in place")
            run_sql(con, f'ALTER TABLE "{EVENT_TABLE}" ADD COLUMN "{name}" VARCHAR')


def create_missing_tables(con: Any, tables: Mapping[str, Any]) -> None:
    """Create the tables of `tables` (name → Ibis schema) that do not exist yet."""
    existing = set(con.list_tables())
    for name, schema in tables.items():
        if name not in existing:
            con.create_table(name, schema=schema)
