"""Standard Webhooks signatures, checked by the reference library (`standardwebhooks`)."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from newretail.reach import signing

BODY = signing.body_of(
    "offer.delivered", datetime(2026, 11, 11, tzinfo=UTC), {"member": "m1", "offer": "D11"}
)


def test_a_secret_is_whsec_and_base64_of_32_random_bytes() -> None:
    secret = signing.new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert signing.new_secret() != secret
    assert signing.shown_prefix(secret) == secret[:12]


def test_the_body_is_the_conventions_envelope_in_compact_sorted_json() -> None:
    assert BODY == (
        '{"data":{"member":"m1","offer":"D11"},'
        '"timestamp":"2026-11-11T00:00:00+00:00","type":"offer.delivered"}'
    )


def test_the_reference_library_verifies_the_signature() -> None:
    secret = signing.new_secret()
    headers = signing.headers([secret], "msg_1", int(time.time()), BODY)
    assert Webhook(secret).verify(BODY, headers) == {
        "data": {"member": "m1", "offer": "D11"},
        "timestamp": "2026-11-11T00:00:00+00:00",
        "type": "offer.delivered",
    }
    assert headers["webhook-id"] == "msg_1"
    assert headers["webhook-signature"].startswith("v1,")
    with pytest.raises(WebhookVerificationError):
        Webhook(signing.new_secret()).verify(BODY, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(BODY.replace("D11", "D12"), headers)


def test_the_signature_matches_a_known_value() -> None:
    # the HMAC key is the base64 part; this pins the exact construction `id.timestamp.body`
    secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
    expected = Webhook(secret).sign("msg_1", datetime.fromtimestamp(1_700_000_000, UTC), "{}")
    assert signing.signature(secret, "msg_1", 1_700_000_000, "{}") == expected


def test_a_rotation_signs_with_both_secrets_and_each_verifies() -> None:
    old, new = signing.new_secret(), signing.new_secret()
    headers = signing.headers([old, new], "msg_2", int(time.time()), BODY)
    entries = headers["webhook-signature"].split(" ")
    assert [entry[:3] for entry in entries] == ["v1,", "v1,"]
    assert Webhook(old).verify(BODY, headers)["type"] == "offer.delivered"
    assert Webhook(new).verify(BODY, headers)["type"] == "offer.delivered"
