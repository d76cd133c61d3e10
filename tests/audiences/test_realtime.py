"""The realtime membership index: loaded from the stored version, swapped on refresh."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import ibis
import pyarrow as pa

from newretail.audiences import queries, realtime
from newretail.audiences.tables import (
    AUDIENCE_MEMBER_SCHEMA,
    AUDIENCE_MEMBER_TABLE,
    ensure_audience_tables,
)


def _store(con: Any, org: str, audience: str, version: str, members: list[str]) -> None:
    now = datetime(2026, 4, 1, tzinfo=UTC)
    rows = [
        {
            "organization_id": org,
            "audience_id": audience,
            "version": version,
            "member_id": m,
            "since": now,
        }
        for m in members
    ]
    table = pa.Table.from_pylist(rows, schema=AUDIENCE_MEMBER_SCHEMA.to_pyarrow())
    con.insert(AUDIENCE_MEMBER_TABLE, ibis.memtable(table))


def test_index_answers_from_the_loaded_version_and_isolates_organisations(duck: Any) -> None:
    ensure_audience_tables(duck)
    org, other = str(uuid.uuid4()), str(uuid.uuid4())
    _store(duck, org, "a", "v1", ["m1", "m2"])
    _store(duck, org, "a", "v2", ["m2", "m3"])
    _store(duck, other, "a", "v1", ["m9"])
    index = realtime.MembershipIndex()
    assert index.contains(org, "a", "m1") is False  # not loaded: nobody
    index.ensure(duck, org, "a", "v1")
    assert [index.contains(org, "a", m) for m in ("m1", "m2", "m3", "m9")] == [
        True,
        True,
        False,
        False,
    ]
    assert index.contains(other, "a", "m1") is False
    index.ensure(duck, org, "a", "v2")
    assert (index.version(org, "a"), index.contains(org, "a", "m1")) == ("v2", False)
    assert index.contains(org, "a", "m3") is True
    index.drop(org, "a")
    assert index.version(org, "a") is None
    assert queries.stored_members(duck, org, "a", "v2").count().execute() == 2


def test_one_index_per_warehouse() -> None:
    class FakeWarehouse:
        pass

    first, second = FakeWarehouse(), FakeWarehouse()
    assert realtime.index_for(first) is realtime.index_for(first)
    assert realtime.index_for(first) is not realtime.index_for(second)
