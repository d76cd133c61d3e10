"""Console pages read as a person reads them: the insight of the chosen brand, honest texts
before the first refresh and about hidden values, conditions with names, in en and zh-CN."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient

from newretail.bootstrap import Container
from tests.audiences.world import cart_history, load_events, make_members
from tests.conftest import Org, console_login

API = "/api/v1/audiences"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _csrf(client: TestClient, path: str) -> str:
    page = client.get(path)
    return page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def _visible(html: str) -> str:
    """The page's text outside tags and attribute values (what a person reads)."""
    body = re.sub(r"<script.*?</script>", "", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", body)


@pytest.fixture
def second_brand(client: TestClient, container: Container, org: Org) -> str:
    made = client.post("/api/v1/brands", headers=org.auth(), json={"code": "b2", "name": "Second"})
    assert made.status_code == 201, made.text
    ids = make_members(container, org, 8)
    load_events(container, cart_history(org, ids, date.today() - timedelta(days=1), set(ids[6:])))
    client.put(f"{API}/settings", headers=org.auth(), json={"min_crowd_size": 2})
    console_login(client, org.owner_email)
    return str(made.json()["id"])


def test_insight_shows_the_brand_the_rules_name_and_another_on_request(
    client: TestClient, org: Org, second_brand: str
) -> None:
    h = org.auth()
    rules = {
        "all": [
            {"type": "behaviour", "events": ["add_to_cart"], "window": {"days": 30}},
            {"type": "recency", "bucket": "never", "brand_id": "b2"},
        ]
    }
    audience = client.post(API, headers=h, json={"name": "never bought b2", "rules": rules})
    assert audience.status_code == 201, audience.text
    url = f"{API}/{audience.json()['id']}"
    page_url = f"/console/audiences/{audience.json()['id']}"
    before = client.get(f"{url}/insight", headers=h).json()
    assert (before["refreshed"], before["suppressed"], before["dimensions"]) == (False, False, {})
    page = client.get(page_url)
    assert 'id="insight-not-refreshed"' in page.text
    assert "fewer than" not in page.text and "minimum crowd" not in page.text

    assert client.post(f"{url}/refresh", headers=h).json()["size"] == 8
    report = client.get(f"{url}/insight", headers=h).json()
    assert report["brand_id"] == second_brand
    assert report["dimensions"]["aipl_stage"]["cells"] == [{"value": None, "members": 8}]
    first = client.get(f"{url}/insight?brand_id={org.brand_id}", headers=h).json()
    assert first["brand_id"] == str(org.brand_id)
    assert first["dimensions"]["aipl_stage"]["cells"] == [
        {"value": "I", "members": 6},
        {"value": "P", "members": 2},
    ]

    page = client.get(page_url, headers={"Accept-Language": "zh-CN"})
    assert f'<option value="{second_brand}" selected>Second</option>' in page.text
    assert "AIPL 之外" in page.text and "(none)" not in page.text
    chosen = client.get(f"{page_url}?brand={org.brand_id}", headers={"Accept-Language": "zh-CN"})
    assert f'<option value="{org.brand_id}" selected>Brand</option>' in chosen.text
    assert "兴趣" in chosen.text and "购买" in chosen.text
    sentences = re.search(r'<ol class="small" id="audience-rules">(.*?)</ol>', chosen.text, re.S)
    assert sentences is not None
    assert _visible(sentences.group(1)).split() == [
        "有过加购——最近",
        "30",
        "天内",
        "距上次购买：从未购买，品牌",
        "Second",
    ]
    assert not UUID.search(_visible(chosen.text))


def test_hidden_values_are_not_called_small(
    client: TestClient, org: Org, second_brand: str
) -> None:
    h = org.auth()
    rules = {"all": [{"type": "behaviour", "events": ["add_to_cart"], "window": {"days": 30}}]}
    made = client.post(API, headers=h, json={"name": "carts", "rules": rules}).json()
    client.post(f"{API}/{made['id']}/refresh", headers=h)
    client.put(f"{API}/settings", headers=h, json={"min_crowd_size": 3})
    # tiers: 2 Gold (indexes 0 and 4) under 3, hidden with the 6 without a tier
    tiers = client.get(f"{API}/{made['id']}/insight", headers=h).json()["dimensions"]["tier"]
    assert tiers == {"cells": [], "suppressed": {"cells": 2, "members": 8}}
    page = client.get(f"/console/audiences/{made['id']}")
    assert "hidden values (2)" in page.text and "small values" not in page.text
    assert 'id="insight-hidden-note"' in page.text


def test_the_builder_takes_stores_by_code_and_shows_names(
    client: TestClient, org: Org, second_brand: str
) -> None:
    csrf = _csrf(client, "/console/audiences/new")
    page = client.post(
        "/console/audiences/new",
        data={
            "csrf_token": csrf,
            "rules": '{"all": []}',
            "action": "add",
            "kind": "behaviour",
            "event_store_visit": "on",
            "event_purchase": "on",
            "brand_id": "b2",
            "store_id": "S0, Store 1",
            "channel_store": "on",
            "window_days": "7",
        },
        headers={"Accept-Language": "zh-CN"},
    )
    assert page.status_code == 200, page.text
    listed = re.search(r'<ol id="builder-conditions" class="small">(.*?)</ol>', page.text, re.S)
    assert listed is not None
    assert " ".join(_visible(listed.group(1)).split()) == (
        "有过到店或购买——品牌 Second，门店：Store 0、Store 1，渠道：门店，最近 7 天内 删除"
    )
    assert not UUID.search(_visible(page.text))
    bad = client.post(
        "/console/audiences/new",
        data={
            "csrf_token": csrf,
            "rules": '{"all": []}',
            "action": "add",
            "kind": "behaviour",
            "event_purchase": "on",
            "store_id": "S9",
        },
        headers={"Accept-Language": "zh-CN"},
    )
    assert bad.status_code == 422
    assert "rules.all[0].store_id[0]: 没有代码或名称为“S9”的门店" in bad.text


ENGLISH = re.compile(r"\b[A-Za-z][a-z]+(?:[ '-][A-Za-z][a-z]+)+\b")


def test_the_audience_pages_read_chinese(client: TestClient, org: Org, second_brand: str) -> None:
    """No English phrase outside the retailer's own names (the brands "Brand", "Second")."""
    made = client.post(
        API,
        headers=org.auth(),
        json={"name": "carts", "rules": {"all": [{"type": "behaviour", "events": ["purchase"]}]}},
    ).json()
    zh = {"Accept-Language": "zh-CN"}
    for path in (
        "/console/audiences",
        "/console/audiences/new",
        f"/console/audiences/{made['id']}",
    ):
        page = client.get(path, headers=zh)
        assert page.status_code == 200
        main = page.text.split("<main", 1)[1].split(">", 1)[1].split("</main>", 1)[0]
        main = re.sub(r"<(code|script|style)\b.*?</\1>", "", main, flags=re.S)
        assert ENGLISH.findall(_visible(main)) == [], path
