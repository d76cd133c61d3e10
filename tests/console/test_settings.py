"""The organisation's time zone, set in the console (or the API) and used for its pages' times."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

from fastapi.testclient import TestClient

from newretail.bootstrap import Container
from newretail.core.database import session_scope
from newretail.tenancy.models import Organization, Role
from tests.conftest import PASSWORD, Org, api_key_for, console_login

# 00:30 on Double 11 in Shanghai
CREATED = datetime(2026, 11, 10, 16, 30, tzinfo=UTC)


def _csrf(page: str) -> str:
    return page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def _created_at(page: str) -> str:
    cell = page.split('id="created-at">', 1)[1].split("</dd>", 1)[0]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", cell)).split())


def _settings_form(page: str, **changes: str) -> dict[str, str]:
    form = {"csrf_token": _csrf(page), "name": "Alpha", "default_locale": "en"}
    form["time_zone"] = "Asia/Shanghai"
    return {**form, **changes}


def test_owner_sets_the_time_zone_and_times_follow(
    client: TestClient, org: Org, container: Container
) -> None:
    with session_scope(container.sessions) as session:
        organization = session.get(Organization, org.id)
        assert organization is not None
        organization.created_at = CREATED
    console_login(client, org.owner_email)
    page = client.get("/console/settings")
    assert page.status_code == 200
    assert _created_at(page.text) == "2026-11-11 00:30 Asia/Shanghai (UTC+08:00)"
    saved = client.post(
        "/console/settings",
        data=_settings_form(page.text, time_zone="Asia/Tokyo"),
        follow_redirects=False,
    )
    assert (saved.status_code, saved.headers["location"]) == (303, "/console/settings?saved=1")
    api = client.get("/api/v1/organization", headers=org.auth()).json()
    assert (api["name"], api["time_zone"]) == ("Alpha", "Asia/Tokyo")
    after = client.get("/console/settings?saved=1")
    assert _created_at(after.text) == "2026-11-11 01:30 Asia/Tokyo (UTC+09:00)"


def test_refused_settings_name_the_field_in_the_users_language(
    client: TestClient, org: Org
) -> None:
    console_login(client, org.owner_email)
    page = client.get("/console/settings")
    client.post(
        "/console/preferences/locale", data={"csrf_token": _csrf(page.text), "locale": "zh-CN"}
    )
    refused = client.post(
        "/console/settings", data=_settings_form(page.text, time_zone="Mars/Base")
    )
    assert refused.status_code == 422
    feedback = refused.text.split('class="invalid-feedback">', 1)[1].split("<", 1)[0]
    assert html.unescape(feedback) == "未知时区 'Mars/Base'"
    api = client.get("/api/v1/organization", headers=org.auth()).json()
    assert api["time_zone"] == "Asia/Shanghai"


def test_only_owners_and_admins_change_settings(client: TestClient, org: Org) -> None:
    analyst = f"analyst-{org.slug}@example.com"
    created = client.post(
        "/api/v1/users",
        headers=org.auth(),
        json={"email": analyst, "password": PASSWORD, "role": "analyst"},
    )
    assert created.status_code == 201
    console_login(client, analyst)
    page = client.get("/console/settings")
    assert (page.status_code, "<fieldset disabled>" in page.text) == (200, True)
    denied = client.post("/console/settings", data=_settings_form(page.text, time_zone="UTC"))
    assert denied.status_code == 403
    key = api_key_for(client, org, Role.MARKETER)
    refused = client.patch("/api/v1/organization", headers=org.auth(key), json={"time_zone": "UTC"})
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    changed = client.patch("/api/v1/organization", headers=org.auth(), json={"time_zone": "UTC"})
    assert (changed.status_code, changed.json()["time_zone"]) == (200, "UTC")
