"""Standard Webhooks signing: secrets `whsec_` + base64 of 32 random bytes, and the headers
`webhook-id`, `webhook-timestamp` (unix seconds) and `webhook-signature` (`v1,` + base64 of
HMAC-SHA256 over `{id}.{timestamp}.{body}`, one entry per secret, space separated)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

SECRET_PREFIX = "whsec_"  # noqa: S105 (the convention's prefix, not a secret)
SECRET_BYTES = 32  # the convention asks for 24 to 64
SHOWN_PREFIX_LENGTH = 12  # `whsec_` and six characters: enough to tell two secrets apart


def new_secret() -> str:
    """A fresh signing secret in the convention's form."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def shown_prefix(secret: str) -> str:
    """What the console, API and CLI show of a secret after it was shown once."""
    return secret[:SHOWN_PREFIX_LENGTH]


def secret_key_bytes(secret: str) -> bytes:
    """The HMAC key: the base64 part of `whsec_…` decoded."""
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def new_message_id() -> str:
    """A `webhook-id`: unique per message, the same on each of its attempts."""
    return f"msg_{uuid.uuid4().hex}"


def body_of(event_type: str, created_at: datetime, payload: dict[str, Any]) -> str:
    """The request body, the same bytes on every attempt: the convention's envelope
    (`type`, `timestamp`, `data`), compact JSON with sorted keys."""
    envelope = {"type": event_type, "timestamp": created_at.isoformat(), "data": payload}
    return json.dumps(envelope, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def signature(secret: str, message_id: str, timestamp: int, body: str) -> str:
    """One `v1,<base64>` entry."""
    signed = f"{message_id}.{timestamp}.{body}".encode()
    digest = hmac.new(secret_key_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secrets_: Sequence[str], message_id: str, timestamp: int, body: str) -> dict[str, str]:
    """The request's headers, signed by every secret given (an old and a new one while an
    endpoint's secret is rotated, so a receiver may verify with either)."""
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(
            signature(secret, message_id, timestamp, body) for secret in secrets_
        ),
    }
