"""Bad input always gets a 4xx naming the field and the reason, never a 500."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from tests.conftest import Org
from tests.routes import protected, sample_body


def _json_endpoints(client: TestClient):  # type: ignore[no-untyped-def]
    return [
        e
        for e in protected(client.app)  # type: ignore[arg-type]
        if e.is_api and e.body_model is not None
    ]


def test_malformed_json_is_400_on_every_json_route(client: TestClient, org: Org) -> None:
    endpoints = _json_endpoints(client)
    assert len(endpoints) >= 10
    for endpoint in endpoints:
        response = client.request(
            endpoint.method,
            endpoint.url(org.ids),
            headers={**org.auth(), "Content-Type": "application/json"},
            content=b'{"name": ',
        )
        assert response.status_code == 400, f"{endpoint}: {response.status_code}"
        body = response.json()
        assert (body["code"], body["field"]) == ("malformed_json", "body"), endpoint


def test_unknown_fields_are_refused_on_every_json_route(client: TestClient, org: Org) -> None:
    for endpoint in _json_endpoints(client):
        body = sample_body(endpoint.body_model, org.ids)  # type: ignore[arg-type]
        body["surprise_field"] = 1
        response = client.request(
            endpoint.method, endpoint.url(org.ids), headers=org.auth(), json=body
        )
        assert response.status_code == 422, f"{endpoint}: {response.status_code}"
        assert response.json()["field"] == "body.surprise_field", endpoint
        assert response.json()["errors"][0]["reason"] == "Extra inputs are not permitted"


def test_wrong_types_name_the_field(client: TestClient, org: Org) -> None:
    response = client.post(
        "/api/v1/stores",
        headers=org.auth(),
        json={"code": "OK1", "name": "n", "channel_type": "store", "latitude": "north"},
    )
    assert response.status_code == 422
    assert response.json()["field"] == "body.latitude"
    not_object = client.post("/api/v1/brands", headers=org.auth(), json=["a"])
    assert (not_object.status_code, not_object.json()["field"]) == (422, "body")
    bad_hours = client.post(
        "/api/v1/stores",
        headers=org.auth(),
        json={
            "code": "OK2",
            "name": "n",
            "channel_type": "store",
            "opening_hours": {"mon": [["22:00", "09:00"]]},
        },
    )
    assert bad_hours.status_code == 422
    assert bad_hours.json()["field"] == "body.opening_hours"
    assert "opens at 22:00 but closes at 09:00" in bad_hours.json()["message"]
    bad_zone = client.patch(
        f"/api/v1/stores/{org.store_ids[0]}", headers=org.auth(), json={"time_zone": "Mars/Base"}
    )
    assert (bad_zone.status_code, bad_zone.json()["field"]) == (422, "body.time_zone")
    bad_limit = client.get("/api/v1/stores?limit=0", headers=org.auth())
    assert (bad_limit.status_code, bad_limit.json()["field"]) == (422, "query.limit")
    bad_cursor = client.get("/api/v1/stores?cursor=%%%", headers=org.auth())
    assert (bad_cursor.status_code, bad_cursor.json()["field"]) == (422, "query.cursor")
    bad_id = client.get("/api/v1/stores/not-a-uuid", headers=org.auth())
    assert (bad_id.status_code, bad_id.json()["field"]) == (422, "path.store_id")


def test_bodies_over_the_limit_are_413_declared_or_streamed(client: TestClient, org: Org) -> None:
    big = json.dumps({"code": "BIG", "name": "x" * (1024 * 1024), "channel_type": "store"})
    declared = client.post(
        "/api/v1/stores", headers={**org.auth(), "Content-Type": "application/json"}, content=big
    )
    assert declared.status_code == 413
    assert declared.json() == {
        "code": "body_too_large",
        "message": "the body is over 1048576 bytes",
        "field": "body",
    }

    def chunks():  # type: ignore[no-untyped-def]
        for start in range(0, len(big), 65536):
            yield big[start : start + 65536].encode()

    streamed = client.post(
        "/api/v1/stores",
        headers={**org.auth(), "Content-Type": "application/json"},
        content=chunks(),
    )
    assert (streamed.status_code, streamed.json()["code"]) == (413, "body_too_large")
    listed = client.get("/api/v1/stores?q=BIG", headers=org.auth()).json()["items"]
    assert listed == []


def test_conflicts_are_409_with_the_field(client: TestClient, org: Org) -> None:
    response = client.post(
        "/api/v1/stores",
        headers=org.auth(),
        json={"code": "S0", "name": "dup", "channel_type": "store"},
    )
    assert response.status_code == 409
    assert response.json() == {
        "code": "conflict",
        "message": "a store with code 'S0' exists",
        "field": "code",
    }


def test_unknown_routes_and_methods_answer_json(client: TestClient, org: Org) -> None:
    missing = client.get("/api/v1/nowhere", headers=org.auth())
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
    wrong = client.put("/api/v1/stores", headers=org.auth())
    assert (wrong.status_code, wrong.json()["code"]) == (405, "method_not_allowed")
