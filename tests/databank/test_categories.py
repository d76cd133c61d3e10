"""The Data Bank's category of an event (Ibis) agrees with the catalogue's rule (Python)."""

from __future__ import annotations

import json

import ibis

from newretail.catalog import pricing
from newretail.databank.queries import event_category

PATHS = ["", "Skincare/Serums", " Tea /Green", "TEA", "/Gifts", "Tea", "茶叶/绿茶", "tea"]


def test_the_event_category_is_the_catalogues_category_of_its_path() -> None:
    con = ibis.duckdb.connect()
    try:
        rows = ibis.memtable(
            {
                "position": list(range(len(PATHS) + 1)),
                "properties": [json.dumps({"category": p}, ensure_ascii=False) for p in PATHS]
                + [json.dumps({"city": "Shanghai"})],
            }
        )
        found = con.to_pyarrow(
            rows.select("position", category=event_category(rows.properties)).order_by("position")
        ).to_pylist()
    finally:
        con.disconnect()
    assert [row["category"] for row in found] == [
        *(pricing.category_of(path) for path in PATHS),
        None,
    ]
    assert [row["category"] for row in found][:4] == [None, "skincare", "tea", "tea"]
