"""CRUD of brands, stores, sources, users and API keys through the API, on both stores."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from newretail.bootstrap import Container
from newretail.core.database import scope_session
from newretail.tenancy.models import ApiKey, Source
from tests.conftest import PASSWORD, Org


def test_brand_lifecycle(client: TestClient, org: Org) -> None:
    h = org.auth()
    created = client.post("/api/v1/brands", headers=h, json={"code": "tea", "name": "Bamboo Tea"})
    assert created.status_code == 201
    brand = created.json()
    assert (brand["code"], brand["name"], brand["updated_at"]) == ("tea", "Bamboo Tea", None)
    renamed = client.patch(f"/api/v1/brands/{brand['id']}", headers=h, json={"name": "Bamboo"})
    assert renamed.json()["name"] == "Bamboo" and renamed.json()["updated_at"] is not None
    listed = client.get("/api/v1/brands?q=bamb", headers=h).json()
    assert [b["code"] for b in listed["items"]] == ["tea"] and listed["next_cursor"] is None
    assert client.delete(f"/api/v1/brands/{brand['id']}", headers=h).status_code == 204
    assert client.get(f"/api/v1/brands/{brand['id']}", headers=h).status_code == 404


def test_store_of_every_channel_with_all_fields(client: TestClient, org: Org) -> None:
    h = org.auth()
    body = {
        "code": "SH-POP-9",
        "name": "Pop-up",
        "channel_type": "popup",
        "brand_id": str(org.brand_id),
        "city": "Shanghai",
        "district": "Lujiazui",
        "address": "1 Century Ave",
        "latitude": 31.238,
        "longitude": 121.502,
        "category": "beauty",
        "opening_hours": {"sat": [["10:00", "14:00"], ["15:00", "22:00"]]},
        "time_zone": "Asia/Shanghai",
    }
    created = client.post("/api/v1/stores", headers=h, json=body)
    assert created.status_code == 201, created.text
    store = created.json()
    for key, value in body.items():
        expected = (
            {"sat": [["10:00", "14:00"], ["15:00", "22:00"]]} if key == "opening_hours" else value
        )
        assert store[key] == expected, key
    assert store["status"] == "active"
    for channel in ("online", "store", "counter", "cloud_shelf", "vending", "warehouse"):
        response = client.post(
            "/api/v1/stores",
            headers=h,
            json={"code": f"C-{channel}", "name": channel, "channel_type": channel},
        )
        assert response.status_code == 201, channel
    vending = client.get("/api/v1/stores?channel_type=vending", headers=h).json()["items"]
    assert [s["code"] for s in vending] == ["C-vending"]
    shanghai = client.get("/api/v1/stores?city=Shanghai", headers=h).json()["items"]
    assert [s["code"] for s in shanghai] == ["S0", "SH-POP-9"]
    closed = client.patch(f"/api/v1/stores/{store['id']}", headers=h, json={"status": "closed"})
    assert closed.json()["status"] == "closed"
    assert [
        s["code"] for s in client.get("/api/v1/stores?status=closed", headers=h).json()["items"]
    ] == ["SH-POP-9"]
    half = client.patch(f"/api/v1/stores/{store['id']}", headers=h, json={"latitude": None})
    assert (half.status_code, half.json()["field"]) == (422, "latitude")


def test_pagination_walks_every_row_once(client: TestClient, org: Org) -> None:
    h = org.auth()
    for i in range(7):
        client.post(
            "/api/v1/stores",
            headers=h,
            json={"code": f"P{i}", "name": f"p{i}", "channel_type": "store"},
        )
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 3, "q": "P"} | ({"cursor": cursor} if cursor else {})
        page = client.get("/api/v1/stores", headers=h, params=params).json()
        seen += [s["code"] for s in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"P{i}" for i in range(7)] and pages == 3


def test_source_write_key_is_shown_once_and_hashed(
    client: TestClient, org: Org, container: Container
) -> None:
    h = org.auth()
    created = client.post(
        "/api/v1/sources",
        headers=h,
        json={"name": "Vending SH-1", "store_id": str(org.store_ids[1])},
    )
    assert created.status_code == 201
    key = created.json()["write_key"]
    assert key.startswith("nr_wk_") and len(key) == 49
    source_id = created.json()["id"]
    assert "write_key" not in client.get(f"/api/v1/sources/{source_id}", headers=h).json()
    with container.sessions() as session:
        scope_session(session, org.id)
        stored = session.scalars(select(Source.write_key_hash)).all()
    assert key not in stored and len(stored) == 2
    revoked = client.patch(f"/api/v1/sources/{source_id}", headers=h, json={"revoked": True})
    assert revoked.json()["revoked_at"] is not None
    assert (
        client.get("/api/v1/stores", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    )


def test_users_roles_and_last_owner(client: TestClient, org: Org) -> None:
    h = org.auth()
    created = client.post(
        "/api/v1/users",
        headers=h,
        json={
            "email": "Ana@Example.com",
            "password": PASSWORD,
            "role": "marketer",
            "display_name": "Ana",
        },
    )
    assert created.status_code == 201, created.text
    user = created.json()
    assert (user["email"], user["role"], user["store_ids"], user["is_active"]) == (
        "ana@example.com",
        "marketer",
        [],
        True,
    )
    duplicate = client.post(
        "/api/v1/users",
        headers=h,
        json={"email": "ana@example.com", "password": PASSWORD, "role": "analyst"},
    )
    assert (duplicate.status_code, duplicate.json()["field"]) == (409, "email")
    short = client.post(
        "/api/v1/users",
        headers=h,
        json={"email": "b@example.com", "password": "short", "role": "analyst"},
    )
    assert (short.status_code, short.json()["field"]) == (422, "body.password")
    no_store = client.post(
        "/api/v1/users",
        headers=h,
        json={"email": "c@example.com", "password": PASSWORD, "role": "store_manager"},
    )
    assert (no_store.status_code, no_store.json()["field"]) == (422, "store_ids")
    promoted = client.patch(f"/api/v1/users/{user['id']}", headers=h, json={"role": "admin"})
    assert promoted.json()["role"] == "admin"
    emails = [u["email"] for u in client.get("/api/v1/users", headers=h).json()["items"]]
    assert emails == [org.owner_email, "ana@example.com"]
    last_owner = client.delete(f"/api/v1/users/{org.ids['user_id']}", headers=h)
    assert (last_owner.status_code, last_owner.json()["code"]) == (409, "conflict")
    assert client.delete(f"/api/v1/users/{user['id']}", headers=h).status_code == 204
    assert client.get(f"/api/v1/users/{user['id']}", headers=h).status_code == 404


def test_api_keys_hashed_revocable_with_last_use(
    client: TestClient, org: Org, container: Container
) -> None:
    h = org.auth()
    created = client.post(
        "/api/v1/api-keys", headers=h, json={"name": "bi tool", "role": "analyst"}
    )
    assert created.status_code == 201
    secret = created.json()["key"]
    key_id = created.json()["id"]
    assert created.json()["last_used_at"] is None and created.json()["key_prefix"] == secret[:15]
    assert (
        client.get("/api/v1/stores", headers={"Authorization": f"Bearer {secret}"}).status_code
        == 200
    )
    read = client.get(f"/api/v1/api-keys/{key_id}", headers=h).json()
    assert read["last_used_at"] is not None and "key" not in read
    with container.sessions() as session:
        scope_session(session, org.id)
        hashes = session.scalars(select(ApiKey.key_hash)).all()
    assert secret not in hashes and org.owner_key not in hashes
    assert client.delete(f"/api/v1/api-keys/{key_id}", headers=h).status_code == 204
    denied = client.get("/api/v1/stores", headers={"Authorization": f"Bearer {secret}"})
    assert (denied.status_code, denied.json()["message"]) == (401, "unknown or revoked API key")
    assert client.get(f"/api/v1/api-keys/{key_id}", headers=h).json()["revoked_at"] is not None


def test_expired_keys_and_past_expiry_are_refused(client: TestClient, org: Org) -> None:
    past = client.post(
        "/api/v1/api-keys",
        headers=org.auth(),
        json={"name": "old", "role": "analyst", "expires_at": "2020-01-01T00:00:00Z"},
    )
    assert (past.status_code, past.json()["field"]) == (422, "expires_at")


def test_organization_endpoint(client: TestClient, org: Org) -> None:
    body = client.get("/api/v1/organization", headers=org.auth()).json()
    assert (body["id"], body["slug"], body["time_zone"]) == (str(org.id), org.slug, "Asia/Shanghai")
