"""API keys of an organisation: role-scoped, shown once, stored hashed, revoked not deleted.

Callers own the transaction (services flush, never commit).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from newretail.core.database import get_or_not_found, utcnow
from newretail.core.errors import InvalidInput
from newretail.core.pagination import paginate
from newretail.core.reads import read_of
from newretail.core.security import API_KEY_PREFIX, new_token, token_display_prefix, token_hash
from newretail.tenancy import grants, schemas
from newretail.tenancy.models import ApiKey, Role
from newretail.tenancy.permissions import Permission, Principal

_MISSING_STORE = "a store manager key needs at least one store"


@dataclass(frozen=True)
class IssuedKey:
    """A new secret key: the token is shown once; the hash and the display prefix are stored."""

    token: str
    token_hash: str
    display_prefix: str


def issue_key(kind_prefix: str) -> IssuedKey:
    """A new API key or source write key (`kind_prefix` tells which)."""
    token = new_token(kind_prefix)
    return IssuedKey(token, token_hash(token), token_display_prefix(token, kind_prefix))


def api_key_read(key: ApiKey) -> schemas.ApiKeyRead:
    """The API shape of a key (never its secret)."""
    return read_of(
        schemas.ApiKeyRead, key, role=Role(key.role), store_ids=sorted(s.id for s in key.stores)
    )


def list_api_keys(
    session: Session, principal: Principal, limit: int, cursor: str | None
) -> tuple[list[ApiKey], str | None]:
    """The organisation's API keys, revoked ones included."""
    principal.require(Permission.MANAGE_ACCESS)
    return paginate(session, select(ApiKey), ApiKey, limit, cursor)


def get_api_key(session: Session, principal: Principal, key_id: uuid.UUID) -> ApiKey:
    """One API key; 404 outside the organisation."""
    principal.require(Permission.MANAGE_ACCESS)
    return get_or_not_found(session, ApiKey, key_id, "API key", field="api_key_id")


def create_api_key(
    session: Session, principal: Principal, data: schemas.ApiKeyCreate
) -> tuple[ApiKey, str]:
    """A role-scoped API key; returns it with the secret (shown once, stored hashed)."""
    principal.require(Permission.MANAGE_ACCESS)
    stores = grants.stores_for_role(
        session,
        principal,
        data.role,
        data.store_ids,
        _MISSING_STORE,
    )
    if data.expires_at is not None:
        if data.expires_at.tzinfo is None:
            raise InvalidInput("must include a time zone", field="expires_at")
        if data.expires_at <= utcnow():
            raise InvalidInput("must be in the future", field="expires_at")
    issued = issue_key(API_KEY_PREFIX)
    key = ApiKey(
        organization_id=principal.organization_id,
        name=data.name,
        role=data.role,
        key_hash=issued.token_hash,
        key_prefix=issued.display_prefix,
        created_by=principal.actor,
        expires_at=data.expires_at,
    )
    key.stores = stores
    session.add(key)
    session.flush()
    return key, issued.token


def update_api_key(
    session: Session, principal: Principal, key_id: uuid.UUID, data: schemas.ApiKeyUpdate
) -> ApiKey:
    """Rename an API key."""
    key = get_api_key(session, principal, key_id)
    if data.name is not None:
        key.name = data.name
    key.updated_at = utcnow()
    session.flush()
    return key


def revoke_api_key(session: Session, principal: Principal, key_id: uuid.UUID) -> ApiKey:
    """Revoke at once; the row stays for the audit trail."""
    key = get_api_key(session, principal, key_id)
    if key.role == Role.OWNER:
        grants.check_grant(principal, Role.OWNER)
    if key.revoked_at is None:
        key.revoked_at = utcnow()
    session.flush()
    return key


def revoke_api_keys_named(session: Session, name: str) -> int:
    """Revoke every live key with this name in the session's organisation (demo restarts)."""
    keys = session.scalars(select(ApiKey).where(ApiKey.name == name, ApiKey.revoked_at.is_(None)))
    count = 0
    now: datetime = utcnow()
    for key in keys:
        key.revoked_at = now
        count += 1
    session.flush()
    return count
