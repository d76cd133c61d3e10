"""How much one request may ask for (core/limits.py): spans of days and page sizes refused
with a 422 naming the field, in English and Chinese; the OpenAPI document says the limits and
links each create to the read, update and delete of what it made."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from newretail.bootstrap import Container
from newretail.core.limits import RangeTooLong, check_span, check_weeks, span_days
from tests.conftest import Org

DAY = date(2026, 6, 1)
ZH = {"Accept-Language": "zh-CN"}


def test_a_span_counts_both_ends() -> None:
    assert span_days(DAY, DAY) == 1
    assert span_days(DAY, DAY + timedelta(days=365)) == 366
    check_span(DAY, DAY + timedelta(days=365), 366, field="to")
    with pytest.raises(RangeTooLong) as refused:
        check_span(DAY, DAY + timedelta(days=366), 366, field="to")
    assert (refused.value.field, refused.value.values) == ("to", {"days": 367, "most": 366})
    assert refused.value.message == "367 days asked for; one request covers at most 366 days"
    check_weeks(52, 366, field="weeks")
    with pytest.raises(RangeTooLong):
        check_weeks(53, 366, field="weeks")


def _get(client: TestClient, org: Org, path: str, **params: Any) -> Any:
    return client.get(path, params=params, headers=org.auth())


def test_data_bank_spans_are_capped(client: TestClient, org: Org) -> None:
    long = {"from": "2025-01-01", "to": "2026-01-02"}  # 367 days
    for path in ("/api/v1/databank/flows", "/api/v1/databank/trends"):
        refused = _get(client, org, path, **long)
        assert refused.status_code == 422, refused.text
        assert refused.json() == {
            "code": "range_too_long",
            "message": "367 days asked for; one request covers at most 366 days",
            "field": "to",
        }
    chinese = client.get("/api/v1/databank/flows", params=long, headers={**org.auth(), **ZH})
    assert chinese.json()["message"] == "请求了 367 天；一次请求最多涵盖 366 天"
    year = _get(
        client, org, "/api/v1/databank/trends", **{"from": "2025-01-01", "to": "2026-01-01"}
    )
    assert year.status_code == 200 and year.json() == []

    weeks = _get(client, org, "/api/v1/databank/fast", end="2026-06-01", weeks=53)
    assert weeks.status_code == 422 and weeks.json()["field"] == "query.weeks"


def test_the_span_is_a_setting(client: TestClient, org: Org, container: Container) -> None:
    container.settings.max_range_days = 28
    fast = _get(client, org, "/api/v1/databank/fast", end="2026-06-01", weeks=5)
    assert fast.status_code == 422
    assert fast.json() == {
        "code": "range_too_long",
        "message": "35 days asked for; one request covers at most 28 days",
        "field": "weeks",
    }
    four = _get(client, org, "/api/v1/databank/fast", end="2026-06-01", weeks=4)
    assert four.status_code == 200, four.text


def test_a_synchronous_snapshot_run_is_two_weeks_at_most(client: TestClient, org: Org) -> None:
    body = {"date": "2026-05-01", "end": "2026-05-15"}  # 15 days: a backfill job's work
    refused = client.post("/api/v1/databank/snapshots", json=body, headers=org.auth())
    assert refused.status_code == 422
    assert refused.json()["field"] == "end" and refused.json()["code"] == "range_too_long"
    body["end"] = "2026-05-14"
    made = client.post("/api/v1/databank/snapshots", json=body, headers=org.auth())
    assert made.status_code == 201, made.text
    assert [run["date"] for run in made.json()] == [
        (date(2026, 5, 1) + timedelta(days=n)).isoformat() for n in range(14)
    ]


def _parameter(document: dict[str, Any], path: str, name: str) -> dict[str, Any]:
    [found] = [p for p in document["paths"][path]["get"]["parameters"] if p["name"] == name]
    return dict(found["schema"])


def test_the_document_says_the_limits_and_links(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert _parameter(document, "/api/v1/databank/fast", "weeks")["maximum"] == 52
    assert _parameter(document, "/api/v1/brands", "limit")["maximum"] == 500
    assert _parameter(document, "/api/v1/stock-levels/low", "offset")["maximum"] == 1_000_000
    assert _parameter(document, "/api/v1/audiences/{audience_id}/members", "limit") == {
        "type": "integer",
        "maximum": 10000,
        "minimum": 1,
        "description": "Page size (1–10,000)",
        "default": 1000,
        "title": "Limit",
    }
    assert _parameter(document, "/api/v1/diagnosis/funnels", "window_days")["maximum"] == 30

    created = document["paths"]["/api/v1/brands"]["post"]["responses"]["201"]["links"]
    assert {name: link["parameters"] for name, link in created.items()} == {
        "read": {"brand_id": "$response.body#/id"},
        "update": {"brand_id": "$response.body#/id"},
        "delete": {"brand_id": "$response.body#/id"},
    }
    assert (
        created["read"]["operationId"]
        == (document["paths"]["/api/v1/brands/{brand_id}"]["get"]["operationId"])
    )
    updated = document["paths"]["/api/v1/brands/{brand_id}"]["patch"]["responses"]["200"]
    assert {name: link["parameters"] for name, link in updated["links"].items()} == {
        "read": {"brand_id": "$request.path.brand_id"},
        "delete": {"brand_id": "$request.path.brand_id"},
    }
    offers = document["paths"]["/api/v1/marketing/offers"]["post"]["responses"]["201"]["links"]
    assert {name: link["parameters"] for name, link in offers.items()} == {
        "read": {"code": "$response.body#/code"},
        "replace": {"code": "$response.body#/code"},
    }
    refunds = document["paths"]["/api/v1/orders/{order_id}/refunds"]["post"]["responses"]["201"]
    assert refunds["links"]["read"]["parameters"] == {
        "order_id": "$request.path.order_id",
        "refund_id": "$response.body#/id",
    }
