"""The console through HTTP: login with CSRF and lock-out, languages, switcher, stores pages."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from newretail.bootstrap import Container
from newretail.core.database import scope_session, session_scope
from newretail.tenancy import users
from newretail.tenancy.models import Role
from newretail.tenancy.permissions import Principal, PrincipalKind
from tests.conftest import PASSWORD, Org, console_login


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match is not None
    return match.group(1)


def test_pages_need_a_session(client: TestClient) -> None:
    for path in ("/console/stores", "/console/members", "/console/stores/new"):
        response = client.get(path, follow_redirects=False)
        assert (response.status_code, response.headers["location"]) == (303, "/console/login")


def test_login_needs_the_forms_csrf_token(client: TestClient, org: Org) -> None:
    client.get("/console/login")
    forged = client.post(
        "/console/login",
        data={"email": org.owner_email, "password": PASSWORD, "csrf_token": "x"},
        follow_redirects=False,
    )
    assert forged.status_code == 403 and "The form expired" in forged.text


def test_login_locks_after_five_failures(client: TestClient, org: Org) -> None:
    for attempt in range(5):
        page = client.get("/console/login")
        response = client.post(
            "/console/login",
            data={
                "email": org.owner_email,
                "password": "wrong password",
                "csrf_token": _csrf(page.text),
            },
        )
        assert response.status_code == 401, attempt
    page = client.get("/console/login")
    locked = client.post(
        "/console/login",
        data={"email": org.owner_email, "password": PASSWORD, "csrf_token": _csrf(page.text)},
        follow_redirects=False,
    )
    assert locked.status_code == 423 and "Too many failed sign-ins" in locked.text


def test_session_cookie_csrf_and_logout(client: TestClient, org: Org) -> None:
    console_login(client, org.owner_email)
    cookie = client.cookies.get("nr_session")
    assert cookie is not None and cookie.startswith("nr_sess_")
    page = client.get("/console/stores")
    assert page.status_code == 200 and "Store 0" in page.text and "Store 1" in page.text
    no_token = client.post("/console/logout", data={}, follow_redirects=False)
    assert no_token.status_code == 403
    out = client.post(
        "/console/logout", data={"csrf_token": _csrf(page.text)}, follow_redirects=False
    )
    assert out.status_code == 303
    client.cookies.set("nr_session", cookie)  # a stolen cookie is dead after logout
    again = client.get("/console/stores", follow_redirects=False)
    assert again.headers["location"] == "/console/login"


def test_language_from_accept_language_then_preference(client: TestClient, org: Org) -> None:
    login_zh = client.get("/console/login", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    assert '<html lang="zh-CN">' in login_zh.text and "登录" in login_zh.text
    console_login(client, org.owner_email)
    english = client.get("/console/stores", headers={"Accept-Language": "en-GB"})
    assert '<h1 class="h3 mb-0">Stores</h1>' in english.text and "2 stores" in english.text
    client.post(
        "/console/preferences/locale", data={"csrf_token": _csrf(english.text), "locale": "zh-CN"}
    )
    chinese = client.get("/console/stores", headers={"Accept-Language": "en-GB"})
    assert '<h1 class="h3 mb-0">门店</h1>' in chinese.text and "共 2 家门店" in chinese.text
    for section, title in (
        ("diagnosis", "经营诊断"),
        ("audiences", "人群"),
        ("events", "失败事件"),
        ("identity", "OneID"),
        ("marketing", "营销活动"),
    ):
        page = client.get(f"/console/{section}")
        assert page.status_code == 200 and title in page.text, section
        assert "将在后续版本提供" not in page.text


def test_store_filters_create_and_edit(client: TestClient, org: Org) -> None:
    console_login(client, org.owner_email)
    counters = client.get("/console/stores?channel_type=counter")
    assert (
        "Store 1" in counters.text
        and "Store 0" not in counters.text
        and "1 store<" in counters.text
    )
    form = client.get("/console/stores/new")
    invalid = client.post(
        "/console/stores/new",
        data={
            "csrf_token": _csrf(form.text),
            "code": "N1",
            "name": "New",
            "channel_type": "popup",
            "status": "active",
            "time_zone": "Asia/Shanghai",
            "latitude": "abc",
            "opening_hours": "",
        },
    )
    assert invalid.status_code == 422 and "must be a number" in invalid.text
    created = client.post(
        "/console/stores/new",
        data={
            "csrf_token": _csrf(form.text),
            "code": "N1",
            "name": "New pop-up",
            "channel_type": "popup",
            "status": "active",
            "time_zone": "Asia/Shanghai",
            "city": "Hangzhou",
            "latitude": "30.25",
            "longitude": "120.16",
            "opening_hours": "sat 10:00-22:00\nsun 10:00-20:00",
        },
        follow_redirects=False,
    )
    assert created.status_code == 303, created.text
    store = client.get("/api/v1/stores?q=N1", headers=org.auth()).json()["items"][0]
    assert (store["city"], store["opening_hours"]) == (
        "Hangzhou",
        {"sat": [["10:00", "22:00"]], "sun": [["10:00", "20:00"]]},
    )
    edit = client.get(f"/console/stores/{store['id']}")
    assert "sat 10:00-22:00" in edit.text
    saved = client.post(
        f"/console/stores/{store['id']}",
        data={
            "csrf_token": _csrf(edit.text),
            "code": "N1",
            "name": "Renamed pop-up",
            "channel_type": "popup",
            "status": "closed",
            "time_zone": "Asia/Shanghai",
            "city": "Hangzhou",
            "latitude": "30.25",
            "longitude": "120.16",
            "opening_hours": "sat 10:00-22:00",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    after = client.get(f"/api/v1/stores/{store['id']}", headers=org.auth()).json()
    assert (after["name"], after["status"], after["opening_hours"]) == (
        "Renamed pop-up",
        "closed",
        {"sat": [["10:00", "22:00"]]},
    )


def test_analyst_console_cannot_write(client: TestClient, org: Org) -> None:
    response = client.post(
        "/api/v1/users",
        headers=org.auth(),
        json={"email": "analyst@example.com", "password": PASSWORD, "role": "analyst"},
    )
    assert response.status_code == 201
    console_login(client, "analyst@example.com")
    page = client.get("/console/stores")
    assert "New store" not in page.text
    denied = client.post(
        f"/console/stores/{org.store_ids[0]}",
        data={
            "csrf_token": _csrf(page.text),
            "code": "S0",
            "name": "hacked",
            "channel_type": "store",
            "status": "active",
            "time_zone": "Asia/Shanghai",
            "opening_hours": "",
        },
    )
    assert denied.status_code == 403
    assert (
        client.get(f"/api/v1/stores/{org.store_ids[0]}", headers=org.auth()).json()["name"]
        == "Store 0"
    )


def test_organisation_switcher(
    client: TestClient, org: Org, other_org: Org, container: Container
) -> None:
    with session_scope(container.sessions) as session:
        owner = Principal.for_role(PrincipalKind.USER, other_org.id, Role.OWNER, actor="test")
        users.add_existing_user(
            scope_session(session, other_org.id), owner, org.owner_email, Role.ANALYST
        )
    console_login(client, org.owner_email)
    page = client.get("/console/stores")
    assert other_org.slug.split("-")[0] in page.text  # the switcher lists both
    switched = client.post(
        "/console/organization",
        data={"csrf_token": _csrf(page.text), "organization_id": str(other_org.id)},
        follow_redirects=False,
    )
    assert switched.status_code == 303
    now = client.get("/console/stores")
    assert "Analyst" in now.text and "New store" not in now.text
    assert f'value="{other_org.id}" selected' in now.text
    stranger = client.post(
        "/console/organization",
        data={
            "csrf_token": _csrf(now.text),
            "organization_id": "00000000-0000-0000-0000-000000000000",
        },
    )
    assert stranger.status_code == 403
