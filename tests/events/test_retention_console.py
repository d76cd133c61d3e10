"""The event retention page under the organisation's settings, in English and Chinese."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from newretail.bootstrap import Container
from tests.conftest import ON_SQLITE, Org, console_login
from tests.events.test_retention import EVENTS, _insert, _left

pytestmark = ON_SQLITE


def _token(text: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', text)
    assert found is not None
    return found.group(1)


def test_the_page_saves_refuses_and_runs(
    client: TestClient, container: Container, org: Org
) -> None:
    _insert(container, org, EVENTS)
    console_login(client, org.owner_email)
    settings = client.get("/console/settings")
    assert 'href="/console/settings/retention"' in settings.text
    page = client.get("/console/settings/retention")
    assert page.status_code == 200
    assert "Event retention" in page.text and "No run has deleted anything yet." in page.text
    token = _token(page.text)
    refused = client.post(
        "/console/settings/retention",
        data={
            "csrf_token": token,
            "default_days": "0",
            "type_days": "Purchase 3\n",
            "failed_days": "x",
        },
    )
    assert refused.status_code == 422
    assert "must be a whole number of days" in refused.text  # failed_days
    assert 'value="0"' in refused.text  # the values are shown again
    zh = client.post(
        "/console/settings/retention",
        data={"csrf_token": token, "default_days": "", "type_days": "purchase", "failed_days": ""},
        headers={"Accept-Language": "zh-CN"},
    )
    assert zh.status_code == 422 and "不是“事件类型 天数”的格式" in zh.text
    too_many = client.post(
        "/console/settings/retention",
        data={"csrf_token": token, "default_days": "4000", "type_days": "", "failed_days": ""},
    )
    assert too_many.status_code == 422 and "3650" in too_many.text
    saved = client.post(
        "/console/settings/retention",
        data={
            "csrf_token": token,
            "default_days": "30",
            "type_days": "purchase 365\n",
            "failed_days": "7",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    shown = client.get("/console/settings/retention?done=saved").text
    assert "Retention saved." in shown and "purchase 365" in shown and 'value="30"' in shown
    ran = client.post("/console/settings/retention/run", data={"csrf_token": token})
    assert "Retention applied" in ran.text
    assert re.search(
        r"<code>product_view</code> 2 · <code>purchase</code> 3 · <code>store_visit</code> 4",
        ran.text,
    )
    assert _left(container, org) == {"product_view": 1, "purchase": 2, "store_visit": 1}
    chinese = client.get("/console/settings/retention", headers={"Accept-Language": "zh-CN"}).text
    assert "事件保留期" in chinese and "手动" in chinese and "按类型删除的事件" in chinese
