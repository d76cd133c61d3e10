"""Nothing crosses an organisation's boundary: every route, every kind of credential."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from newretail.bootstrap import Container
from newretail.core.database import UnscopedQuery, scope_session
from newretail.tenancy.models import Store
from tests.conftest import Org, console_login
from tests.routes import Endpoint, protected, sample_body


def _request(client: TestClient, endpoint: Endpoint, victim: Org, **kwargs: object):  # type: ignore[no-untyped-def]
    url = endpoint.url(victim.ids)
    model = endpoint.body_model
    if model is not None and endpoint.is_api:
        kwargs.setdefault("json", sample_body(model, victim.ids))
    return client.request(endpoint.method, url, follow_redirects=False, **kwargs)  # type: ignore[arg-type]


def _csrf(client: TestClient) -> str:
    page = client.get("/console/stores")
    return page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def test_other_organisations_api_key_never_reaches_objects(
    client: TestClient, org: Org, other_org: Org
) -> None:
    """Every API route with an object in its path answers 404 (or 403) to another org's key."""
    checked = 0
    for endpoint in protected(client.app):  # type: ignore[arg-type]
        if not endpoint.is_api or not endpoint.has_path_params:
            continue
        response = _request(client, endpoint, org, headers=other_org.auth())
        assert response.status_code in (403, 404), (
            f"{endpoint}: {response.status_code} {response.text}"
        )
        checked += 1
    assert checked >= 15  # brands, stores, sources, users, api-keys × read/update/delete


def test_other_organisations_lists_never_show_objects(
    client: TestClient, org: Org, other_org: Org
) -> None:
    """No GET route answers another org's key with any of this org's ids or names."""
    secrets_of_org = [str(v) for v in org.ids.values()] + [org.slug, org.owner_email]
    for endpoint in protected(client.app):  # type: ignore[arg-type]
        if endpoint.method != "GET":
            continue
        response = _request(client, endpoint, org, headers=other_org.auth())
        for value in secrets_of_org:
            assert value not in response.text, f"{endpoint} leaked {value}"


def test_other_organisations_console_session_never_reaches_objects(
    client: TestClient, org: Org, other_org: Org
) -> None:
    console_login(client, other_org.owner_email)
    csrf = _csrf(client)
    checked = 0
    for endpoint in protected(client.app):  # type: ignore[arg-type]
        if not endpoint.is_console or not endpoint.has_path_params:
            continue
        data = {"csrf_token": csrf, "name": "stolen"} if endpoint.method == "POST" else None
        response = _request(client, endpoint, org, data=data)
        assert response.status_code in (403, 404), f"{endpoint}: {response.status_code}"
        checked += 1
    assert checked >= 2
    assert org.slug not in client.get("/console/stores").text


def test_other_organisations_write_key_reaches_nothing_but_ingestion(
    client: TestClient, org: Org, other_org: Org
) -> None:
    for endpoint in protected(client.app):  # type: ignore[arg-type]
        if endpoint.is_console:
            continue
        response = _request(client, endpoint, org, headers=other_org.auth(other_org.write_key))
        assert response.status_code in (401, 403), f"{endpoint}: {response.status_code}"


def test_references_to_another_organisations_objects_are_refused(
    client: TestClient, org: Org, other_org: Org
) -> None:
    headers = other_org.auth()
    store = client.post(
        "/api/v1/stores",
        headers=headers,
        json={"code": "X1", "name": "x", "channel_type": "store", "brand_id": str(org.brand_id)},
    )
    assert (store.status_code, store.json()["field"]) == (422, "brand_id")
    source = client.post(
        "/api/v1/sources", headers=headers, json={"name": "x", "store_id": str(org.store_ids[0])}
    )
    assert (source.status_code, source.json()["field"]) == (422, "store_ids")
    key = client.post(
        "/api/v1/api-keys",
        headers=headers,
        json={"name": "x", "role": "store_manager", "store_ids": [str(org.store_ids[0])]},
    )
    assert (key.status_code, key.json()["field"]) == (422, "store_ids")
    user = client.post(
        "/api/v1/users",
        headers=headers,
        json={
            "email": "x@example.com",
            "password": "long enough pw",
            "role": "store_manager",
            "store_ids": [str(org.store_ids[1])],
        },
    )
    assert (user.status_code, user.json()["field"]) == (422, "store_ids")


def test_organisation_filter_is_applied_to_every_orm_query(
    container: Container, org: Org, other_org: Org
) -> None:
    session = scope_session(container.sessions(), other_org.id)
    try:
        assert session.get(Store, org.store_ids[0]) is None
        assert {s.id for s in session.query(Store)} == set(other_org.store_ids)
    finally:
        session.close()
    unscoped = container.sessions()
    try:
        with pytest.raises(UnscopedQuery):
            unscoped.query(Store).all()
    finally:
        unscoped.close()


def test_unknown_ids_answer_404_with_the_field(client: TestClient, org: Org) -> None:
    response = client.get(f"/api/v1/stores/{uuid.uuid4()}", headers=org.auth())
    assert response.status_code == 404
    assert response.json() == {
        "code": "not_found",
        "message": "store not found",
        "field": "store_id",
    }
