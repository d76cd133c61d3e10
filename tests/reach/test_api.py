"""The webhooks API end to end through the ASGI app: endpoints (the secret shown once),
rotation, enable and disable, deliveries and the resend of a dead letter."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import update

from newretail.bootstrap import Container
from newretail.core.database import session_scope, utcnow
from newretail.reach.models import WebhookDelivery
from newretail.tenancy.models import Role
from tests.conftest import Org, api_key_for
from tests.reach.helpers import T0, queue, run
from tests.reach.receiver import Receiver

BASE = "/api/v1/reach/webhooks"


def test_an_endpoint_shows_its_secret_once_then_only_its_prefix(
    client: TestClient, org: Org
) -> None:
    body = {
        "name": "Shop POS",
        "url": "https://pos.example.com/hooks",
        "purpose": "store_system",
        "store_id": str(org.store_ids[0]),
    }
    created = client.post(f"{BASE}/endpoints", headers=org.auth(), json=body)
    assert created.status_code == 201, created.text
    secret = created.json()["secret"]
    endpoint = created.json()["endpoint"]
    assert secret.startswith("whsec_")
    assert (endpoint["name"], endpoint["store_name"], endpoint["enabled"]) == (
        "Shop POS",
        "Store 0",
        True,
    )
    assert [s["prefix"] for s in endpoint["secrets"]] == [secret[:12]]
    listed = client.get(f"{BASE}/endpoints", headers=org.auth())
    assert [e["name"] for e in listed.json()] == ["Shop POS"]
    assert secret not in listed.text
    one = client.get(f"{BASE}/endpoints/{endpoint['id']}", headers=org.auth())
    assert secret not in one.text and one.json()["secrets"][0]["prefix"] == secret[:12]

    rotated = client.post(
        f"{BASE}/endpoints/{endpoint['id']}/rotate", headers=org.auth(), json={"keep_old_hours": 2}
    )
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["secret"]
    shown = rotated.json()["endpoint"]["secrets"]
    assert [s["prefix"] for s in shown] == [secret[:12], new[:12]]
    assert shown[0]["expires_at"] is not None and shown[1]["expires_at"] is None

    disabled = client.post(f"{BASE}/endpoints/{endpoint['id']}/disable", headers=org.auth())
    assert (disabled.json()["enabled"], disabled.json()["disabled_reason"]) == (False, "operator")
    enabled = client.post(f"{BASE}/endpoints/{endpoint['id']}/enable", headers=org.auth())
    assert (enabled.json()["enabled"], enabled.json()["disabled_reason"]) == (True, None)


def test_refusals_name_the_field_in_the_callers_language(
    client: TestClient, org: Org, other_org: Org
) -> None:
    plain = {"name": "SMS", "url": "http://sms.example.com/", "purpose": "sms"}
    refused = client.post(f"{BASE}/endpoints", headers=org.auth(), json=plain)
    assert refused.status_code == 422
    assert refused.json() == {
        "code": "webhook_endpoint_url_invalid",
        "message": "the URL must be https:// (http:// only for localhost or 127.0.0.1)",
        "field": "url",
    }
    chinese = client.post(
        f"{BASE}/endpoints", headers={**org.auth(), "Accept-Language": "zh-CN"}, json=plain
    )
    assert chinese.json()["message"] == (
        "URL 必须以 https:// 开头（仅 localhost 或 127.0.0.1 可用 http://）。"
    )
    analyst = api_key_for(client, org, Role.ANALYST)
    good = {**plain, "url": "https://sms.example.com/"}
    assert client.post(f"{BASE}/endpoints", headers=org.auth(analyst), json=good).status_code == 403
    created = client.post(f"{BASE}/endpoints", headers=org.auth(), json=good).json()["endpoint"]
    theirs = client.get(f"{BASE}/endpoints/{created['id']}", headers=other_org.auth())
    assert (theirs.status_code, theirs.json()["code"]) == (404, "webhook_endpoint_not_found")


def test_a_dead_delivery_is_resent_and_a_pending_one_is_not(
    client: TestClient, container: Container, org: Org
) -> None:
    receiver = Receiver().up()
    body = {"name": "SMS", "url": receiver.url, "purpose": "sms"}
    endpoint = client.post(f"{BASE}/endpoints", headers=org.auth(), json=body).json()["endpoint"]
    dead, pending = queue(container, org, 2)
    with session_scope(container.sessions, org.id) as session:
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.message_id == dead)
            .values(state="failed", attempts=13, last_status=500, next_attempt_at=None)
        )
    listed = client.get(
        f"{BASE}/deliveries", headers=org.auth(), params={"endpoint_id": endpoint["id"]}
    ).json()
    by_message = {d["message_id"]: d for d in listed}
    assert {m: (d["state"], d["endpoint_name"]) for m, d in by_message.items()} == {
        dead: ("failed", "SMS"),
        pending: ("pending", "SMS"),
    }
    failed = client.get(f"{BASE}/deliveries", headers=org.auth(), params={"state": "failed"})
    assert [d["message_id"] for d in failed.json()] == [dead]
    assert by_message[dead]["payload"] == {"member": "m0", "offer": "D11"}
    refused = client.post(
        f"{BASE}/deliveries/{by_message[pending]['id']}/resend", headers=org.auth()
    )
    assert (refused.status_code, refused.json()["code"], refused.json()["field"]) == (
        409,
        "webhook_delivery_not_resendable",
        "delivery",
    )
    resent = client.post(f"{BASE}/deliveries/{by_message[dead]['id']}/resend", headers=org.auth())
    assert resent.status_code == 200, resent.text
    shown = resent.json()
    assert (shown["state"], shown["attempts"], shown["message_id"]) == ("pending", 0, dead)
    assert shown["next_attempt_at"] > T0.isoformat()

    cancelled = client.post(
        f"{BASE}/deliveries/{by_message[pending]['id']}/cancel", headers=org.auth()
    )
    assert (cancelled.json()["state"], cancelled.json()["next_attempt_at"]) == ("cancelled", None)
    again = client.post(f"{BASE}/deliveries/{by_message[pending]['id']}/cancel", headers=org.auth())
    assert (again.status_code, again.json()["code"]) == (409, "webhook_delivery_not_cancellable")
    try:
        assert run(container, org, utcnow() + timedelta(seconds=1)) == 1  # the resent one only
    finally:
        receiver.down()
    assert receiver.counts == {dead: 1}
