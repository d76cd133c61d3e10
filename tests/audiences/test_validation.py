"""Rules checked against the organisation's catalogue: event types, channels, brands, stores,
products and categories by id, code or name, stored as ids; faults name their path in en
and zh-CN. And audience windows are the organisation's local days (Asia/Shanghai)."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

import pytest
from fastapi.testclient import TestClient

from newretail.audiences.compiler import property_pattern
from newretail.audiences.errors import RuleError
from newretail.bootstrap import Container
from newretail.core.i18n import translator
from tests.audiences.world import load_events, make_members
from tests.conftest import Org
from tests.databank.history import event

API = "/api/v1/audiences"


@pytest.fixture
def catalogue(client: TestClient, org: Org) -> dict[str, str]:
    h = org.auth()
    ids: dict[str, str] = {}
    for code, name, path in (
        ("TEA-1", "Longjing", "Tea/Green"),
        ("TEA-2", "Pu'er", "Tea/Dark"),
        ("CUP-1", "Cup", "Tableware"),
    ):
        made = client.post(
            "/api/v1/products",
            headers=h,
            json={"brand_id": str(org.brand_id), "code": code, "name": name, "category_path": path},
        )
        assert made.status_code == 201, made.text
        ids[code] = made.json()["id"]
    return ids


def _estimate(client: TestClient, org: Org, condition: dict[str, Any]) -> Any:
    return client.post(f"{API}/estimate", headers=org.auth(), json={"rules": {"all": [condition]}})


def test_references_by_code_or_name_are_stored_as_ids(
    client: TestClient, org: Org, catalogue: dict[str, str]
) -> None:
    condition = {
        "type": "behaviour",
        "events": ["purchase"],
        "brand_id": "b1",
        "store_id": ["S0", "Store 1"],
        "product_id": ["TEA-1", "Pu'er"],
        "category": ["tea", "Tea/Green"],
        "channel": ["store"],
    }
    answer = _estimate(client, org, condition)
    assert answer.status_code == 200, answer.text
    assert answer.json()["rules"] == {
        "all": [
            {
                "type": "behaviour",
                "events": ["purchase"],
                "brand_id": str(org.brand_id),
                "category": ["Tea", "Tea/Green"],
                "product_id": [catalogue["TEA-1"], catalogue["TEA-2"]],
                "store_id": [str(org.store_ids[0]), str(org.store_ids[1])],
                "channel": ["store"],
            }
        ]
    }
    by_name = _estimate(client, org, {"type": "recency", "bucket": "never", "brand_id": "Brand"})
    assert by_name.json()["rules"]["all"][0]["brand_id"] == str(org.brand_id)


FAULTS = [
    (
        {"type": "behaviour", "events": ["add_to_cart", "teleport"]},
        "rules.all[0].events[1]",
        "'teleport' is not an event type of this organisation",
        "“teleport”不是本组织的事件类型",
    ),
    (
        {"type": "did_not", "events": ["purchase"], "store_id": ["S0", "S9"]},
        "rules.all[0].store_id[1]",
        "no store has the code or name 'S9'",
        "没有代码或名称为“S9”的门店",
    ),
    (
        {"type": "behaviour", "events": ["purchase"], "product_id": ["Oolong"]},
        "rules.all[0].product_id[0]",
        "no product has the code or name 'Oolong'",
        "没有代码或名称为“Oolong”的商品",
    ),
    (
        {"type": "behaviour", "events": ["purchase"], "category": ["Tea/White"]},
        "rules.all[0].category[0]",
        "no product is in the category 'Tea/White'",
        "没有商品属于品类“Tea/White”",
    ),
    (
        {"type": "behaviour", "events": ["purchase"], "channel": ["teleporter"]},
        "rules.all[0].channel[0]",
        "'teleporter' is not a channel "
        "(online, store, counter, popup, cloud_shelf, vending, warehouse)",
        "“teleporter”不是渠道（online, store, counter, popup, cloud_shelf, vending, warehouse）",
    ),
    (
        {"type": "aipl_stage", "brand_id": "b2", "stages": ["A"]},
        "rules.all[0].brand_id",
        "no such brand",
        "没有这个品牌",
    ),
    (
        {"type": "behaviour", "events": ["purchase"], "window": {"days": 0}},
        "rules.all[0].window.days",
        "must be at least 1",
        "不能小于 1",
    ),
]


@pytest.mark.parametrize(("condition", "path", "english", "chinese"), FAULTS)
def test_faults_name_the_path_and_the_reason_in_both_languages(
    client: TestClient,
    org: Org,
    catalogue: dict[str, str],
    condition: dict[str, Any],
    path: str,
    english: str,
    chinese: str,
) -> None:
    answer = _estimate(client, org, condition)
    assert answer.status_code == 422
    assert answer.json() == {
        "code": "invalid_input",
        "message": f"{path}: {english}",
        "field": path,
    }
    saved = client.post(API, headers=org.auth(), json={"name": "x", "rules": {"all": [condition]}})
    assert (saved.status_code, saved.json()["field"]) == (422, path)


def test_a_rule_error_reads_in_chinese() -> None:
    error = RuleError("rules.all[0].events[1]", "unknown_event", value="teleport")
    assert error.translated(translator("zh-CN")) == (
        "rules.all[0].events[1]: “teleport”不是本组织的事件类型"
    )
    assert error.translated(translator("en")) == error.message


def test_a_name_shared_by_two_stores_asks_for_the_code(client: TestClient, org: Org) -> None:
    renamed = client.patch(
        f"/api/v1/stores/{org.store_ids[1]}", headers=org.auth(), json={"name": "Store 0"}
    )
    assert renamed.status_code == 200, renamed.text
    answer = _estimate(
        client, org, {"type": "behaviour", "events": ["store_visit"], "store_id": ["Store 0"]}
    )
    assert (answer.status_code, answer.json()["message"]) == (
        422,
        "rules.all[0].store_id[0]: 'Store 0' names 2 of them: give the code",
    )


SHANGHAI = timezone(timedelta(hours=8))


def test_a_purchase_at_half_past_midnight_in_shanghai_counts_on_11_november(
    client: TestClient, container: Container, org: Org
) -> None:
    """2026-11-11T00:30+08:00 is 2026-11-10T16:30Z: it belongs to the local 11 November."""
    members = make_members(container, org, 2)
    at = datetime(2026, 11, 11, 0, 30, tzinfo=SHANGHAI).astimezone(UTC)
    row = event(str(org.id), "purchase", at.date(), members[0], str(org.brand_id), at=at.time())
    late = datetime(2026, 11, 10, 23, 30, tzinfo=SHANGHAI).astimezone(UTC)
    before = event(str(org.id), "purchase", late.date(), members[1], None, at=late.time())
    load_events(container, [row, before])
    client.put(f"{API}/settings", headers=org.auth(), json={"min_crowd_size": 1})

    def buyers(window: dict[str, Any], as_of: date) -> int:
        rules = {"type": "behaviour", "events": ["purchase"], "window": window}
        answer = client.post(
            f"{API}/estimate", headers=org.auth(), json={"rules": rules, "as_of": str(as_of)}
        )
        assert answer.status_code == 200, answer.text
        return int(answer.json()["size"])

    eleventh = date(2026, 11, 11)
    assert buyers({"from": "2026-11-11", "to": "2026-11-11"}, eleventh) == 1
    assert buyers({"from": "2026-11-10", "to": "2026-11-10"}, eleventh) == 1  # the 23:30 one
    assert buyers({"days": 1}, eleventh) == 1
    assert buyers({"days": 2}, eleventh) == 2
    # on 10 November (local) the 00:30 purchase has not happened yet
    assert buyers({"days": 1}, date(2026, 11, 10)) == 1
    recent = {"type": "recency", "bucket": "0_30"}
    answer = client.post(
        f"{API}/estimate",
        headers=org.auth(),
        json={"rules": {"all": [recent]}, "as_of": "2026-12-10"},
    )
    # 29 local days after 11 November; 30 after 10 November (the 30_60 bucket)
    assert answer.json()["size"] == 1
    assert time(16, 30) == at.time()


def test_a_category_matches_the_paths_under_it_and_the_lower_case_top() -> None:
    """Touchpoints carry the product's path ("Tea/Green"), order lines the top in lower case."""
    pattern = re.compile(property_pattern("category", ["Tea"], subtree=True))
    found = [
        bool(pattern.search(json.dumps({"category": value})))
        for value in ("Tea", "Tea/Green", "tea", "Teapot", "Coffee/Tea")
    ]
    assert found == [True, True, True, False, False]
    exact = re.compile(property_pattern("product_id", ["p-1"]))
    assert [bool(exact.search(json.dumps({"product_id": v}))) for v in ("p-1", "p-1/x")] == [
        True,
        False,
    ]
