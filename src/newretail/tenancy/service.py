"""Tenancy use cases: organisations, brands, stores and sources.

Users are in users.py, API keys in api_keys.py.

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

from sqlalchemy import Select, nulls_last, or_, select
from sqlalchemy.orm import Session

from newretail.core.database import (
    add_unique,
    apply_changes,
    by_code_or_not_found,
    flush_or_raise,
    flush_unique,
    get_or_not_found,
    get_or_raise,
    partial_changes,
    scope_session,
    utcnow,
    where_given,
    where_text,
)
from newretail.core.errors import Conflict, InvalidInput, NotFound
from newretail.core.localtime import DEFAULT_ZONE
from newretail.core.pagination import paginate
from newretail.core.security import MIN_PASSWORD_LENGTH, WRITE_KEY_PREFIX
from newretail.tenancy import api_keys, grants, schemas, users
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
    add_unique(session, org, "slug", f"an organisation with slug {org.slug!r} exists")
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
        owner = users.new_user_account(session, owner_email, owner_password, display_name="Owner")
    else:
        owner, owner_password = existing, None
    session.add(Membership(organization_id=org.id, user_id=owner.id, role=Role.OWNER))
    key, token = api_keys.create_api_key(
        session, owner_principal, schemas.ApiKeyCreate(name="owner key", role=Role.OWNER)
    )
    return NewOrganization(org, owner, owner_password, key, token)


def get_organization(session: Session, organization_id: uuid.UUID) -> Organization:
    """The organisation with this id."""
    return get_or_not_found(
        session, Organization, organization_id, "organisation", field="organization_id"
    )


def organisation_zone(session: Session, organization_id: uuid.UUID) -> str:
    """The organisation's time zone, which names its local days (the default zone for an
    organisation that is gone)."""
    found = session.scalar(select(Organization.time_zone).where(Organization.id == organization_id))
    return found or DEFAULT_ZONE


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
    statement = where_text(select(Brand), q, Brand.name, Brand.code)
    return paginate(session, statement, Brand, limit, cursor)


BRAND_CHOICES = 500  # a console select or filter offers at most this many brands


def brand_choices(session: Session) -> list[Brand]:
    """The brands a console page offers as choices (the first `BRAND_CHOICES` in list order)."""
    return list_brands(session, BRAND_CHOICES, None)[0]


def get_brand(session: Session, brand_id: uuid.UUID) -> Brand:
    """The brand with this id; 404 outside the organisation."""
    return get_or_not_found(session, Brand, brand_id, "brand", field="brand_id")


def brand_by_code(session: Session, code: str) -> Brand:
    """The brand with this code (imports and the CLI)."""
    return by_code_or_not_found(session, Brand, code, "brand", field="brand")


def create_brand(session: Session, principal: Principal, data: schemas.BrandCreate) -> Brand:
    """Create a brand; its code is unique in the organisation."""
    principal.require(Permission.MANAGE_BRANDS)
    brand = Brand(organization_id=principal.organization_id, code=data.code, name=data.name)
    return add_unique(session, brand, "code", f"a brand with code {data.code!r} exists")


def update_brand(
    session: Session, principal: Principal, brand_id: uuid.UUID, data: schemas.BrandUpdate
) -> Brand:
    """Change a brand's code or name."""
    principal.require(Permission.MANAGE_BRANDS)
    brand = get_brand(session, brand_id)
    apply_changes(brand, partial_changes(data))
    flush_unique(session, "code", f"a brand with code {data.code!r} exists")
    return brand


def delete_brand(session: Session, principal: Principal, brand_id: uuid.UUID) -> None:
    """Delete a brand; 409 naming `brand_id` while offers, campaigns or other records still
    refer to it."""
    principal.require(Permission.MANAGE_BRANDS)
    session.delete(get_brand(session, brand_id))
    flush_or_raise(session, lambda: _still_referenced("brand", "brand_id"))


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
    statement = where_given(
        _stores_in_scope(principal),
        (Store.channel_type, filters.channel_type),
        (Store.city, filters.city),
        (Store.brand_id, filters.brand_id),
        (Store.status, filters.status),
    )
    return where_text(statement, filters.q, Store.name, Store.code, Store.address)


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


def organisation_stores(session: Session, principal: Principal) -> Sequence[Store]:
    """Every store of the principal's organisation, whatever the principal's own stores: the
    peers a store is compared with (shown only in aggregate), by code."""
    principal.require(Permission.READ)
    return session.scalars(select(Store).order_by(Store.code)).all()


def list_cities(session: Session, principal: Principal) -> list[str]:
    """The cities of the stores the principal may see, sorted."""
    statement = _stores_in_scope(principal).with_only_columns(Store.city).distinct()
    return sorted(c for c in session.scalars(statement) if c)


def get_store(session: Session, principal: Principal, store_id: uuid.UUID) -> Store:
    """A store the principal may see; 404 otherwise."""
    principal.require_store(store_id)
    return get_or_not_found(session, Store, store_id, "store", field="store_id")


def store_by_code(session: Session, code: str) -> Store:
    """The store with this code (imports and the CLI)."""
    return by_code_or_not_found(session, Store, code, "store", field="store")


def visible_store(session: Session, principal: Principal, reference: str) -> Store:
    """A store the principal may see, by its code or its id (404 naming `store` otherwise)."""
    try:
        store_id = uuid.UUID(reference)
    except ValueError:
        store_id = store_by_code(session, reference).id
    try:
        return get_store(session, principal, store_id)
    except NotFound as exc:
        raise NotFound(f"no store {reference!r}", field="store") from exc


def create_store(session: Session, principal: Principal, data: schemas.StoreCreate) -> Store:
    """Create a store of any channel type, optionally of one brand."""
    principal.require(Permission.MANAGE_STORES)
    if data.brand_id is not None:
        _brand_field(session, data.brand_id)
    store = Store(organization_id=principal.organization_id, **data.model_dump())
    return add_unique(session, store, "code", f"a store with code {data.code!r} exists")


def update_store(
    session: Session, principal: Principal, store_id: uuid.UUID, data: schemas.StoreUpdate
) -> Store:
    """Change a store's fields; latitude and longitude go together."""
    principal.require(Permission.EDIT_STORES)
    store = get_store(session, principal, store_id)
    not_null = ("code", "name", "channel_type", "status", "opening_hours", "time_zone")
    changes = partial_changes(data, not_null)
    if changes.get("brand_id") is not None:
        _brand_field(session, changes["brand_id"])
    apply_changes(store, changes)
    if (store.latitude is None) != (store.longitude is None):
        raise InvalidInput("latitude and longitude go together", field="latitude")
    flush_unique(session, "code", f"a store with code {data.code!r} exists")
    return store


def delete_store(session: Session, principal: Principal, store_id: uuid.UUID) -> None:
    """Delete a store; 409 naming `store_id` while orders, stock, sources or other records
    still refer to it (close it instead: `status` closed)."""
    principal.require(Permission.MANAGE_STORES)
    session.delete(get_store(session, principal, store_id))
    flush_or_raise(session, lambda: _still_referenced("store", "store_id"))


def _still_referenced(what: str, field: str) -> Conflict:
    return Conflict(f"other records still refer to this {what}; it cannot be deleted", field=field)


def _brand_field(session: Session, brand_id: uuid.UUID) -> Brand:
    return get_or_raise(
        session,
        Brand,
        brand_id,
        lambda: InvalidInput("no such brand in this organisation", field="brand_id"),
    )


# ---------------------------------------------------------------- sources
def list_sources(
    session: Session, principal: Principal, limit: int, cursor: str | None
) -> tuple[list[Source], str | None]:
    """Event sources the principal may see."""
    statement = select(Source)
    if principal.store_ids is not None:
        statement = statement.where(Source.store_id.in_(principal.store_ids))
    return paginate(session, statement, Source, limit, cursor)


_source_changes = [0]


def source_generation() -> int:
    """Grows whenever a source is changed or deleted here (in-process caches compare it)."""
    return _source_changes[0]


def get_source(session: Session, principal: Principal, source_id: uuid.UUID) -> Source:
    """A source the principal may see; 404 otherwise."""
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
        grants.stores_field(session, principal, [data.store_id])
    issued = api_keys.issue_key(WRITE_KEY_PREFIX)
    source = Source(
        organization_id=principal.organization_id,
        name=data.name,
        store_id=data.store_id,
        write_key_hash=issued.token_hash,
        write_key_prefix=issued.display_prefix,
    )
    session.add(source)
    session.flush()
    return source, issued.token


def update_source(
    session: Session, principal: Principal, source_id: uuid.UUID, data: schemas.SourceUpdate
) -> Source:
    """Rename a source, or revoke or restore its write key."""
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
    """Delete a source (its write key stops working)."""
    principal.require(Permission.MANAGE_SOURCES)
    session.delete(get_source(session, principal, source_id))
    session.flush()
    _source_changes[0] += 1
