"""Roles: analysts only read, store managers only see their stores, write keys only ingest."""

from __future__ import annotations

from fastapi.testclient import TestClient

from newretail.tenancy.models import Role
from tests.conftest import PASSWORD, Org, api_key_for, console_login
from tests.routes import WRITE_METHODS, protected, sample_body


def test_analyst_cannot_write_through_any_api_route(client: TestClient, org: Org) -> None:
    key = api_key_for(client, org, Role.ANALYST)
    checked = 0
    for endpoint in protected(client.app):  # type: ignore[arg-type]
        if not endpoint.is_api or endpoint.method not in WRITE_METHODS:
            continue
        model = endpoint.body_model
        body = sample_body(model, org.ids) if model else None
        response = client.request(
            endpoint.method, endpoint.url(org.ids), headers=org.auth(key), json=body
        )
        assert response.status_code == 403, f"{endpoint}: {response.status_code} {response.text}"
        assert response.json()["code"] == "forbidden"
        checked += 1
    assert checked >= 15
    stores = client.get("/api/v1/stores", headers=org.auth(key)).json()["items"]
    assert [(s["code"], s["name"]) for s in stores] == [("S0", "Store 0"), ("S1", "Store 1")]


def test_analyst_reads_everything_it_may(client: TestClient, org: Org) -> None:
    key = api_key_for(client, org, Role.ANALYST)
    for path in ("/api/v1/brands", "/api/v1/stores", "/api/v1/sources", "/api/v1/organization"):
        assert client.get(path, headers=org.auth(key)).status_code == 200, path
    for path in ("/api/v1/users", "/api/v1/api-keys"):
        assert client.get(path, headers=org.auth(key)).status_code == 403, path


def test_store_manager_sees_and_changes_only_its_stores(client: TestClient, org: Org) -> None:
    mine, theirs = org.store_ids
    key = api_key_for(client, org, Role.STORE_MANAGER, [mine])
    headers = org.auth(key)
    listed = client.get("/api/v1/stores", headers=headers).json()["items"]
    assert [s["id"] for s in listed] == [str(mine)]
    assert client.get(f"/api/v1/stores/{theirs}", headers=headers).status_code == 404
    blocked = client.patch(f"/api/v1/stores/{theirs}", headers=headers, json={"name": "taken"})
    assert blocked.status_code == 404
    assert client.delete(f"/api/v1/stores/{theirs}", headers=headers).status_code == 403
    changed = client.patch(f"/api/v1/stores/{mine}", headers=headers, json={"name": "Renamed"})
    assert (changed.status_code, changed.json()["name"]) == (200, "Renamed")
    assert client.delete(f"/api/v1/stores/{mine}", headers=headers).status_code == 403
    created = client.post(
        "/api/v1/stores",
        headers=headers,
        json={"code": "NEW", "name": "n", "channel_type": "store"},
    )
    assert created.status_code == 403
    owner_view = client.get(f"/api/v1/stores/{theirs}", headers=org.auth()).json()
    assert owner_view["name"] == "Store 1"
    sources = client.get("/api/v1/sources", headers=headers).json()["items"]
    assert [s["id"] for s in sources] == [str(org.source_id)]


def test_store_manager_console_is_limited_to_its_stores(client: TestClient, org: Org) -> None:
    mine, theirs = org.store_ids
    response = client.post(
        "/api/v1/users",
        headers=org.auth(),
        json={
            "email": "manager@example.com",
            "password": PASSWORD,
            "role": "store_manager",
            "store_ids": [str(mine)],
        },
    )
    assert response.status_code == 201, response.text
    console_login(client, "manager@example.com")
    page = client.get("/console/stores")
    assert "Store 0" in page.text and "Store 1" not in page.text
    assert client.get(f"/console/stores/{theirs}").status_code == 404
    assert client.get("/console/stores/new").status_code == 403


def test_write_key_reaches_only_ingestion_routes(client: TestClient, org: Org) -> None:
    checked = 0
    for endpoint in protected(client.app):  # type: ignore[arg-type]
        if endpoint.is_console:
            continue
        response = client.request(
            endpoint.method, endpoint.url(org.ids), headers=org.auth(org.write_key)
        )
        assert response.status_code == 403, f"{endpoint}: {response.status_code}"
        assert response.json() == {
            "code": "forbidden",
            "message": "write keys can only send events",
            "field": "authorization",
        }
        checked += 1
    assert checked >= 26


def test_roles_cannot_grant_more_than_they_have(client: TestClient, org: Org) -> None:
    admin = api_key_for(client, org, Role.ADMIN)
    owner_grant = client.post(
        "/api/v1/api-keys", headers=org.auth(admin), json={"name": "x", "role": "owner"}
    )
    assert (owner_grant.status_code, owner_grant.json()["field"]) == (403, "role")
    admin_grant = client.post(
        "/api/v1/api-keys", headers=org.auth(admin), json={"name": "x", "role": "analyst"}
    )
    assert admin_grant.status_code == 201


def test_missing_or_unknown_credentials_are_401(client: TestClient) -> None:
    missing = client.get("/api/v1/stores")
    assert (missing.status_code, missing.json()["code"]) == (401, "unauthenticated")
    unknown = client.get("/api/v1/stores", headers={"Authorization": "Bearer nr_key_nope"})
    assert (unknown.status_code, unknown.json()["field"]) == (401, "authorization")
