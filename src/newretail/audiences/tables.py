"""The audiences' warehouse tables (the member dimension, the stored memberships) and access."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import ibis.expr.datatypes as dt

from newretail.databank.tables import ensure_databank_tables
from newretail.warehouse.connection import (
    UTC_TIMESTAMP,
    Warehouse,
    create_missing_tables,
    organisation_schema,
)

MEMBER_DIM_TABLE = "member_dim"
MEMBER_DIM_SYNC_TABLE = "member_dim_sync"
AUDIENCE_MEMBER_TABLE = "audience_member"

CONSENT_CHANNELS = ("sms", "push", "wechat", "email")

# One row per member of the operational store that can be in an audience: members merged
# into another are left out (the survivor carries their events). Anonymous profiles are in
# with null attributes and no consent.
MEMBER_DIM_SCHEMA = organisation_schema(
    {
        "member_id": dt.string,
        "city": dt.String(nullable=True),
        "gender": dt.String(nullable=True),
        "birth_year": dt.Int32(nullable=True),
        "tier": dt.String(nullable=True),
        "points": dt.int64,
        "anonymous": dt.boolean,
        **{f"marketing_{channel}": dt.boolean for channel in CONSENT_CHANNELS},
    }
)
MEMBER_DIM_COLUMNS = tuple(MEMBER_DIM_SCHEMA.names)

# What the last sync saw of the operational store, to tell when the dimension is stale.
MEMBER_DIM_SYNC_SCHEMA = organisation_schema(
    {
        "fingerprint": dt.string,
        "rows": dt.int64,
        "synced_at": UTC_TIMESTAMP,
    }
)

# The members of each stored version of an audience; the operational store names the
# current version, so readers never see a half-written refresh.
AUDIENCE_MEMBER_SCHEMA = organisation_schema(
    {
        "audience_id": dt.string,
        "version": dt.string,
        "member_id": dt.string,
        "since": UTC_TIMESTAMP,
    }
)

TABLES = {
    MEMBER_DIM_TABLE: MEMBER_DIM_SCHEMA,
    MEMBER_DIM_SYNC_TABLE: MEMBER_DIM_SYNC_SCHEMA,
    AUDIENCE_MEMBER_TABLE: AUDIENCE_MEMBER_SCHEMA,
}
# Engines that run DELETE (the others keep old versions, which readers ignore).
DELETING_ENGINES = {"duckdb", "postgres"}


def ensure_audience_tables(con: Any) -> None:
    """Create the audiences' warehouse tables that do not exist yet."""
    create_missing_tables(con, TABLES)


@contextmanager
def open_warehouse(warehouse: Warehouse) -> Iterator[Any]:
    """The warehouse connection under its lock, with the Data Bank's and audiences' tables."""
    con = warehouse.connection()
    with warehouse.lock:
        ensure_databank_tables(con)
        ensure_audience_tables(con)
        yield con


def count_rows(expr: Any) -> int:
    """The number of rows of an Ibis table expression."""
    return int(expr.count().execute())
