"""What the API fuzz (tests/test_api_fuzz.py) found, kept as plain requests: each answered
500 before its fix and now answers a 4xx in the problem style, naming the field."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import Org
from tests.marketing.test_campaign_api import THRESHOLD, plan


def _problem(response, status: int, code: str, field: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    body = response.json()
    assert (body["code"], body["field"]) == (code, field), body


def _campaign(client: TestClient, org: Org) -> None:
    """A campaign of the org's brand with a store budget at its first store (both rows
    refer to the brand and the store without cascading)."""
    offer = client.post("/api/v1/marketing/offers", headers=org.auth(), json=THRESHOLD)
    assert offer.status_code == 201, offer.text
    campaign = client.post("/api/v1/marketing/campaigns", headers=org.auth(), json=plan(org))
    assert campaign.status_code == 201, campaign.text


def test_deleting_a_brand_that_a_campaign_runs_for_is_a_conflict(
    client: TestClient, org: Org
) -> None:
    _campaign(client, org)
    response = client.delete(f"/api/v1/brands/{org.brand_id}", headers=org.auth())
    _problem(response, 409, "conflict", "brand_id")
    assert client.get(f"/api/v1/brands/{org.brand_id}", headers=org.auth()).status_code == 200


def test_deleting_a_brand_nothing_holds_on_to_still_works(client: TestClient, org: Org) -> None:
    created = client.post("/api/v1/brands", headers=org.auth(), json={"code": "b2", "name": "B2"})
    assert created.status_code == 201, created.text
    brand_id = created.json()["id"]
    assert client.delete(f"/api/v1/brands/{brand_id}", headers=org.auth()).status_code == 204
    # a brand with stores only: the stores stay, without a brand
    response = client.delete(f"/api/v1/brands/{org.brand_id}", headers=org.auth())
    assert response.status_code == 204, response.text
    store = client.get(f"/api/v1/stores/{org.store_ids[0]}", headers=org.auth()).json()
    assert store["brand_id"] is None


def test_deleting_a_store_with_a_campaign_budget_is_a_conflict(
    client: TestClient, org: Org
) -> None:
    _campaign(client, org)
    response = client.delete(f"/api/v1/stores/{org.store_ids[0]}", headers=org.auth())
    _problem(response, 409, "conflict", "store_id")
    assert client.get(f"/api/v1/stores/{org.store_ids[0]}", headers=org.auth()).status_code == 200


def test_a_huge_offset_on_the_low_stock_list_is_refused(client: TestClient, org: Org) -> None:
    response = client.get(
        "/api/v1/stock-levels/low?offset=99999999999999999999", headers=org.auth()
    )
    _problem(response, 422, "invalid_input", "query.offset")
    assert client.get("/api/v1/stock-levels/low?offset=1000000", headers=org.auth()).json() == []


def test_data_bank_days_outside_the_calendar_are_refused(client: TestClient, org: Org) -> None:
    response = client.get(
        "/api/v1/databank/flows?from=0001-01-02&to=9999-12-30", headers=org.auth()
    )
    _problem(response, 422, "invalid_input", "query.from")
    response = client.get("/api/v1/databank/fast?end=1999-12-31", headers=org.auth())
    _problem(response, 422, "invalid_input", "query.end")
    response = client.post(
        "/api/v1/databank/snapshots", headers=org.auth(), json={"date": "2100-01-01"}
    )
    _problem(response, 422, "invalid_input", "body.date")


def test_a_points_adjustment_past_a_billion_is_refused(client: TestClient, org: Org) -> None:
    member = client.post(
        "/api/v1/members", headers=org.auth(), json={"name": "Li Na", "phone": "13800138001"}
    )
    assert member.status_code == 201, member.text
    response = client.post(
        f"/api/v1/members/{member.json()['id']}/points/adjustments",
        headers=org.auth(),
        json={"points": 9223372036854775808, "reason": "0"},
    )
    _problem(response, 422, "invalid_input", "body.points")
    response = client.post(
        f"/api/v1/members/{member.json()['id']}/points/redemptions",
        headers=org.auth(),
        json={"points": 1_000_000_001},
    )
    _problem(response, 422, "invalid_input", "body.points")


def test_patch_fields_that_cannot_be_cleared_show_no_null_in_the_schema(
    client: TestClient, org: Org
) -> None:
    spec = client.get("/openapi.json").json()["components"]["schemas"]
    settings = spec["newretail__members__schemas__SettingsUpdate"]
    assert settings["properties"]["expiry_days"]["type"] == "integer"
    assert spec["StoreUpdate"]["properties"]["name"]["type"] == "string"
    assert "null" in str(spec["StoreUpdate"]["properties"]["city"])  # a city can be cleared
    # the fuzz's request: null was schema-valid, then refused
    response = client.patch(
        "/api/v1/member-settings", headers=org.auth(), json={"expiry_days": None}
    )
    _problem(response, 422, "invalid_input", "expiry_days")


def test_a_data_bank_event_type_that_is_not_a_type_name_is_refused(
    client: TestClient, org: Org
) -> None:
    """A NUL in a stage's event type was stored, then broke every snapshot and stage count
    (the warehouse's SQL parser refused it: 500)."""
    settings = client.get("/api/v1/databank/settings", headers=org.auth()).json()
    response = client.put(
        "/api/v1/databank/settings",
        headers=org.auth(),
        json={**settings, "interest_events": ["store_visit", "a\x00b"]},
    )
    _problem(response, 422, "invalid_input", "body.interest_events.1")
    assert client.get("/api/v1/databank/settings", headers=org.auth()).json() == settings
    custom = {**settings, "interest_events": ["store_visit", "kiosk_tap"]}
    accepted = client.put("/api/v1/databank/settings", headers=org.auth(), json=custom)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["interest_events"] == ["store_visit", "kiosk_tap"]
