"""The console: list with sizes over time, builder with forms and live estimate, insight."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient

from newretail.bootstrap import Container
from tests.audiences.world import cart_history, load_events, make_members
from tests.conftest import Org, console_login

API = "/api/v1/audiences"


def _csrf(client: TestClient, path: str) -> str:
    page = client.get(path)
    return page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


@pytest.fixture
def signed_in(client: TestClient, container: Container, org: Org) -> list[str]:
    today = date.today()
    ids = make_members(container, org, 8)
    load_events(container, cart_history(org, ids, today - timedelta(days=1), set(ids[6:])))
    client.put(f"{API}/settings", headers=org.auth(), json={"min_crowd_size": 2})
    console_login(client, org.owner_email)
    return ids


def test_builder_adds_conditions_estimates_and_saves(
    client: TestClient, org: Org, signed_in: list[str]
) -> None:
    csrf = _csrf(client, "/console/audiences/new")
    page = client.post(
        "/console/audiences/new",
        data={
            "csrf_token": csrf,
            "rules": '{"all": []}',
            "action": "add",
            "kind": "behaviour",
            "events": "add_to_cart",
            "window_days": "30",
        },
    )
    assert page.status_code == 200, page.text
    assert "add_to_cart" in page.text
    assert '<strong id="estimate-size">8</strong>' in page.text
    tree = {"all": [{"type": "behaviour", "events": ["add_to_cart"], "window": {"days": 30}}]}
    page = client.post(
        "/console/audiences/new",
        data={
            "csrf_token": csrf,
            "rules": json.dumps(tree),
            "action": "add",
            "kind": "did_not",
            "events": "purchase",
            "window_days": "30",
        },
    )
    assert '<strong id="estimate-size">6</strong>' in page.text
    bad = client.post(
        "/console/audiences/new",
        data={
            "csrf_token": csrf,
            "rules": json.dumps(tree),
            "action": "add",
            "kind": "behaviour",
            "events": "add_to_cart",
            "window_days": "0",
        },
    )
    assert bad.status_code == 422
    assert "rules.all[1].window.days" in bad.text and "must be at least 1" in bad.text
    live = client.post(
        "/console/audiences/estimate", data={"csrf_token": csrf, "rules": json.dumps(tree)}
    )
    assert live.json()["size"] == 8
    tree["all"].append({"type": "did_not", "events": ["purchase"], "window": {"days": 30}})
    saved = client.post(
        "/console/audiences/new",
        data={"csrf_token": csrf, "rules": json.dumps(tree), "action": "save", "name": "carts"},
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    detail_url = saved.headers["location"]
    refreshed = client.post(
        f"{detail_url}/refresh", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert refreshed.status_code == 303
    detail = client.get(detail_url)
    assert "<strong>6</strong>" in detail.text
    assert 'class="audience-bars"' in detail.text and 'data-dimension="city"' in detail.text
    listing = client.get("/console/audiences")
    assert "carts" in listing.text and 'class="databank-lines"' in listing.text
    exported = client.post(f"{detail_url}/export", data={"csrf_token": csrf, "format": "csv"})
    assert exported.status_code == 200
    assert exported.text.splitlines()[0] == "identifier_type,value_hash"
    assert 'id="export-log"' in client.get(detail_url).text
    chinese = client.get(detail_url, headers={"Accept-Language": "zh-CN"})
    assert "人群" in chinese.text or "人数" in chinese.text


def test_templates_from_the_list_and_the_floor_on_pages(
    client: TestClient, org: Org, signed_in: list[str]
) -> None:
    csrf = _csrf(client, "/console/audiences")
    made = client.post(
        "/console/audiences/templates",
        data={"csrf_token": csrf, "key": "presale_cart_no_purchase"},
        follow_redirects=False,
    )
    assert made.status_code == 303
    client.post(f"{made.headers['location']}/refresh", data={"csrf_token": csrf})
    client.put(f"{API}/settings", headers=org.auth(), json={"min_crowd_size": 50})
    detail = client.get(made.headers["location"])
    assert "fewer than 50" in detail.text and 'id="insight-suppressed"' in detail.text
    assert ">6<" not in detail.text
    assert "fewer than 50" in client.get("/console/audiences").text
