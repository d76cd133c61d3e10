"""Audiences' part of a member's erasure (privacy/erasure.py owns the use case): the member
leaves every stored audience version and the member dimension in the warehouse, and this
process's realtime membership index. Safe to run again."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from newretail.audiences.realtime import index_for
from newretail.audiences.tables import AUDIENCE_MEMBER_TABLE, MEMBER_DIM_TABLE, open_warehouse
from newretail.warehouse.connection import Warehouse
from newretail.warehouse.sql import fetch_rows, run_sql


def forget_members(
    warehouse: Warehouse, organization_id: uuid.UUID, member_ids: Sequence[uuid.UUID]
) -> dict[str, int]:
    """Delete the members' stored memberships and dimension rows; drop them from the
    membership index. Returns the warehouse rows deleted per table."""
    org = str(organization_id)
    ids = ", ".join(f"'{m}'" for m in member_ids)
    deleted: dict[str, int] = {}
    with open_warehouse(warehouse) as con:
        for table in (AUDIENCE_MEMBER_TABLE, MEMBER_DIM_TABLE):
            where = f"organization_id = '{org}' AND member_id IN ({ids})"
            [(count,)] = fetch_rows(con, f'SELECT count(*) FROM "{table}" WHERE {where}')  # noqa: S608
            if count:
                run_sql(con, f'DELETE FROM "{table}" WHERE {where}')  # noqa: S608
            deleted[table] = int(count)
    index_for(warehouse).forget(org, {str(m) for m in member_ids})
    return deleted
