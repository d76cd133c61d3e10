"""The Data Bank's warehouse tables: daily AIPL snapshots, their runs and saved member lists."""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.datatypes as dt

SNAPSHOT_TABLE = "aipl_snapshot"
SNAPSHOT_RUN_TABLE = "aipl_snapshot_run"
MEMBER_LIST_TABLE = "databank_member_list"
MEMBER_LIST_INFO_TABLE = "databank_member_list_info"

# One row per (organisation, brand, member, date) holding a stage on that date. The dates are
# the per-member state the next day's incremental snapshot starts from; each is kept only
# while it is inside its window (null otherwise), so full and incremental rows are equal.
SNAPSHOT_SCHEMA = ibis.schema(
    {
        "organization_id": dt.string,
        "brand_id": dt.string,
        "member_id": dt.string,
        "date": dt.date,
        "stage": dt.string,
        "last_aware_date": dt.Date(nullable=True),
        "last_interest_date": dt.Date(nullable=True),
        "last_purchase_date": dt.Date(nullable=True),
        "previous_purchase_date": dt.Date(nullable=True),
        "last_advocacy_date": dt.Date(nullable=True),
    }
)
STATE_COLUMNS = (
    "last_aware_date",
    "last_interest_date",
    "last_purchase_date",
    "previous_purchase_date",
    "last_advocacy_date",
)

# Which dates are materialised (a date may hold no member at all) and how.
SNAPSHOT_RUN_SCHEMA = ibis.schema(
    {
        "organization_id": dt.string,
        "date": dt.date,
        "mode": dt.string,
        "rows": dt.int64,
        "computed_at": dt.Timestamp(timezone="UTC"),
    }
)

MEMBER_LIST_SCHEMA = ibis.schema(
    {
        "organization_id": dt.string,
        "list_id": dt.string,
        "brand_id": dt.string,
        "member_id": dt.string,
    }
)
MEMBER_LIST_INFO_SCHEMA = ibis.schema(
    {
        "organization_id": dt.string,
        "list_id": dt.string,
        "name": dt.string,
        "definition": dt.string,
        "size": dt.int64,
        "created_at": dt.Timestamp(timezone="UTC"),
    }
)

TABLES = {
    SNAPSHOT_TABLE: SNAPSHOT_SCHEMA,
    SNAPSHOT_RUN_TABLE: SNAPSHOT_RUN_SCHEMA,
    MEMBER_LIST_TABLE: MEMBER_LIST_SCHEMA,
    MEMBER_LIST_INFO_TABLE: MEMBER_LIST_INFO_SCHEMA,
}


def ensure_databank_tables(con: Any) -> None:
    """Create the Data Bank's warehouse tables that do not exist yet."""
    existing = set(con.list_tables())
    for name, schema in TABLES.items():
        if name not in existing:
            con.create_table(name, schema=schema)
