"""The member timeline through the API and the console: order, filters, pages, isolation."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib.resources import files
from typing import Any

import pytest
from fastapi.testclient import TestClient

from newretail.bootstrap import Container
from newretail.tenancy.models import Role
from tests.conftest import Org, api_key_for, console_login
from tests.timelines.events import load, row


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _member(client: TestClient, org: Org, phone: str) -> str:
    made = client.post("/api/v1/members", headers=org.auth(), json={"phone": phone})
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


@pytest.fixture
def story(client: TestClient, container: Container, org: Org, other_org: Org) -> dict[str, str]:
    """Member M's events in two stores and online; a neighbour's and another tenant's."""
    member = _member(client, org, "13800138000")
    neighbour = _member(client, org, "13900139000")
    stranger = _member(client, other_org, "13700137000")
    shop, counter = org.store_ids
    load(
        container,
        [
            row(
                org.id,
                member,
                "m-01",
                "district_enter",
                at("2026-03-01T09:00"),
                store_id=shop,
                properties={"district": "Xintiandi"},
            ),
            # 01:00 on 2 March in Shanghai
            row(
                org.id,
                member,
                "m-02",
                "counter_approach",
                at("2026-03-01T17:00"),
                channel="counter",
                store_id=counter,
                properties={"distance_m": 1.5},
            ),
            # two events at the same instant: message id breaks the tie
            row(
                org.id,
                member,
                "m-04",
                "product_view",
                at("2026-03-02T12:00"),
                channel="online",
                properties={"product_id": "p-1", "category": "Skincare"},
            ),
            row(
                org.id,
                member,
                "m-03",
                "add_to_cart",
                at("2026-03-02T12:00"),
                channel="online",
                properties={"product_id": "p-1", "quantity": 1},
            ),
            row(
                org.id,
                member,
                "outbox:0001",
                "purchase",
                at("2026-03-03T08:30"),
                store_id=shop,
                brand_id=org.brand_id,
                amount="259.00",
                properties={"order_id": "o-1", "lines": [{"sku_code": "SKU-1"}]},
            ),
            row(org.id, member, "m-05", "review", at("2026-03-04T10:00"), channel="online"),
            row(org.id, neighbour, "m-06", "product_view", at("2026-03-02T12:00")),
            # the same member id under another organisation never shows
            row(other_org.id, member, "m-07", "purchase", at("2026-03-02T12:00"), amount="1.00"),
            row(other_org.id, stranger, "m-08", "store_visit", at("2026-03-02T12:00")),
        ],
    )
    return {"member": member, "stranger": stranger}


def _ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["message_id"] for item in response.json()["items"]]


ALL = ["m-01", "m-02", "m-03", "m-04", "outbox:0001", "m-05"]


def test_timeline_in_time_order_with_every_field(
    client: TestClient, org: Org, story: dict[str, str]
) -> None:
    url = f"/api/v1/members/{story['member']}/timeline"
    body = client.get(url, headers=org.auth()).json()
    assert [i["message_id"] for i in body["items"]] == ALL
    assert body["next_cursor"] is None
    assert body["items"][0] == {
        "type": "district_enter",
        "ts": "2026-03-01T09:00:00Z",
        "channel": "store",
        "store_id": str(org.store_ids[0]),
        "brand_id": None,
        "message_id": "m-01",
        "amount": None,
        "properties": {"district": "Xintiandi"},
    }
    assert body["items"][4] == {
        "type": "purchase",
        "ts": "2026-03-03T08:30:00Z",
        "channel": "store",
        "store_id": str(org.store_ids[0]),
        "brand_id": str(org.brand_id),
        "message_id": "outbox:0001",
        "amount": "259.00",
        "properties": {"order_id": "o-1", "lines": [{"sku_code": "SKU-1"}]},
    }
    assert body["items"][5]["properties"] == {}  # stored without properties
    assert [i["type"] for i in body["items"]] == [
        "district_enter",
        "counter_approach",
        "add_to_cart",
        "product_view",
        "purchase",
        "review",
    ]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"type": ["product_view", "add_to_cart"]}, ["m-03", "m-04"]),
        ({"type": "purchase"}, ["outbox:0001"]),
        ({"type": "share"}, []),
        ({"channel": "online"}, ["m-03", "m-04", "m-05"]),
        ({"channel": "counter"}, ["m-02"]),
        # whole days in the organisation's time zone (Asia/Shanghai, UTC+8)
        ({"start": "2026-03-02"}, ["m-02", "m-03", "m-04", "outbox:0001", "m-05"]),
        ({"end": "2026-03-01"}, ["m-01"]),
        ({"start": "2026-03-02", "end": "2026-03-02"}, ["m-02", "m-03", "m-04"]),
        ({"start": "2026-03-02", "end": "2026-03-03", "channel": "store"}, ["outbox:0001"]),
        ({"order": "desc"}, list(reversed(ALL))),
    ],
)
def test_filters(
    client: TestClient,
    org: Org,
    story: dict[str, str],
    params: dict[str, Any],
    expected: list[str],
) -> None:
    url = f"/api/v1/members/{story['member']}/timeline"
    assert _ids(client.get(url, headers=org.auth(), params=params)) == expected


def test_keyset_pages_in_both_orders(client: TestClient, org: Org, story: dict[str, str]) -> None:
    url = f"/api/v1/members/{story['member']}/timeline"
    pages: list[list[str]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = client.get(url, headers=org.auth(), params=params).json()
        pages.append([i["message_id"] for i in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == [["m-01", "m-02"], ["m-03", "m-04"], ["outbox:0001", "m-05"]]

    first = client.get(url, headers=org.auth(), params={"order": "desc", "limit": 4}).json()
    assert [i["message_id"] for i in first["items"]] == ["m-05", "outbox:0001", "m-04", "m-03"]
    rest = client.get(
        url, headers=org.auth(), params={"order": "desc", "cursor": first["next_cursor"]}
    )
    assert _ids(rest) == ["m-02", "m-01"]
    # a cursor keeps its direction
    wrong = client.get(
        url, headers=org.auth(), params={"order": "asc", "cursor": first["next_cursor"]}
    )
    assert (wrong.status_code, wrong.json()["field"]) == (422, "query.cursor")
    # pages of filtered timelines carry on with the same filter
    filtered = client.get(url, headers=org.auth(), params={"channel": "online", "limit": 1})
    after = client.get(
        url,
        headers=org.auth(),
        params={"channel": "online", "limit": 5, "cursor": filtered.json()["next_cursor"]},
    )
    assert (_ids(filtered), _ids(after)) == (["m-03"], ["m-04", "m-05"])


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "2026-02-30"}, "query.start"),
        ({"end": "yesterday"}, "query.end"),
        ({"start": "2026-03-04", "end": "2026-03-03"}, "query.end"),
        ({"limit": 0}, "query.limit"),
        ({"limit": 501}, "query.limit"),
        ({"cursor": "not-a-cursor"}, "query.cursor"),
        ({"order": "sideways"}, "query.order"),
        ({"channel": ""}, "query.channel"),
        ({"type": "x" * 101}, "query.type"),
    ],
)
def test_bad_input_names_the_field(
    client: TestClient, org: Org, story: dict[str, str], params: dict[str, Any], field: str
) -> None:
    url = f"/api/v1/members/{story['member']}/timeline"
    response = client.get(url, headers=org.auth(), params=params)
    assert response.status_code == 422, response.text
    assert (response.json()["code"], response.json()["field"]) == ("invalid_input", field)


def test_other_organisations_and_unknown_members_answer_404(
    client: TestClient, org: Org, other_org: Org, story: dict[str, str]
) -> None:
    for member, key in (
        (story["stranger"], org.owner_key),  # another tenant's member
        (story["member"], other_org.owner_key),  # our member, asked by another tenant
        ("00000000-0000-0000-0000-000000000000", org.owner_key),
    ):
        response = client.get(f"/api/v1/members/{member}/timeline", headers=org.auth(key))
        assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert _ids(
        client.get(f"/api/v1/members/{story['stranger']}/timeline", headers=other_org.auth())
    ) == ["m-08"]


def test_roles_that_read_members_see_the_timeline(
    client: TestClient, org: Org, story: dict[str, str]
) -> None:
    url = f"/api/v1/members/{story['member']}/timeline"
    for role in (Role.ANALYST, Role.MARKETER):
        assert _ids(client.get(url, headers=org.auth(api_key_for(client, org, role)))) == ALL
    manager = api_key_for(client, org, Role.STORE_MANAGER, [org.store_ids[0]])
    # a store manager sees the events at their stores only, like their orders
    assert _ids(client.get(url, headers=org.auth(manager))) == ["m-01", "outbox:0001"]
    assert client.get(url).status_code == 401
    assert client.get(url, headers=org.auth(org.write_key)).status_code == 403


def test_console_member_page_shows_the_timeline(
    client: TestClient, org: Org, story: dict[str, str]
) -> None:
    console_login(client, org.owner_email)
    url = f"/console/members/{story['member']}"
    page = client.get(url)
    assert page.status_code == 200
    section = page.text.split('id="member-timeline"', 1)[1].split("</section>", 1)[0]
    # newest first, with channel and store names, times in the organisation's zone
    assert section.count('<tr data-type="') == 6
    assert section.index('data-message="m-05"') < section.index('data-message="m-01"')
    assert "2026-03-02 01:00:00</td><td>Counter approach</td><td>Counter</td><td>Store 1</td>" in (
        section
    )
    assert '<td>Purchase</td><td>Shop</td><td>Store 0</td><td class="text-end">¥259.00</td>' in (
        section
    )
    assert "district Xintiandi" in section and "SKU-1" in section

    chinese = client.get(url, headers={"Accept-Language": "zh-CN"}).text
    assert "全渠道行为轨迹" in chinese and "<td>靠近专柜</td><td>专柜</td>" in chinese
    assert "商圈 Xintiandi" in chinese and "district Xintiandi" not in chinese

    online = client.get(url, params={"tl_channel": "online", "tl_type": ["review", "add_to_cart"]})
    section = online.text.split('id="member-timeline"', 1)[1].split("</section>", 1)[0]
    assert section.count('<tr data-type="') == 2
    assert '<option value="review" selected>' in section

    dated = client.get(url, params={"tl_from": "2026-03-02", "tl_to": "2026-03-02"})
    assert dated.text.count('<tr data-type="') == 3
    bad = client.get(url, params={"tl_from": "2026-13-01"})
    assert bad.status_code == 200 and 'id="timeline-error"' in bad.text
    assert "tl_from: not a date (YYYY-MM-DD)" in bad.text


def test_console_pages_older_events(client: TestClient, container: Container, org: Org) -> None:
    member = _member(client, org, "13600136000")
    load(
        container,
        [
            row(
                org.id,
                member,
                f"p-{i:03d}",
                "product_view",
                at(f"2026-03-01T{i // 60:02d}:{i % 60:02d}"),
                channel="online",
                properties={"product_id": "p-1"},
            )
            for i in range(55)
        ],
    )
    console_login(client, org.owner_email)
    first = client.get(f"/console/members/{member}")
    assert first.text.count('<tr data-type="product_view"') == 50
    assert 'data-message="p-054"' in first.text and 'data-message="p-004"' not in first.text
    older = first.text.split('id="timeline-older"', 1)[0].rsplit('href="', 1)[1].split('"', 1)[0]
    older = older.replace("&amp;", "&").split("#", 1)[0]
    second = client.get(f"/console/members/{member}{older}")
    assert second.text.count('<tr data-type="product_view"') == 5
    assert 'data-message="p-000"' in second.text and 'id="timeline-older"' not in second.text


def test_catalogues_have_the_same_keys() -> None:
    folder = files("newretail") / "timelines" / "locales"
    english = json.loads((folder / "en.json").read_text(encoding="utf-8"))
    chinese = json.loads((folder / "zh-CN.json").read_text(encoding="utf-8"))
    assert english.keys() == chinese.keys()
