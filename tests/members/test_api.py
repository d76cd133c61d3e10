"""The members API end to end through the ASGI client."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from fastapi.testclient import TestClient

from newretail.bootstrap import Container
from newretail.members import points, schemas
from newretail.tenancy.models import Role
from tests.conftest import Org, api_key_for
from tests.members.conftest import org_session


def test_members_api_end_to_end(client: TestClient, container: Container, org: Org) -> None:
    auth = org.auth()
    tier = client.post("/api/v1/tiers", headers=auth, json={"name": "Member", "min_spend": "0"})
    assert tier.status_code == 201, tier.text
    gold = client.post("/api/v1/tiers", headers=auth, json={"name": "Gold", "min_spend": "5000"})
    assert gold.status_code == 201
    rule = client.post(
        "/api/v1/earn-rules",
        headers=auth,
        json={
            "brand_id": str(org.brand_id),
            "points_per_unit": "2",
            "category_multipliers": {"skincare": "1.5"},
        },
    )
    assert rule.status_code == 201, rule.text
    rule_id = rule.json()["id"]
    patched = client.patch(
        f"/api/v1/earn-rules/{rule_id}", headers=auth, json={"points_per_unit": "1"}
    )
    assert Decimal(patched.json()["points_per_unit"]) == 1
    assert client.patch(
        "/api/v1/member-settings", headers=auth, json={"return_window_days": 0}
    ).json() == {"return_window_days": 0, "expiry_mode": "year_end", "expiry_days": 365}

    created = client.post(
        "/api/v1/members",
        headers=auth,
        json={
            "name": "Li Lei",
            "phone": "138 0013 8000",
            "city": "Shanghai",
            "join_store_id": str(org.store_ids[0]),
        },
    )
    assert created.status_code == 201, created.text
    member = created.json()
    member_id = member["id"]
    assert (member["phone"], member["join_channel"], member["points_available"]) == (
        "+8613800138000",
        "store",
        0,
    )
    assert member["tier_id"] == tier.json()["id"]

    unknown = client.post("/api/v1/members", headers=auth, json={"name": "X", "nickname": "x"})
    assert unknown.status_code == 422
    assert unknown.json()["code"] == "invalid_input"
    bad_phone = client.post("/api/v1/members", headers=auth, json={"phone": "12345"})
    assert (bad_phone.status_code, bad_phone.json()["code"], bad_phone.json()["field"]) == (
        422,
        "invalid_identifier",
        "phone",
    )
    taken = client.post("/api/v1/members", headers=auth, json={"phone": "+8613800138000"})
    assert (taken.status_code, taken.json()["code"]) == (409, "identifier_taken")

    found = client.get(
        "/api/v1/members/lookup", headers=auth, params={"type": "phone", "value": "13800138000"}
    )
    assert found.status_code == 200
    assert found.json()["id"] == member_id
    missing = client.get(
        "/api/v1/members/lookup", headers=auth, params={"type": "member_card", "value": "NOPE"}
    )
    assert missing.status_code == 404

    listed = client.get("/api/v1/members", headers=auth, params={"city": "Shanghai"}).json()
    assert [m["id"] for m in listed["items"]] == [member_id]
    assert (
        client.get("/api/v1/members", headers=auth, params={"q": "li l"}).json()["items"][0]["id"]
        == member_id
    )
    assert [
        m["id"]
        for m in client.get("/api/v1/members", headers=auth, params={"q": "138 0013 8000"}).json()[
            "items"
        ]
    ] == [member_id]
    assert (
        client.get("/api/v1/members", headers=auth, params={"tier": "Gold"}).json()["items"] == []
    )

    updated = client.patch(
        f"/api/v1/members/{member_id}", headers=auth, json={"city": "Hangzhou", "birth_year": 1990}
    )
    assert (updated.json()["city"], updated.json()["birth_year"]) == ("Hangzhou", 1990)

    consent = client.put(
        f"/api/v1/members/{member_id}/consent",
        headers=auth,
        json={"consents": [{"purpose": "marketing", "channel": "sms", "granted": True}]},
    )
    assert consent.status_code == 200, consent.text
    body = client.get(f"/api/v1/members/{member_id}/consent", headers=auth).json()
    assert [(c["channel"], c["granted"], c["source"]) for c in body["consents"]] == [
        ("sms", True, "api")
    ]
    key_prefix = org.owner_key[: len(body["history"][0]["actor"]) - len("api_key:")]
    assert [(h["channel"], h["granted"], h["source"], h["actor"]) for h in body["history"]] == [
        ("sms", True, "api", f"api_key:{key_prefix}")
    ]

    with org_session(container, org) as session:
        points.award_order_points(
            session,
            org.id,
            uuid.UUID(member_id),
            order_id=uuid.uuid4(),
            brand_id=org.brand_id,
            paid_at=datetime.now(UTC) - timedelta(minutes=1),  # year-end expiry: this year
            lines=[schemas.OrderLine(line_id="1", category="skincare", amount=Decimal("200"))],
        )
    balance = client.get(f"/api/v1/members/{member_id}/points", headers=auth).json()
    assert (balance["available"], balance["locked"]) == (300, 0)

    redeemed = client.post(
        f"/api/v1/members/{member_id}/points/redemptions",
        headers=auth,
        json={"points": 100, "reference": "order-42"},
    )
    assert redeemed.status_code == 201, redeemed.text
    again = client.post(
        f"/api/v1/members/{member_id}/points/redemptions",
        headers=auth,
        json={"points": 100, "reference": "order-42"},
    )
    assert again.json()["id"] == redeemed.json()["id"]
    short = client.post(
        f"/api/v1/members/{member_id}/points/redemptions", headers=auth, json={"points": 1000}
    )
    assert (short.status_code, short.json()["code"], short.json()["field"]) == (
        409,
        "insufficient_points",
        "points",
    )
    adjusted = client.post(
        f"/api/v1/members/{member_id}/points/adjustments",
        headers=auth,
        json={"points": 50, "reason": "service recovery"},
    )
    assert adjusted.json()["available_after"] == 250

    first = client.get(
        f"/api/v1/members/{member_id}/points/ledger", headers=auth, params={"limit": 2}
    ).json()
    assert [e["kind"] for e in first["items"]] == ["earn", "redeem"]
    second = client.get(
        f"/api/v1/members/{member_id}/points/ledger",
        headers=auth,
        params={"limit": 2, "cursor": first["next_cursor"]},
    ).json()
    assert [e["kind"] for e in second["items"]] == ["adjust"]
    assert second["next_cursor"] is None

    analyst = {"Authorization": f"Bearer {api_key_for(client, org, Role.ANALYST)}"}
    assert client.get(f"/api/v1/members/{member_id}", headers=analyst).status_code == 200
    assert (
        client.patch(
            f"/api/v1/members/{member_id}", headers=analyst, json={"city": "X"}
        ).status_code
        == 403
    )

    assert client.delete(f"/api/v1/members/{member_id}", headers=auth).status_code == 204
    assert client.get(f"/api/v1/members/{member_id}", headers=auth).status_code == 404
    assert client.delete(f"/api/v1/earn-rules/{rule_id}", headers=auth).status_code == 204
    assert client.delete(f"/api/v1/tiers/{gold.json()['id']}", headers=auth).status_code == 204
    assert [t["name"] for t in client.get("/api/v1/tiers", headers=auth).json()] == ["Member"]


def test_other_organisations_cannot_read_members(
    client: TestClient, org: Org, other_org: Org
) -> None:
    created = client.post("/api/v1/members", headers=org.auth(), json={"phone": "13800138000"})
    member_id = created.json()["id"]
    assert client.get(f"/api/v1/members/{member_id}", headers=other_org.auth()).status_code == 404
    lookup = client.get(
        "/api/v1/members/lookup",
        headers=other_org.auth(),
        params={"type": "phone", "value": "13800138000"},
    )
    assert lookup.status_code == 404
