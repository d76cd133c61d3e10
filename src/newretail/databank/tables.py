"""The Data Bank's warehouse tables: AIPL state intervals, snapshot runs, saved member lists."""

from __future__ import annotations

from typing import Any

import ibis.expr.datatypes as dt

from newretail.warehouse.connection import (
    UTC_TIMESTAMP,
    create_missing_tables,
    organisation_schema,
)

STATE_TABLE = "aipl_state"
SNAPSHOT_RUN_TABLE = "aipl_snapshot_run"
MEMBER_LIST_TABLE = "databank_member_list"
MEMBER_LIST_INFO_TABLE = "databank_member_list_info"
# The daily-row layout of the first version (one row per member per date); dropped on sight.
LEGACY_SNAPSHOT_TABLE = "aipl_snapshot"

STATE_COLUMNS = (
    "last_aware_date",
    "last_interest_date",
    "last_purchase_date",
    "previous_purchase_date",
    "last_advocacy_date",
)
# For each state date, the first day it no longer counts (the date plus its window).
UNTIL_COLUMNS = {
    "last_aware_date": "aware_until",
    "last_interest_date": "interest_until",
    "last_purchase_date": "purchase_until",
    "previous_purchase_date": "previous_purchase_until",
    "last_advocacy_date": "advocacy_until",
}

# The `aipl_state` columns in table order.
STATE_ROW_COLUMNS = (
    "organization_id",
    "brand_id",
    "member_id",
    "valid_from",
    "valid_to",
    *(name for column in STATE_COLUMNS for name in (column, UNTIL_COLUMNS[column])),
)

# Per-member AIPL state as interval rows: a row holds the state of (brand, member) on every
# date from valid_from to the day before valid_to. A new row starts only when the member has
# new events that earn a stage date (or a date is recomputed), so a day's incremental
# snapshot writes the rows of the members with such events and closes their previous rows.
# The state dates are the ones in their windows on valid_from; a date stops counting on its
# `*_until` day, and valid_to is at the latest the day the last of them stops (the member
# leaves AIPL). Reads clip the dates to the day asked for (see queries.stored_snapshot).
STATE_SCHEMA = organisation_schema(
    {
        "brand_id": dt.string,
        "member_id": dt.string,
        "valid_from": dt.date,
        "valid_to": dt.date,
        **{
            name: dt.Date(nullable=True)
            for column in STATE_COLUMNS
            for name in (column, UNTIL_COLUMNS[column])
        },
    }
)

# Which dates are materialised (a date may hold no member at all) and how.
SNAPSHOT_RUN_SCHEMA = organisation_schema(
    {
        "date": dt.date,
        "mode": dt.string,
        "rows": dt.int64,
        "computed_at": UTC_TIMESTAMP,
    }
)

MEMBER_LIST_SCHEMA = organisation_schema(
    {
        "list_id": dt.string,
        "brand_id": dt.string,
        "member_id": dt.string,
    }
)
MEMBER_LIST_INFO_SCHEMA = organisation_schema(
    {
        "list_id": dt.string,
        "name": dt.string,
        "definition": dt.string,
        "size": dt.int64,
        "created_at": UTC_TIMESTAMP,
    }
)

TABLES = {
    STATE_TABLE: STATE_SCHEMA,
    SNAPSHOT_RUN_TABLE: SNAPSHOT_RUN_SCHEMA,
    MEMBER_LIST_TABLE: MEMBER_LIST_SCHEMA,
    MEMBER_LIST_INFO_TABLE: MEMBER_LIST_INFO_SCHEMA,
}


def ensure_databank_tables(con: Any) -> None:
    """Create the Data Bank's warehouse tables that do not exist yet."""
    existing = set(con.list_tables())
    if LEGACY_SNAPSHOT_TABLE in existing:
        # Derived data in the old layout: forget it with the record of materialised dates,
        # so the next snapshot is computed in full (backfill restores past days).
        con.drop_table(LEGACY_SNAPSHOT_TABLE)
        if SNAPSHOT_RUN_TABLE in existing:
            con.drop_table(SNAPSHOT_RUN_TABLE)
    create_missing_tables(con, TABLES)
