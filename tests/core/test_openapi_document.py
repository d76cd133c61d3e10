"""The OpenAPI document says what the API accepts and answers (the fuzz holds it to that)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from newretail.core.openapi import DECIMAL_TEXT, UNSIGNED_DECIMAL_TEXT
from tests.conftest import ON_SQLITE, Org


@ON_SQLITE
def test_422_is_documented_as_the_problem_body(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    problem = spec["components"]["schemas"]["HTTPValidationError"]
    assert problem["required"] == ["code", "message", "field"]
    assert "ValidationError" not in spec["components"]["schemas"]


@ON_SQLITE
def test_decimal_text_is_documented_as_a_decimal(client: TestClient, org: Org) -> None:
    spec = client.get("/openapi.json").json()
    min_spend = spec["components"]["schemas"]["TierCreate"]["properties"]["min_spend"]
    assert min_spend["anyOf"] == [
        {"type": "number", "minimum": 0.0},
        {"type": "string", "pattern": UNSIGNED_DECIMAL_TEXT},
    ]
    assert [bool(re.match(DECIMAL_TEXT, t)) for t in ("12.50", "-3", "1e2", "", "NaN")] == [
        True,
        True,
        True,
        False,
        False,
    ]
    # the fuzz's example: "" was schema-valid, then refused
    response = client.post(
        "/api/v1/tiers", headers=org.auth(), json={"name": "Gold", "min_spend": ""}
    )
    assert response.status_code == 422
    assert response.json()["field"] == "body.min_spend"
