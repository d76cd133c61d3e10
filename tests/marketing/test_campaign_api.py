"""Offers, campaigns and stage coupons through the REST API, as an integrator calls them."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient

from newretail.tenancy.models import Role
from tests.conftest import Org, api_key_for
from tests.marketing.test_holdout import in_holdout

THRESHOLD = {
    "code": "D11-300-40",
    "name": "Double 11: spend 300 save 40",
    "benefit": {"kind": "threshold", "spend": "300.00", "save": "40.00", "repeat": True},
    "combination_class": "order",
}


def plan(org: Org, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Double 11",
        "brand_id": str(org.brand_id),
        "holdout_percent": 10,
        "stages": [
            {
                "name": "Pre-sale",
                "kind": "pre_sale",
                "first_day": "2027-10-20",
                "last_day": "2027-10-31",
                "offer_codes": ["D11-300-40"],
                "budget": {"issue_limit": 2},
            },
            {
                "name": "Main day",
                "kind": "main_day",
                "first_day": "2027-11-11",
                "last_day": "2027-11-11",
                "offer_codes": ["D11-300-40"],
                "budget": {"redeem_limit": 1000, "amount_limit": "40000.00"},
                "store_budgets": [{"store_id": str(org.store_ids[0]), "redeem_limit": 100}],
            },
            {
                "name": "30-day offline extension",
                "kind": "offline_extension",
                "first_day": "2027-11-12",
                "last_day": "2027-12-11",
                "channels": {"reach": "offline"},
                "offer_codes": ["D11-300-40"],
            },
        ],
    }
    body.update(changes)
    return body


def test_a_campaign_from_plan_to_coupons(client: TestClient, org: Org) -> None:
    created = client.post("/api/v1/marketing/offers", headers=org.auth(), json=THRESHOLD)
    assert created.status_code == 201, created.text
    assert created.json()["spec"]["benefit"] == {
        "kind": "threshold",
        "spend": "300.00",
        "save": "40.00",
        "repeat": True,
        "max_repeats": None,
    }
    response = client.post("/api/v1/marketing/campaigns", headers=org.auth(), json=plan(org))
    assert response.status_code == 201, response.text
    campaign = response.json()
    assert (campaign["state"], campaign["time_zone"], campaign["approved_by"]) == (
        "draft",
        "Asia/Shanghai",
        None,
    )
    main_day = campaign["stages"][1]
    assert [(b["store_name"], b["redeem_limit"]) for b in main_day["budgets"]] == [
        (None, 1000),
        ("Store 0", 100),
    ]
    assert main_day["offer_codes"] == ["D11-300-40"]
    url = f"/api/v1/marketing/campaigns/{campaign['id']}"
    # three members outside the campaign's 10% holdout; the budget of 2 takes the first two
    reached = (
        m for m in iter(uuid.uuid4, None) if not in_holdout(uuid.UUID(campaign["id"]), m, 10)
    )
    members = sorted(str(next(reached)) for _ in range(3))
    issue = {"offer_code": "D11-300-40", "member_ids": members}
    stage = f"{url}/stages/{campaign['stages'][0]['id']}/coupons"
    refused = client.post(stage, headers=org.auth(), json=issue)
    assert (refused.status_code, refused.json()["field"]) == (409, "state")  # a draft issues none

    marketer = {"Authorization": f"Bearer {api_key_for(client, org, Role.MARKETER)}"}
    approve = {"change": "approved"}
    assert client.post(f"{url}/state", headers=marketer, json=approve).status_code == 403
    approved = client.post(f"{url}/state", headers=org.auth(), json=approve)
    assert approved.status_code == 200, approved.text
    # the owner's key as every actor column names it: its kind and first characters
    owner_actor = "api_key:" + org.owner_key[: len("nr_key_") + 8]
    assert (approved.json()["state"], approved.json()["approved_by"]) == ("scheduled", owner_actor)
    assert client.put(url, headers=org.auth(), json=plan(org)).status_code == 409

    first = client.post(stage, headers=marketer, json=issue).json()
    refused = {
        "no_consent": 0,
        "held_out": 0,
        "refused_member_limit": 0,
        "refused": {"budget_spent": 1},
    }
    assert first == {"issued": 2, "already_held": 0, "refused_budget": 1, **refused}
    again = client.post(stage, headers=marketer, json=issue).json()
    assert again == {"issued": 0, "already_held": 2, "refused_budget": 1, **refused}
    held = client.get(
        "/api/v1/marketing/coupons",
        headers=org.auth(),
        params={"member_id": issue["member_ids"][0]},
    ).json()
    assert [
        (c["offer_name"], c["campaign_name"], c["stage_name"], c["state"], c["valid_from"])
        for c in held
    ] == [
        (
            "Double 11: spend 300 save 40",
            "Double 11",
            "Pre-sale",
            "issued",
            "2027-10-19T16:00:00Z",
        )
    ]
    assert held[0]["valid_until"] == "2027-10-31T16:00:00Z"  # 2027-11-01 00:00 in Shanghai

    for change, state in (("paused", "paused"), ("resumed", "scheduled"), ("ended", "ended")):
        moved = client.post(f"{url}/state", headers=marketer, json={"change": change})
        assert (moved.status_code, moved.json()["state"]) == (200, state)
    ended_again = client.post(f"{url}/state", headers=marketer, json={"change": "resumed"})
    assert (ended_again.status_code, ended_again.json()["field"]) == (409, "state")
    audit = client.get(f"{url}/audit", headers=org.auth()).json()
    assert [a["change"] for a in audit] == [
        "created",
        "approved",
        "paused",
        "resumed",
        "ended",
    ]


def test_bad_plans_name_the_field(client: TestClient, org: Org, other_org: Org) -> None:
    client.post("/api/v1/marketing/offers", headers=org.auth(), json=THRESHOLD)
    bad_offer = {**THRESHOLD, "code": "P150", "benefit": {"kind": "percent_off", "percent": 150}}
    response = client.post("/api/v1/marketing/offers", headers=org.auth(), json=bad_offer)
    assert (response.status_code, response.json()["field"]) == (422, "percent")
    twice = client.post("/api/v1/marketing/offers", headers=org.auth(), json=THRESHOLD)
    assert (twice.status_code, twice.json()["field"]) == (409, "code")
    overlapping = plan(org)
    overlapping["stages"][1]["first_day"] = "2027-10-31"
    response = client.post("/api/v1/marketing/campaigns", headers=org.auth(), json=overlapping)
    assert response.status_code == 422
    assert "'Main day' starts before 'Pre-sale' ends" in response.json()["message"]
    unknown = plan(org)
    unknown["stages"][0]["offer_codes"] = ["NOPE"]
    response = client.post("/api/v1/marketing/campaigns", headers=org.auth(), json=unknown)
    assert (response.status_code, response.json()["field"]) == (422, "offer_codes")
    foreign = plan(org, brand_id=str(other_org.brand_id))
    response = client.post("/api/v1/marketing/campaigns", headers=org.auth(), json=foreign)
    assert (response.status_code, response.json()["field"]) == (422, "brand_id")
    mine = client.post("/api/v1/marketing/campaigns", headers=org.auth(), json=plan(org)).json()
    seen = client.get(f"/api/v1/marketing/campaigns/{mine['id']}", headers=other_org.auth())
    assert seen.status_code == 404
    assert client.get("/api/v1/marketing/campaigns", headers=other_org.auth()).json() == []
