"""The Data Bank's part of a member's erasure (privacy/erasure.py owns the use case): the
materialised AIPL states and saved member lists keep their rows, so every stage count and list
size stays exact, but name the tombstone. Safe to run again."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from newretail.databank.tables import MEMBER_LIST_TABLE, STATE_TABLE, ensure_databank_tables
from newretail.warehouse.connection import Warehouse
from newretail.warehouse.sql import fetch_rows, run_sql


def hand_to_tombstone(
    warehouse: Warehouse,
    organization_id: uuid.UUID,
    member_ids: Sequence[uuid.UUID],
    tombstone_id: uuid.UUID,
) -> dict[str, int]:
    """The members' AIPL states and list entries are the tombstone's; rows per table."""
    ids = ", ".join(f"'{m}'" for m in member_ids)
    where = f"organization_id = '{organization_id}' AND member_id IN ({ids})"
    moved: dict[str, int] = {}
    con = warehouse.connection()
    with warehouse.lock:
        ensure_databank_tables(con)
        for table in (STATE_TABLE, MEMBER_LIST_TABLE):
            [(count,)] = fetch_rows(con, f'SELECT count(*) FROM "{table}" WHERE {where}')  # noqa: S608
            if count:
                run_sql(
                    con,
                    f"UPDATE \"{table}\" SET member_id = '{tombstone_id}' WHERE {where}",  # noqa: S608
                )
            moved[table] = int(count)
    return moved
