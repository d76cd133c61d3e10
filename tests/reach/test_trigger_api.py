"""The reach API end to end (SQLite and PostgreSQL): a trigger rule created, read, refused
with the field at fault, replaced and deleted; settings; the decisions with their reason and
local offset; and a rule created through the API is matched at once by this process."""

from __future__ import annotations

from fastapi.testclient import TestClient

from newretail.bootstrap import Container
from tests.conftest import Org
from tests.reach.trigger_helpers import FIRST_DAY, set_up, shanghai


def test_rules_settings_and_decisions_through_the_api(
    client: TestClient, container: Container, org: Org
) -> None:
    reach = set_up(container, org)
    member = reach.members[0]
    assert reach.trigger(member, shanghai(FIRST_DAY, "12:00")) == ["treated"]

    body = {
        "name": "Shelf browse in Beijing",
        "campaign_id": str(reach.campaign.id),
        "stage_position": 1,
        "event_types": ["shelf_browse"],
        "property_filters": [{"property": "shelf", "op": "equals", "value": "lipstick"}],
        "cities": ["Beijing"],
        "channel": "push",
        "offer_code": reach.offer.code,
        "daily_cap": 1,
    }
    created = client.post("/api/v1/reach/rules", headers=org.auth(), json=body)
    assert created.status_code == 201, created.text
    rule = created.json()
    assert (rule["campaign_name"], rule["stage_name"], rule["offer_name"]) == (
        "Double 11 at the counter",
        "Counter week",
        "Counter: 50 off 300",
    )
    assert (rule["reentry_minutes"], rule["daily_cap"], rule["weekly_cap"]) == (5, 1, None)
    assert rule["property_filters"] == [{"property": "shelf", "op": "equals", "value": "lipstick"}]

    # the new rule is matched at once in this process (Store 1 is in Beijing)
    at = shanghai(FIRST_DAY, "12:30")
    browse = {"shelf": "lipstick"}
    assert reach.trigger(member, at, event_type="shelf_browse", properties=browse) == ["treated"]

    bad = client.post(
        "/api/v1/reach/rules", headers=org.auth(), json=body | {"name": "x", "stage_position": 2}
    )
    assert (bad.status_code, bad.json()["code"], bad.json()["field"]) == (
        422,
        "invalid_input",
        "stage_position",
    )
    bad_channel = client.post(
        "/api/v1/reach/rules", headers=org.auth(), json=body | {"channel": "fax"}
    )
    assert bad_channel.status_code == 422
    duplicate = client.post("/api/v1/reach/rules", headers=org.auth(), json=body)
    assert (duplicate.status_code, duplicate.json()["field"]) == (409, "name")

    listed = client.get(
        "/api/v1/reach/rules", headers=org.auth(), params={"campaign_id": str(reach.campaign.id)}
    )
    assert [r["name"] for r in listed.json()] == ["Counter approach", "Shelf browse in Beijing"]
    replaced = client.put(
        f"/api/v1/reach/rules/{rule['id']}", headers=org.auth(), json=body | {"active": False}
    )
    assert replaced.json()["active"] is False

    settings = client.put(
        "/api/v1/reach/settings",
        headers=org.auth(),
        json={"quiet_start": "22:00", "quiet_end": "08:00", "global_daily_cap": 3},
    )
    assert settings.json() == {"quiet_start": "22:00", "quiet_end": "08:00", "global_daily_cap": 3}
    half = client.put("/api/v1/reach/settings", headers=org.auth(), json={"quiet_start": "22:00"})
    assert half.status_code == 422

    decisions = client.get("/api/v1/reach/decisions", headers=org.auth()).json()
    assert [(d["rule_name"], d["reason"], d["store_name"]) for d in decisions] == [
        ("Shelf browse in Beijing", "treated", "Store 1"),
        ("Counter approach", "treated", "Store 1"),
    ]
    assert decisions[1]["decided_at"] == "2027-11-11T12:00:00+08:00"
    assert decisions[1]["local_day"] == "2027-11-11"
    assert decisions[1]["coupon_id"] is not None
    only_holdout = client.get(
        "/api/v1/reach/decisions", headers=org.auth(), params={"reason": "holdout"}
    )
    assert only_holdout.json() == []

    gone = client.delete(f"/api/v1/reach/rules/{rule['id']}", headers=org.auth())
    assert gone.status_code == 204
    assert client.get(f"/api/v1/reach/rules/{rule['id']}", headers=org.auth()).status_code == 404
