"""The console's webhooks pages: add an endpoint (the secret shown once), its deliveries with
state, attempts, last answer and next attempt in local time, Resend, disable, rotate."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import update

from newretail.bootstrap import Container
from newretail.core.database import session_scope
from newretail.reach.models import WebhookDelivery
from tests.conftest import Org, console_login
from tests.console_pages import csrf, field_errors, rows, submit, text
from tests.reach.helpers import T0, queue

PAGE = "/console/reach/webhooks"


def test_add_an_endpoint_see_its_deliveries_and_resend_a_dead_letter(
    client: TestClient, container: Container, org: Org
) -> None:
    console_login(client, org.owner_email)
    empty = client.get(PAGE)
    assert empty.status_code == 200
    added = submit(
        client,
        PAGE,
        PAGE,
        {
            "name": "Shop SMS",
            "url": "https://sms.example.com/hooks",
            "purpose": "sms",
            "store_id": str(org.store_ids[0]),
        },
    )
    assert added.status_code == 200, added.text
    secret = text(added.text, "new-secret-value")
    assert secret.startswith("whsec_")
    assert text(added.text, "endpoint-name") == "Shop SMS"
    listed = client.get(PAGE)
    assert rows(listed.text, "data-endpoint") == ["Shop SMS"]
    assert secret not in listed.text and f"{secret[:12]}…" in listed.text

    dead, pending = queue(container, org, 2, store_id=org.store_ids[0], now=T0)
    with session_scope(container.sessions, org.id) as session:
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.message_id == dead)
            .values(state="failed", attempts=13, last_status=503, next_attempt_at=None)
        )
    endpoint_url = PAGE + "/" + listed.text.split(f'href="{PAGE}/', 1)[1].split('"', 1)[0]
    page = client.get(endpoint_url)
    assert sorted(rows(page.text, "data-message")) == sorted([dead, pending])
    # 09:00 UTC is 17:00 in Shanghai, the organisation's time zone
    assert "2026-11-11 17:00" in page.text and "Asia/Shanghai" in page.text
    assert page.text.count('class="resend-form"') == 1
    failed = client.get(endpoint_url, params={"state": "failed"})
    assert rows(failed.text, "data-message") == [dead]
    assert "HTTP 503" in failed.text

    (action,) = re.findall(r'action="(/console/reach/webhooks/deliveries/[^"]+/resend)"', page.text)
    assert page.text.count('class="cancel-form"') == 1  # the pending one
    resent = client.post(action, data={"csrf_token": csrf(page.text)}, follow_redirects=False)
    assert resent.status_code == 303
    assert resent.headers["location"].endswith(f"?resent={dead}")
    after = client.get(resent.headers["location"])
    assert text(after.text, "delivery-resent").endswith(dead)
    assert 'class="resend-form"' not in after.text

    disabled = submit(client, endpoint_url, endpoint_url + "/disable", {})
    assert disabled.status_code == 303
    shown = client.get(disabled.headers["location"])
    assert text(shown.text, "endpoint-changed") == (
        "Disabled: its deliveries wait until it is enabled."
    )
    assert "held while disabled" in shown.text

    rotated = submit(client, endpoint_url, endpoint_url + "/rotate", {"keep_old_hours": "2"})
    assert rotated.status_code == 200
    new = text(rotated.text, "new-secret-value")
    assert new != secret
    secrets_shown = rotated.text.split('id="endpoint-secrets"', 1)[1].split("</dd>", 1)[0]
    assert (secrets_shown.count(f"{secret[:12]}…"), secrets_shown.count(f"{new[:12]}…")) == (1, 1)
    assert "signs until 2" in secrets_shown  # the old secret's end, in local time


def test_refused_forms_say_why_by_field_in_chinese(client: TestClient, org: Org) -> None:
    console_login(client, org.owner_email)
    chinese = {"Accept-Language": "zh-CN"}
    refused = submit(
        client,
        PAGE,
        PAGE,
        {"name": "SMS", "url": "http://sms.example.com/", "purpose": "sms"},
        **chinese,
    )
    assert refused.status_code == 422
    assert field_errors(refused.text)["url"] == (
        "URL 必须以 https:// 开头（仅 localhost 或 127.0.0.1 可用 http://）。"
    )
    empty = submit(client, PAGE, PAGE, {"name": "", "url": "", "purpose": "sms"}, **chinese)
    assert empty.status_code == 422
    assert set(field_errors(empty.text)) >= {"name", "url"}
    assert all(field_errors(empty.text)[f] for f in ("name", "url"))
