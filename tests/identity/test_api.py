"""The identity API, the extended member lookup and the console pages, end to end."""

from __future__ import annotations

import json
from importlib.resources import files

from fastapi.testclient import TestClient

from newretail.bootstrap import Container
from newretail.tenancy.models import Role
from tests.conftest import Org, api_key_for, console_login
from tests.identity.conftest import one

PHONE_1 = ("phone", "+8613800138000")
PHONE_2 = ("phone", "+8613900139000")


def test_conflicts_merges_undo_and_lookup_through_the_api(
    client: TestClient, container: Container, org: Org
) -> None:
    headers = org.auth()
    a = client.post("/api/v1/members", headers=headers, json={"name": "A", "phone": "13800138000"})
    b = client.post("/api/v1/members", headers=headers, json={"name": "B", "member_card": "c-1"})
    a_id, b_id = a.json()["id"], b.json()["id"]
    one(container, org, PHONE_2, ("device_id", "shared"))
    one(container, org, PHONE_1, ("device_id", "shared"))
    conflicts = client.get("/api/v1/identity/conflicts?status=open", headers=headers).json()
    assert [(c["kind"], c["identifier_type"]) for c in conflicts["items"]] == [
        ("unique_type", "phone")
    ]
    found = client.get(
        "/api/v1/members/lookup", headers=headers, params={"type": "device_id", "value": "shared"}
    )
    assert found.status_code == 200 and found.json()["id"] in {
        a_id,
        one(container, org, PHONE_2).member_id.__str__(),
    }

    analyst = api_key_for(client, org, Role.ANALYST)
    refused = client.post(
        "/api/v1/identity/merges",
        headers=org.auth(analyst),
        json={"member_id": a_id, "other_member_id": b_id},
    )
    assert refused.status_code == 403
    assert client.get("/api/v1/identity/merges", headers=org.auth(analyst)).status_code == 200

    merged = client.post(
        "/api/v1/identity/merges",
        headers=headers,
        json={"member_id": b_id, "other_member_id": a_id},
    )
    assert merged.status_code == 201, merged.text
    body = merged.json()
    assert (body["survivor_id"], body["loser_id"], body["reason"]) == (a_id, b_id, "manual")
    lookup = client.get(
        "/api/v1/members/lookup", headers=headers, params={"type": "member_card", "value": "C-1"}
    )
    assert lookup.json()["id"] == a_id  # the survivor answers for the merged member
    searched = client.get("/api/v1/members?q=c-1", headers=headers).json()["items"]
    assert [m["id"] for m in searched] == [a_id]
    listed = client.get("/api/v1/members", headers=headers).json()["items"]
    assert b_id not in [m["id"] for m in listed] and a_id in [m["id"] for m in listed]
    identities = client.get(f"/api/v1/members/{a_id}/identities", headers=headers).json()
    assert identities["canonical_id"] == a_id
    assert identities["profiles"] >= 2
    assert {"type": "member_card", "count": 1} in identities["identifiers"]
    manual = [m["loser_id"] for m in identities["merged_from"] if m["reason"] == "manual"]
    assert manual == [b_id]
    assert "value_hash" not in json.dumps(identities)

    again = client.post(
        "/api/v1/identity/merges",
        headers=headers,
        json={"member_id": b_id, "other_member_id": a_id},
    )
    assert (again.status_code, again.json()["code"]) == (409, "already_merged")
    audit = client.get(f"/api/v1/identity/merges?member_id={b_id}", headers=headers).json()
    assert [m["id"] for m in audit["items"]] == [body["id"]]
    undone = client.post(f"/api/v1/identity/merges/{body['id']}/undo", headers=headers)
    assert undone.status_code == 200 and undone.json()["undone_by"]
    lookup = client.get(
        "/api/v1/members/lookup", headers=headers, params={"type": "member_card", "value": "C-1"}
    )
    assert lookup.json()["id"] == b_id
    second = client.post(f"/api/v1/identity/merges/{body['id']}/undo", headers=headers)
    assert (second.status_code, second.json()["code"]) == (409, "undo_refused")

    conflict_id = conflicts["items"][0]["id"]
    dismissed = client.post(f"/api/v1/identity/conflicts/{conflict_id}/dismiss", headers=headers)
    assert dismissed.json()["status"] == "dismissed"
    closed = client.post(f"/api/v1/identity/conflicts/{conflict_id}/dismiss", headers=headers)
    assert (closed.status_code, closed.json()["code"]) == (409, "conflict_closed")
    assert client.get("/api/v1/identity/conflicts?status=open", headers=headers).json() == {
        "items": [],
        "next_cursor": None,
    }


def test_identifier_types_and_custom_types(
    client: TestClient, container: Container, org: Org
) -> None:
    headers = org.auth()
    initial = client.get("/api/v1/identity/types", headers=headers).json()
    assert initial["max_group_size"] == 100
    assert [(t["name"], t["unique_per_member"], t["max_per_member"]) for t in initial["types"]] == [
        ("account_id", True, 1),
        ("anonymous_id", False, 50),
        ("device_id", False, 10),
        ("email", True, 1),
        ("member_card", True, 1),
        ("payment_id", False, 10),
        ("phone", True, 1),
        ("wechat_unionid", False, 5),
    ]
    updated = client.put(
        "/api/v1/identity/types",
        headers=headers,
        json={
            "types": [
                {"name": "loyalty_no", "unique_per_member": True},
                {"name": "device_id", "max_per_member": 3},
            ],
            "max_group_size": 20,
        },
    )
    assert updated.status_code == 200, updated.text
    rules = {t["name"]: t for t in updated.json()["types"]}
    assert rules["loyalty_no"] == {
        "name": "loyalty_no",
        "builtin": False,
        "unique_per_member": True,
        "max_per_member": 1,
    }
    assert rules["device_id"]["max_per_member"] == 3
    assert "loyalty_no" in container.identity.known_types(org.id)
    member = one(container, org, ("loyalty_no", "L-7"))
    found = client.get(
        "/api/v1/members/lookup", headers=headers, params={"type": "loyalty_no", "value": "L-7"}
    )
    assert found.json()["id"] == str(member.member_id)
    unknown = client.get(
        "/api/v1/members/lookup", headers=headers, params={"type": "nonsense", "value": "x"}
    )
    assert (unknown.status_code, unknown.json()["field"]) == (422, "type")
    bad = client.put("/api/v1/identity/types", headers=headers, json={"types": [{"name": "A b"}]})
    assert bad.status_code == 422


def test_console_identity_page_undo_dismiss_and_member_page(
    client: TestClient, container: Container, org: Org
) -> None:
    anonymous = one(container, org, ("anonymous_id", "web-1"))
    known = one(container, org, ("anonymous_id", "web-1"), PHONE_1)
    one(container, org, PHONE_2, ("device_id", "d"))
    one(container, org, PHONE_1, ("device_id", "d"))
    console_login(client, org.owner_email)
    page = client.get("/console/identity")
    assert page.status_code == 200
    assert page.text.count('action="/console/identity/conflicts/') == 1
    assert "Two values of a unique type" in page.text
    detail = client.get(f"/console/members/{known.member_id}")
    assert f'/console/members/{anonymous.profile_id}"' in detail.text
    assert "Merged into this member" in detail.text
    merged = client.get(f"/console/members/{anonymous.profile_id}")
    assert "This member was merged into" in merged.text
    chinese = client.get("/console/identity", headers={"Accept-Language": "zh-CN"})
    assert "OneID：合并与冲突" in chinese.text
    csrf = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    merge_id = page.text.split('action="/console/identity/merges/', 1)[1].split("/", 1)[0]
    undone = client.post(
        f"/console/identity/merges/{merge_id}/undo",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert undone.status_code == 303
    conflict_id = page.text.split('action="/console/identity/conflicts/', 1)[1].split("/", 1)[0]
    dismissed = client.post(
        f"/console/identity/conflicts/{conflict_id}/dismiss",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert dismissed.status_code == 303
    after = client.get("/console/identity").text
    assert "Undone by" in after and 'id="identity-no-conflicts"' in after


def test_catalogues_have_the_same_keys() -> None:
    folder = files("newretail") / "identity" / "locales"
    english = json.loads((folder / "en.json").read_text(encoding="utf-8"))
    chinese = json.loads((folder / "zh-CN.json").read_text(encoding="utf-8"))
    assert english.keys() == chinese.keys()
