"""Authentication: API keys and write keys (bearer/basic), console logins and sessions."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, object_session

from newretail.core.database import utcnow
from newretail.core.errors import AccountLocked, Forbidden, Unauthenticated
from newretail.core.security import (
    API_KEY_PREFIX,
    SESSION_PREFIX,
    WRITE_KEY_PREFIX,
    hash_password,
    new_token,
    token_hash,
    verify_password,
)
from newretail.tenancy.models import (
    ApiKey,
    Membership,
    Organization,
    Source,
    UserAccount,
    UserSession,
)
from newretail.tenancy.permissions import Principal, PrincipalKind

LAST_USED_RESOLUTION = timedelta(minutes=1)


@cache
def _dummy_hash() -> str:
    """Checked against when the e-mail is unknown, so the answer takes as long either way."""
    return hash_password(secrets.token_hex(16))


def authenticate_token(session: Session, token: str) -> Principal:
    """The principal behind an API key or a write key; 401 when unknown, revoked or expired."""
    if token.startswith(API_KEY_PREFIX):
        return _api_key_principal(session, token)
    if token.startswith(WRITE_KEY_PREFIX):
        return _write_key_principal(session, token)
    raise Unauthenticated("unknown credential", field="authorization")


def _api_key_principal(session: Session, token: str) -> Principal:
    key = session.scalar(
        select(ApiKey)
        .where(ApiKey.key_hash == token_hash(token))
        .execution_options(include_all_organizations=True)
    )
    now = utcnow()
    if key is None or key.revoked_at is not None:
        raise Unauthenticated("unknown or revoked API key", field="authorization")
    if key.expires_at is not None and key.expires_at <= now:
        raise Unauthenticated("API key expired", field="authorization")
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        key.last_used_at = now
    return Principal.for_role(
        PrincipalKind.API_KEY,
        key.organization_id,
        key.role,
        actor=f"api_key:{key.key_prefix}",
        store_ids=frozenset(s.id for s in key.stores),
    )


def _write_key_principal(session: Session, token: str) -> Principal:
    source = session.scalar(
        select(Source)
        .where(Source.write_key_hash == token_hash(token))
        .execution_options(include_all_organizations=True)
    )
    if source is None or source.revoked_at is not None:
        raise Unauthenticated("unknown or revoked write key", field="authorization")
    now = utcnow()
    if source.last_used_at is None or now - source.last_used_at > LAST_USED_RESOLUTION:
        source.last_used_at = now
    return Principal.for_source(source.organization_id, source.id, source.store_id)


# ---------------------------------------------------------------- console logins
@dataclass
class LoginResult:
    session_token: str
    user_session: UserSession


def login(
    session: Session,
    email: str,
    password: str,
    *,
    max_failures: int,
    lockout: timedelta,
    session_lifetime: timedelta,
) -> LoginResult:
    """Check a password with lock-out after repeated failures; start a session."""
    user = session.scalar(select(UserAccount).where(UserAccount.email == email.strip().lower()))
    now = utcnow()
    if user is None:
        verify_password(_dummy_hash(), password)
        raise Unauthenticated("wrong e-mail or password", field="password")
    if user.locked_until is not None and user.locked_until > now:
        raise AccountLocked("too many failed logins; try again later", field="email")
    if not verify_password(user.password_hash, password) or not user.is_active:
        user.failed_logins += 1
        if user.failed_logins >= max_failures:
            user.locked_until = now + lockout
            user.failed_logins = 0
        raise Unauthenticated("wrong e-mail or password", field="password")
    user.failed_logins = 0
    user.locked_until = None
    memberships = list_memberships(session, user.id)
    if not memberships:
        raise Forbidden("this login belongs to no organisation", field="email")
    token = new_token(SESSION_PREFIX)
    user_session = UserSession(
        token_hash=token_hash(token),
        user_id=user.id,
        organization_id=memberships[0][0].id,
        csrf_token=secrets.token_urlsafe(32),
        expires_at=now + session_lifetime,
    )
    session.add(user_session)
    session.execute(delete(UserSession).where(UserSession.expires_at < now))
    session.flush()
    return LoginResult(token, user_session)


def list_memberships(session: Session, user_id: uuid.UUID) -> list[tuple[Organization, Membership]]:
    """The organisations a login belongs to, by name."""
    rows = session.execute(
        select(Organization, Membership)
        .join(Membership, Membership.organization_id == Organization.id)
        .where(Membership.user_id == user_id)
        .order_by(Organization.name)
        .execution_options(include_all_organizations=True)
    )
    return [(row[0], row[1]) for row in rows]


@dataclass
class ConsoleIdentity:
    user: UserAccount
    user_session: UserSession
    organization: Organization
    principal: Principal
    organizations: list[Organization]
    _key_names: dict[str, str] | None = field(default=None, init=False, repr=False)

    @property
    def csrf_token(self) -> str:
        """The token every console form of this session carries."""
        return self.user_session.csrf_token

    @property
    def preferred_locale(self) -> str | None:
        """The language the user chose, if any."""
        return self.user.locale

    @property
    def time_zone(self) -> str | None:
        """The organisation's time zone: pages show its local times."""
        return self.organization.time_zone

    def actor_name(self, actor: str | None) -> str:
        """Who did something, as a page shows it: an API key by its name (recorded as
        `api_key:<prefix>`; the prefix only when the key is gone), a user by their email,
        anyone else (a job, the demo) as recorded."""
        if not actor:
            return "—"
        kind, _, value = actor.partition(":")
        if kind == "user" and value:
            return value
        if kind != "api_key" or not value:
            return actor
        if self._key_names is None:
            session = object_session(self.organization)
            assert session is not None  # the request's session holds the identity
            rows = session.execute(
                select(ApiKey.key_prefix, ApiKey.name).where(
                    ApiKey.organization_id == self.organization.id
                )
            )
            self._key_names = {prefix: name for prefix, name in rows}
        return self._key_names.get(value, value)


def resolve_session(session: Session, token: str) -> ConsoleIdentity:
    """The user, organisation and role behind a console session cookie."""
    user_session = session.scalar(
        select(UserSession).where(UserSession.token_hash == token_hash(token))
    )
    if user_session is None or user_session.expires_at <= utcnow():
        raise Unauthenticated("session expired", field="session")
    user = session.get(UserAccount, user_session.user_id)
    if user is None or not user.is_active:
        raise Unauthenticated("session expired", field="session")
    memberships = list_memberships(session, user.id)
    if not memberships:
        raise Unauthenticated("this login belongs to no organisation", field="session")
    current = next(
        ((o, m) for o, m in memberships if o.id == user_session.organization_id), memberships[0]
    )
    org, membership = current
    principal = Principal.for_role(
        PrincipalKind.USER,
        org.id,
        membership.role,
        actor=f"user:{user.email}",
        store_ids=frozenset(s.id for s in membership.stores),
        user_id=user.id,
    )
    return ConsoleIdentity(user, user_session, org, principal, [o for o, _ in memberships])


def switch_organization(
    session: Session, identity: ConsoleIdentity, organization_id: uuid.UUID
) -> None:
    """Point the session at another organisation the user belongs to."""
    if organization_id not in {o.id for o in identity.organizations}:
        raise Forbidden("you are not a member of that organisation", field="organization_id")
    identity.user_session.organization_id = organization_id
    session.flush()


def logout(session: Session, token: str) -> None:
    session.execute(delete(UserSession).where(UserSession.token_hash == token_hash(token)))
