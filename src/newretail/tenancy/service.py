"""Tenancy use cases: organisations, brands, stores, sources, users and API keys.

Callers own the transaction (services flush, never commit). Sessions passed in are scoped
to the principal's organisation, so lookups of another organisation's rows find nothing.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, nulls_last, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from newretail.core.database import scope_session, utcnow
from newretail.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from newretail.core.pagination import paginate
from newretail.core.security import (
    API_KEY_PREFIX,
    MIN_PASSWORD_LENGTH,
    WRITE_KEY_PREFIX,
    hash_password,
    new_token,
    token_display_prefix,
    token_hash,
)
from newretail.tenancy import schemas
from newretail.tenancy.models import (
    ApiKey,
    Brand,
    Membership,
    Organization,
    Role,
    Source,
    Store,
    UserAccount,
)
from newretail.tenancy.permissions import Permission, Principal, PrincipalKind


def _flush_unique(session: Session, field: str, message: str) -> None:
    """Flush, turning a unique-constraint violation into a 409 naming the field."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Conflict(message, field=field) from exc


def _apply(obj: Any, changes: dict[str, Any]) -> None:
    for name, value in changes.items():
        setattr(obj, name, value)
    if hasattr(obj, "updated_at"):
        obj.updated_at = utcnow()


def slugify(name: str) -> str:
    """A URL-safe slug (ASCII letters and digits; other scripts fall back to a random slug)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:60]
    return slug or f"org-{uuid.uuid4().hex[:8]}"


# ---------------------------------------------------------------- organisations
@dataclass
class NewOrganization:
    organization: Organization
    owner: UserAccount
    owner_password: str | None
    api_key: ApiKey
    api_key_token: str


def create_organization(
    session: Session,
    name: str,
    *,
    owner_email: str,
    owner_password: str | None,
    slug: str | None = None,
    default_locale: str = "en",
) -> NewOrganization:
    """Create an organisation with an owner login and an owner API key (shown once)."""
    name = name.strip()
    if not name:
        raise InvalidInput("must not be empty", field="name")
    org = Organization(name=name, slug=slug or slugify(name), default_locale=default_locale)
    session.add(org)
    _flush_unique(session, "slug", f"an organisation with slug {org.slug!r} exists")
    scope_session(session, org.id)
    owner_principal = Principal.for_role(
        kind=PrincipalKind.USER, organization_id=org.id, role=Role.OWNER, actor="operator"
    )
    existing = session.scalar(select(UserAccount).where(UserAccount.email == owner_email.lower()))
    if existing is None:
        if not owner_password or len(owner_password) < MIN_PASSWORD_LENGTH:
            raise InvalidInput(
                f"a new owner needs a password of {MIN_PASSWORD_LENGTH}+ characters",
                field="owner_password",
            )
        owner = _new_user_account(session, owner_email, owner_password, display_name="Owner")
    else:
        owner, owner_password = existing, None
    session.add(Membership(organization_id=org.id, user_id=owner.id, role=Role.OWNER))
    key, token = create_api_key(
        session, owner_principal, schemas.ApiKeyCreate(name="owner key", role=Role.OWNER)
    )
    return NewOrganization(org, owner, owner_password, key, token)


def get_organization(session: Session, organization_id: uuid.UUID) -> Organization:
    org = session.get(Organization, organization_id)
    if org is None:
        raise NotFound("organisation not found", field="organization_id")
    return org


def find_organization(session: Session, ref: str) -> Organization:
    """An organisation by id or slug (operator tools)."""
    query = select(Organization).where(Organization.slug == ref)
    with contextlib.suppress(ValueError):
        query = select(Organization).where(
            or_(Organization.slug == ref, Organization.id == uuid.UUID(ref))
        )
    org = session.scalar(query)
    if org is None:
        raise NotFound(f"no organisation {ref!r}", field="org")
    return org


def list_organizations(session: Session) -> Sequence[Organization]:
    """Every organisation (operator tools only)."""
    return session.scalars(select(Organization).order_by(Organization.name)).all()


# ---------------------------------------------------------------- brands
def list_brands(
    session: Session, limit: int, cursor: str | None, q: str | None = None
) -> tuple[list[Brand], str | None]:
    """Brands of the organisation, optionally filtered by a name or code substring."""
    statement = select(Brand)
    if q:
        statement = statement.where(or_(Brand.name.ilike(f"%{q}%"), Brand.code.ilike(f"%{q}%")))
    return paginate(session, statement, Brand, limit, cursor)


def get_brand(session: Session, brand_id: uuid.UUID) -> Brand:
    brand = session.get(Brand, brand_id)
    if brand is None:
        raise NotFound("brand not found", field="brand_id")
    return brand


def brand_by_code(session: Session, code: str) -> Brand:
    brand = session.scalar(select(Brand).where(Brand.code == code))
    if brand is None:
        raise NotFound(f"no brand with code {code!r}", field="brand")
    return brand


def create_brand(session: Session, principal: Principal, data: schemas.BrandCreate) -> Brand:
    principal.require(Permission.MANAGE_BRANDS)
    brand = Brand(organization_id=principal.organization_id, code=data.code, name=data.name)
    session.add(brand)
    _flush_unique(session, "code", f"a brand with code {data.code!r} exists")
    return brand


def update_brand(
    session: Session, principal: Principal, brand_id: uuid.UUID, data: schemas.BrandUpdate
) -> Brand:
    principal.require(Permission.MANAGE_BRANDS)
    brand = get_brand(session, brand_id)
    _apply(brand, data.model_dump(exclude_unset=True))
    _flush_unique(session, "code", f"a brand with code {data.code!r} exists")
    return brand


def delete_brand(session: Session, principal: Principal, brand_id: uuid.UUID) -> None:
    principal.require(Permission.MANAGE_BRANDS)
    session.delete(get_brand(session, brand_id))
    session.flush()


# ---------------------------------------------------------------- stores
@dataclass(frozen=True)
class StoreFilter:
    channel_type: str | None = None
    city: str | None = None
    brand_id: uuid.UUID | None = None
    status: str | None = None
    q: str | None = None


def _stores_in_scope(principal: Principal) -> Select[Store]:
    statement = select(Store)
    if principal.store_ids is not None:
        statement = statement.where(Store.id.in_(principal.store_ids))
    return statement


def _filtered_stores(principal: Principal, filters: StoreFilter) -> Select[Store]:
    statement = _stores_in_scope(principal)
    if filters.channel_type:
        statement = statement.where(Store.channel_type == filters.channel_type)
    if filters.city:
        statement = statement.where(Store.city == filters.city)
    if filters.brand_id:
        statement = statement.where(Store.brand_id == filters.brand_id)
    if filters.status:
        statement = statement.where(Store.status == filters.status)
    if filters.q:
        pattern = f"%{filters.q}%"
        statement = statement.where(
            or_(Store.name.ilike(pattern), Store.code.ilike(pattern), Store.address.ilike(pattern))
        )
    return statement


def list_stores(
    session: Session, principal: Principal, filters: StoreFilter, limit: int, cursor: str | None
) -> tuple[list[Store], str | None]:
    """Stores the principal may see, filtered."""
    return paginate(session, _filtered_stores(principal, filters), Store, limit, cursor)


def all_stores(session: Session, principal: Principal, filters: StoreFilter) -> Sequence[Store]:
    """Every store matching the filters, by city and name (console tables, exports)."""
    statement = _filtered_stores(principal, filters).order_by(
        nulls_last(Store.city.asc()), Store.name
    )
    return session.scalars(statement).all()


def list_cities(session: Session, principal: Principal) -> list[str]:
    statement = _stores_in_scope(principal).with_only_columns(Store.city).distinct()
    return sorted(c for c in session.scalars(statement) if c)


def get_store(session: Session, principal: Principal, store_id: uuid.UUID) -> Store:
    principal.require_store(store_id)
    store = session.get(Store, store_id)
    if store is None:
        raise NotFound("store not found", field="store_id")
    return store


def store_by_code(session: Session, code: str) -> Store:
    store = session.scalar(select(Store).where(Store.code == code))
    if store is None:
        raise NotFound(f"no store with code {code!r}", field="store")
    return store


def create_store(session: Session, principal: Principal, data: schemas.StoreCreate) -> Store:
    principal.require(Permission.MANAGE_STORES)
    if data.brand_id is not None:
        _brand_field(session, data.brand_id)
    store = Store(organization_id=principal.organization_id, **data.model_dump())
    session.add(store)
    _flush_unique(session, "code", f"a store with code {data.code!r} exists")
    return store


def update_store(
    session: Session, principal: Principal, store_id: uuid.UUID, data: schemas.StoreUpdate
) -> Store:
    principal.require(Permission.EDIT_STORES)
    store = get_store(session, principal, store_id)
    changes = data.model_dump(exclude_unset=True)
    for required in ("code", "name", "channel_type", "status", "opening_hours", "time_zone"):
        if required in changes and changes[required] is None:
            raise InvalidInput("must not be null", field=required)
    if changes.get("brand_id") is not None:
        _brand_field(session, changes["brand_id"])
    _apply(store, changes)
    if (store.latitude is None) != (store.longitude is None):
        raise InvalidInput("latitude and longitude go together", field="latitude")
    _flush_unique(session, "code", f"a store with code {data.code!r} exists")
    return store


def delete_store(session: Session, principal: Principal, store_id: uuid.UUID) -> None:
    principal.require(Permission.MANAGE_STORES)
    session.delete(get_store(session, principal, store_id))
    session.flush()


def _brand_field(session: Session, brand_id: uuid.UUID) -> Brand:
    brand = session.get(Brand, brand_id)
    if brand is None:
        raise InvalidInput("no such brand in this organisation", field="brand_id")
    return brand


def _stores_field(
    session: Session, principal: Principal, store_ids: Sequence[uuid.UUID]
) -> list[Store]:
    stores = list(session.scalars(select(Store).where(Store.id.in_(store_ids))))
    if len(stores) != len(set(store_ids)):
        raise InvalidInput("unknown store in this organisation", field="store_ids")
    for store in stores:
        if principal.store_ids is not None and store.id not in principal.store_ids:
            raise InvalidInput("store outside your scope", field="store_ids")
    return stores


# ---------------------------------------------------------------- sources
def list_sources(
    session: Session, principal: Principal, limit: int, cursor: str | None
) -> tuple[list[Source], str | None]:
    statement = select(Source)
    if principal.store_ids is not None:
        statement = statement.where(Source.store_id.in_(principal.store_ids))
    return paginate(session, statement, Source, limit, cursor)


_source_changes = [0]


def source_generation() -> int:
    """Grows whenever a source is changed or deleted here (in-process caches compare it)."""
    return _source_changes[0]


def get_source(session: Session, principal: Principal, source_id: uuid.UUID) -> Source:
    source = session.get(Source, source_id)
    if source is None or (
        principal.store_ids is not None and source.store_id not in principal.store_ids
    ):
        raise NotFound("source not found", field="source_id")
    return source


def create_source(
    session: Session, principal: Principal, data: schemas.SourceCreate
) -> tuple[Source, str]:
    """Create an event source; returns it with its write key (shown once)."""
    principal.require(Permission.MANAGE_SOURCES)
    if data.store_id is not None:
        _stores_field(session, principal, [data.store_id])
    token = new_token(WRITE_KEY_PREFIX)
    source = Source(
        organization_id=principal.organization_id,
        name=data.name,
        store_id=data.store_id,
        write_key_hash=token_hash(token),
        write_key_prefix=token_display_prefix(token, WRITE_KEY_PREFIX),
    )
    session.add(source)
    session.flush()
    return source, token


def update_source(
    session: Session, principal: Principal, source_id: uuid.UUID, data: schemas.SourceUpdate
) -> Source:
    principal.require(Permission.MANAGE_SOURCES)
    source = get_source(session, principal, source_id)
    if data.name is not None:
        source.name = data.name
    if data.revoked is True and source.revoked_at is None:
        source.revoked_at = utcnow()
    elif data.revoked is False:
        source.revoked_at = None
    source.updated_at = utcnow()
    session.flush()
    _source_changes[0] += 1
    return source


def delete_source(session: Session, principal: Principal, source_id: uuid.UUID) -> None:
    principal.require(Permission.MANAGE_SOURCES)
    session.delete(get_source(session, principal, source_id))
    session.flush()
    _source_changes[0] += 1


# ---------------------------------------------------------------- users
def _new_user_account(
    session: Session, email: str, password: str, display_name: str = "", locale: str | None = None
) -> UserAccount:
    user = UserAccount(
        email=email.lower(),
        password_hash=hash_password(password),
        display_name=display_name,
        locale=locale,
    )
    session.add(user)
    _flush_unique(session, "email", "this e-mail already has a NewRetail login")
    return user


def login_exists(session: Session, email: str) -> bool:
    return (
        session.scalar(select(UserAccount.id).where(UserAccount.email == email.lower())) is not None
    )


def user_read(membership: Membership) -> schemas.UserRead:
    user = membership.user
    return schemas.UserRead(
        id=user.id,
        email=user.email,
        display_name=user.display_name,
        role=Role(membership.role),
        store_ids=sorted(s.id for s in membership.stores),
        locale=user.locale,
        is_active=user.is_active,
        locked_until=user.locked_until,
        created_at=membership.created_at,
    )


def list_users(
    session: Session, principal: Principal, limit: int, cursor: str | None
) -> tuple[list[Membership], str | None]:
    principal.require(Permission.MANAGE_ACCESS)
    return paginate(session, select(Membership), Membership, limit, cursor)


def get_membership(session: Session, principal: Principal, user_id: uuid.UUID) -> Membership:
    principal.require(Permission.MANAGE_ACCESS)
    membership = session.scalar(select(Membership).where(Membership.user_id == user_id))
    if membership is None:
        raise NotFound("user not found", field="user_id")
    return membership


def _check_grant(principal: Principal, role: str) -> None:
    if not principal.may_grant(role):
        raise Forbidden(f"your role may not grant {role}", field="role")


def create_user(session: Session, principal: Principal, data: schemas.UserCreate) -> Membership:
    """A new console login with a role in this organisation."""
    principal.require(Permission.MANAGE_ACCESS)
    _check_grant(principal, data.role)
    stores = _stores_field(session, principal, data.store_ids) if data.store_ids else []
    if data.role == Role.STORE_MANAGER and not stores:
        raise InvalidInput("a store manager needs at least one store", field="store_ids")
    user = _new_user_account(session, data.email, data.password, data.display_name, data.locale)
    membership = Membership(
        organization_id=principal.organization_id, user_id=user.id, role=data.role
    )
    membership.stores = stores
    session.add(membership)
    session.flush()
    return membership


def add_existing_user(
    session: Session,
    principal: Principal,
    email: str,
    role: Role,
    store_ids: Sequence[uuid.UUID] = (),
) -> Membership:
    """Operator tool: give an existing login a role in another organisation."""
    principal.require(Permission.MANAGE_ACCESS)
    _check_grant(principal, role)
    user = session.scalar(select(UserAccount).where(UserAccount.email == email.lower()))
    if user is None:
        raise NotFound("no login with this e-mail", field="email")
    stores = _stores_field(session, principal, store_ids) if store_ids else []
    if role == Role.STORE_MANAGER and not stores:
        raise InvalidInput("a store manager needs at least one store", field="store_ids")
    membership = Membership(organization_id=principal.organization_id, user_id=user.id, role=role)
    membership.stores = stores
    session.add(membership)
    _flush_unique(session, "email", "this login is already a member")
    return membership


def update_user(
    session: Session, principal: Principal, user_id: uuid.UUID, data: schemas.UserUpdate
) -> Membership:
    membership = get_membership(session, principal, user_id)
    if membership.role == Role.OWNER or data.role == Role.OWNER:
        _check_grant(principal, Role.OWNER)
    changes = data.model_dump(exclude_unset=True)
    if "role" in changes:
        if changes["role"] is None:
            raise InvalidInput("must not be null", field="role")
        _check_grant(principal, changes["role"])
        membership.role = changes["role"]
    if changes.get("store_ids") is not None:
        membership.stores = _stores_field(session, principal, changes["store_ids"])
    if membership.role == Role.STORE_MANAGER and not membership.stores:
        raise InvalidInput("a store manager needs at least one store", field="store_ids")
    user = membership.user
    if "password" in changes and changes["password"] is not None:
        user.password_hash = hash_password(changes["password"])
        user.failed_logins, user.locked_until = 0, None
    for name in ("display_name", "locale", "is_active"):
        if name in changes and changes[name] is not None:
            setattr(user, name, changes[name])
    membership.updated_at = utcnow()
    session.flush()
    return membership


def delete_user(session: Session, principal: Principal, user_id: uuid.UUID) -> None:
    """Remove the user from this organisation (the login goes when it has no other)."""
    membership = get_membership(session, principal, user_id)
    if membership.role == Role.OWNER:
        _check_grant(principal, Role.OWNER)
        owners = session.scalar(
            select(func.count()).select_from(Membership).where(Membership.role == Role.OWNER)
        )
        if owners == 1:
            raise Conflict("the last owner cannot be removed", field="user_id")
    user = membership.user
    session.delete(membership)
    session.flush()
    others = session.scalar(
        select(func.count())
        .select_from(Membership)
        .where(Membership.user_id == user.id)
        .execution_options(include_all_organizations=True)
    )
    if others == 0:
        session.delete(user)
        session.flush()


# ---------------------------------------------------------------- API keys
def api_key_read(key: ApiKey) -> schemas.ApiKeyRead:
    return schemas.ApiKeyRead(
        id=key.id,
        name=key.name,
        role=Role(key.role),
        store_ids=sorted(s.id for s in key.stores),
        key_prefix=key.key_prefix,
        created_by=key.created_by,
        created_at=key.created_at,
        last_used_at=key.last_used_at,
        expires_at=key.expires_at,
        revoked_at=key.revoked_at,
    )


def list_api_keys(
    session: Session, principal: Principal, limit: int, cursor: str | None
) -> tuple[list[ApiKey], str | None]:
    principal.require(Permission.MANAGE_ACCESS)
    return paginate(session, select(ApiKey), ApiKey, limit, cursor)


def get_api_key(session: Session, principal: Principal, key_id: uuid.UUID) -> ApiKey:
    principal.require(Permission.MANAGE_ACCESS)
    key = session.get(ApiKey, key_id)
    if key is None:
        raise NotFound("API key not found", field="api_key_id")
    return key


def create_api_key(
    session: Session, principal: Principal, data: schemas.ApiKeyCreate
) -> tuple[ApiKey, str]:
    """A role-scoped API key; returns it with the secret (shown once, stored hashed)."""
    principal.require(Permission.MANAGE_ACCESS)
    _check_grant(principal, data.role)
    stores = _stores_field(session, principal, data.store_ids) if data.store_ids else []
    if data.role == Role.STORE_MANAGER and not stores:
        raise InvalidInput("a store manager key needs at least one store", field="store_ids")
    if data.expires_at is not None:
        if data.expires_at.tzinfo is None:
            raise InvalidInput("must include a time zone", field="expires_at")
        if data.expires_at <= utcnow():
            raise InvalidInput("must be in the future", field="expires_at")
    token = new_token(API_KEY_PREFIX)
    key = ApiKey(
        organization_id=principal.organization_id,
        name=data.name,
        role=data.role,
        key_hash=token_hash(token),
        key_prefix=token_display_prefix(token, API_KEY_PREFIX),
        created_by=principal.actor,
        expires_at=data.expires_at,
    )
    key.stores = stores
    session.add(key)
    session.flush()
    return key, token


def update_api_key(
    session: Session, principal: Principal, key_id: uuid.UUID, data: schemas.ApiKeyUpdate
) -> ApiKey:
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
        _check_grant(principal, Role.OWNER)
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
