"""Webhook endpoints: create (the secret shown once), enable and disable, rotate the signing
secret (the old one keeps signing for a while, so receivers can switch), and the secrets an
attempt signs with."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from functools import partial

import httpx
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from newretail.core.database import by_id_or_name, get_or_raise, utcnow
from newretail.reach import schemas, signing
from newretail.reach.errors import EndpointNotFound, EndpointUrlInvalid
from newretail.reach.models import WebhookEndpoint, WebhookSecret
from newretail.reach.secret_box import SecretBox
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.permissions import Permission, Principal

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


class DisabledReason(StrEnum):
    RECEIVER_GONE = "receiver_gone"  # the receiver answered 410 Gone
    OPERATOR = "operator"


def checked_url(url: str) -> str:
    """An absolute https URL (http only on a loopback host, for tests and local relays)."""
    try:
        parsed = httpx.URL(url.strip())
    except (httpx.InvalidURL, ValueError) as exc:
        raise EndpointUrlInvalid() from exc
    secure = parsed.scheme == "https" or (parsed.scheme == "http" and parsed.host in LOOPBACK_HOSTS)
    if not secure or not parsed.host:
        raise EndpointUrlInvalid()
    return str(parsed)


def list_endpoints(session: Session) -> Sequence[WebhookEndpoint]:
    """The organisation's endpoints by name."""
    return session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.name)).all()


def get_endpoint(session: Session, endpoint_id: uuid.UUID) -> WebhookEndpoint:
    """One endpoint of the organisation."""
    return get_or_raise(session, WebhookEndpoint, endpoint_id, EndpointNotFound)


def endpoint_by_ref(session: Session, ref: str) -> WebhookEndpoint:
    """An endpoint by id or by name (the CLI)."""
    return by_id_or_name(
        session, WebhookEndpoint, ref, partial(get_endpoint, session), EndpointNotFound
    )


def _add_secret(session: Session, endpoint: WebhookEndpoint, box: SecretBox, now: datetime) -> str:
    secret = signing.new_secret()
    endpoint.secrets.append(
        WebhookSecret(
            organization_id=endpoint.organization_id,
            sealed=box.seal(secret),
            prefix=signing.shown_prefix(secret),
            created_at=now,
        )
    )
    session.flush()
    return secret


def create_endpoint(
    session: Session, principal: Principal, box: SecretBox, data: schemas.EndpointCreate
) -> tuple[WebhookEndpoint, str]:
    """Register a receiver; returns it and its signing secret, which is shown this once."""
    principal.require(Permission.MANAGE_MARKETING)
    if data.store_id is not None:
        tenancy_service.get_store(session, principal, data.store_id)
    endpoint = WebhookEndpoint(
        organization_id=principal.organization_id,
        name=data.name.strip(),
        url=checked_url(data.url),
        purpose=data.purpose,
        store_id=data.store_id,
        enabled=True,
    )
    session.add(endpoint)
    session.flush()
    return endpoint, _add_secret(session, endpoint, box, utcnow())


def set_enabled(
    session: Session, principal: Principal, endpoint_id: uuid.UUID, enabled: bool
) -> WebhookEndpoint:
    """Enable (its held deliveries go out at the sender's next run) or disable an endpoint."""
    principal.require(Permission.MANAGE_MARKETING)
    endpoint = get_endpoint(session, endpoint_id)
    if enabled:
        endpoint.enabled, endpoint.disabled_reason, endpoint.disabled_at = True, None, None
    elif endpoint.enabled:
        disable(endpoint, DisabledReason.OPERATOR, utcnow())
    session.flush()
    return endpoint


def disable(endpoint: WebhookEndpoint, reason: DisabledReason, now: datetime) -> None:
    """Stop sending to the endpoint; its pending deliveries wait until it is enabled."""
    endpoint.enabled = False
    endpoint.disabled_reason = reason
    endpoint.disabled_at = now


def rotate_secret(
    session: Session,
    principal: Principal,
    box: SecretBox,
    endpoint_id: uuid.UUID,
    keep_old_hours: int,
    now: datetime | None = None,
) -> tuple[WebhookEndpoint, str]:
    """A new signing secret (shown this once); the current ones keep signing beside it for
    `keep_old_hours` hours, then are dropped (at once with 0)."""
    principal.require(Permission.MANAGE_MARKETING)
    now = now or utcnow()
    endpoint = get_endpoint(session, endpoint_id)
    until = now + timedelta(hours=keep_old_hours)
    for old in endpoint.secrets:
        if old.expires_at is None or old.expires_at > until:
            old.expires_at = until
    secret = _add_secret(session, endpoint, box, now)
    drop_expired_secrets(session, now)
    session.refresh(endpoint)
    return endpoint, secret


def signing_secrets(endpoint: WebhookEndpoint, box: SecretBox, now: datetime) -> list[str]:
    """The secrets an attempt made at `now` signs with, oldest first."""
    return [
        box.open(s.sealed) for s in endpoint.secrets if s.expires_at is None or s.expires_at > now
    ]


def drop_expired_secrets(session: Session, now: datetime) -> int:
    """Delete the old secrets of rotations whose overlap has ended."""
    result = session.execute(
        delete(WebhookSecret)
        .where(WebhookSecret.expires_at.is_not(None), WebhookSecret.expires_at <= now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
