"""REST API for tenancy: brands, stores, sources, users, API keys and the organisation."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from newretail.core.http import no_content, page
from newretail.core.pagination import Page
from newretail.tenancy import api_keys, organization_settings, schemas, service, users
from newretail.tenancy.dependencies import CurrentPrincipal, Cursor, Limit, SessionDep
from newretail.tenancy.models import ChannelType, StoreStatus
from newretail.tenancy.permissions import Permission

router = APIRouter(prefix="/api/v1")


# ---------------------------------------------------------------- organisation
@router.get("/organization", response_model=schemas.OrganizationRead, tags=["organization"])
def read_organization(session: SessionDep, principal: CurrentPrincipal) -> object:
    """The organisation the credential belongs to."""
    principal.require(Permission.READ)
    return service.get_organization(session, principal.organization_id)


@router.patch("/organization", response_model=schemas.OrganizationRead, tags=["organization"])
def update_organization(
    data: schemas.OrganizationUpdate, session: SessionDep, principal: CurrentPrincipal
) -> object:
    """Change the organisation's name, time zone or default language (owners and admins)."""
    return organization_settings.update_organization(session, principal, data)


# ---------------------------------------------------------------- brands
@router.get("/brands", response_model=Page[schemas.BrandRead], tags=["brands"])
def list_brands(
    session: SessionDep,
    principal: CurrentPrincipal,
    limit: Limit = 50,
    cursor: Cursor = None,
    q: Annotated[str | None, Query(description="Substring of name or code")] = None,
) -> object:
    """List brands."""
    principal.require(Permission.READ)
    return page(service.list_brands(session, limit, cursor, q))


@router.post("/brands", response_model=schemas.BrandRead, status_code=201, tags=["brands"])
def create_brand(
    session: SessionDep, principal: CurrentPrincipal, body: schemas.BrandCreate
) -> object:
    """Create a brand."""
    return service.create_brand(session, principal, body)


@router.get("/brands/{brand_id}", response_model=schemas.BrandRead, tags=["brands"])
def read_brand(session: SessionDep, principal: CurrentPrincipal, brand_id: uuid.UUID) -> object:
    """Read a brand."""
    principal.require(Permission.READ)
    return service.get_brand(session, brand_id)


@router.patch("/brands/{brand_id}", response_model=schemas.BrandRead, tags=["brands"])
def update_brand(
    session: SessionDep, principal: CurrentPrincipal, brand_id: uuid.UUID, body: schemas.BrandUpdate
) -> object:
    """Change a brand's code or name."""
    return service.update_brand(session, principal, brand_id, body)


@router.delete("/brands/{brand_id}", status_code=204, tags=["brands"])
def delete_brand(session: SessionDep, principal: CurrentPrincipal, brand_id: uuid.UUID) -> Response:
    """Delete a brand (its stores keep existing without a brand)."""
    service.delete_brand(session, principal, brand_id)
    return no_content()


# ---------------------------------------------------------------- stores
@router.get("/stores", response_model=Page[schemas.StoreRead], tags=["stores"])
def list_stores(
    session: SessionDep,
    principal: CurrentPrincipal,
    limit: Limit = 50,
    cursor: Cursor = None,
    channel_type: ChannelType | None = None,
    city: str | None = None,
    brand_id: uuid.UUID | None = None,
    status: StoreStatus | None = None,
    q: Annotated[str | None, Query(description="Substring of name, code or address")] = None,
) -> object:
    """List stores in the caller's scope, filtered by channel type, city, brand, status."""
    principal.require(Permission.READ)
    filters = service.StoreFilter(channel_type, city, brand_id, status, q)
    return page(service.list_stores(session, principal, filters, limit, cursor))


@router.post("/stores", response_model=schemas.StoreRead, status_code=201, tags=["stores"])
def create_store(
    session: SessionDep, principal: CurrentPrincipal, body: schemas.StoreCreate
) -> object:
    """Create a store of any channel type."""
    return service.create_store(session, principal, body)


@router.get("/stores/{store_id}", response_model=schemas.StoreRead, tags=["stores"])
def read_store(session: SessionDep, principal: CurrentPrincipal, store_id: uuid.UUID) -> object:
    """Read a store."""
    principal.require(Permission.READ)
    return service.get_store(session, principal, store_id)


@router.patch("/stores/{store_id}", response_model=schemas.StoreRead, tags=["stores"])
def update_store(
    session: SessionDep, principal: CurrentPrincipal, store_id: uuid.UUID, body: schemas.StoreUpdate
) -> object:
    """Change a store's fields (store managers: their own stores only)."""
    return service.update_store(session, principal, store_id, body)


@router.delete("/stores/{store_id}", status_code=204, tags=["stores"])
def delete_store(session: SessionDep, principal: CurrentPrincipal, store_id: uuid.UUID) -> Response:
    """Delete a store."""
    service.delete_store(session, principal, store_id)
    return no_content()


# ---------------------------------------------------------------- sources
@router.get("/sources", response_model=Page[schemas.SourceRead], tags=["sources"])
def list_sources(
    session: SessionDep, principal: CurrentPrincipal, limit: Limit = 50, cursor: Cursor = None
) -> object:
    """List event sources."""
    principal.require(Permission.READ)
    return page(service.list_sources(session, principal, limit, cursor))


@router.post("/sources", response_model=schemas.SourceCreated, status_code=201, tags=["sources"])
def create_source(
    session: SessionDep, principal: CurrentPrincipal, body: schemas.SourceCreate
) -> object:
    """Create an event source; the write key is in this answer only."""
    source, token = service.create_source(session, principal, body)
    return schemas.SourceCreated(
        **schemas.SourceRead.model_validate(source).model_dump(), write_key=token
    )


@router.get("/sources/{source_id}", response_model=schemas.SourceRead, tags=["sources"])
def read_source(session: SessionDep, principal: CurrentPrincipal, source_id: uuid.UUID) -> object:
    """Read an event source."""
    principal.require(Permission.READ)
    return service.get_source(session, principal, source_id)


@router.patch("/sources/{source_id}", response_model=schemas.SourceRead, tags=["sources"])
def update_source(
    session: SessionDep,
    principal: CurrentPrincipal,
    source_id: uuid.UUID,
    body: schemas.SourceUpdate,
) -> object:
    """Rename a source or revoke (and restore) its write key."""
    return service.update_source(session, principal, source_id, body)


@router.delete("/sources/{source_id}", status_code=204, tags=["sources"])
def delete_source(
    session: SessionDep, principal: CurrentPrincipal, source_id: uuid.UUID
) -> Response:
    """Delete a source; its write key stops working."""
    service.delete_source(session, principal, source_id)
    return no_content()


# ---------------------------------------------------------------- users
@router.get("/users", response_model=Page[schemas.UserRead], tags=["users"])
def list_users(
    session: SessionDep, principal: CurrentPrincipal, limit: Limit = 50, cursor: Cursor = None
) -> object:
    """List the organisation's console users and their roles."""
    return page(users.list_users(session, principal, limit, cursor), users.user_read)


@router.post("/users", response_model=schemas.UserRead, status_code=201, tags=["users"])
def create_user(
    session: SessionDep, principal: CurrentPrincipal, body: schemas.UserCreate
) -> object:
    """Create a console login with a role in this organisation."""
    return users.user_read(users.create_user(session, principal, body))


@router.get("/users/{user_id}", response_model=schemas.UserRead, tags=["users"])
def read_user(session: SessionDep, principal: CurrentPrincipal, user_id: uuid.UUID) -> object:
    """Read a user."""
    return users.user_read(users.get_membership(session, principal, user_id))


@router.patch("/users/{user_id}", response_model=schemas.UserRead, tags=["users"])
def update_user(
    session: SessionDep, principal: CurrentPrincipal, user_id: uuid.UUID, body: schemas.UserUpdate
) -> object:
    """Change a user's role, stores, name, locale, password or active flag."""
    return users.user_read(users.update_user(session, principal, user_id, body))


@router.delete("/users/{user_id}", status_code=204, tags=["users"])
def delete_user(session: SessionDep, principal: CurrentPrincipal, user_id: uuid.UUID) -> Response:
    """Remove a user from this organisation."""
    users.delete_user(session, principal, user_id)
    return no_content()


# ---------------------------------------------------------------- API keys
@router.get("/api-keys", response_model=Page[schemas.ApiKeyRead], tags=["api-keys"])
def list_api_keys(
    session: SessionDep, principal: CurrentPrincipal, limit: Limit = 50, cursor: Cursor = None
) -> object:
    """List API keys (secrets are never shown again)."""
    return page(api_keys.list_api_keys(session, principal, limit, cursor), api_keys.api_key_read)


@router.post("/api-keys", response_model=schemas.ApiKeyCreated, status_code=201, tags=["api-keys"])
def create_api_key(
    session: SessionDep, principal: CurrentPrincipal, body: schemas.ApiKeyCreate
) -> object:
    """Create a role-scoped API key; the key is in this answer only."""
    key, token = api_keys.create_api_key(session, principal, body)
    return schemas.ApiKeyCreated(**api_keys.api_key_read(key).model_dump(), key=token)


@router.get("/api-keys/{api_key_id}", response_model=schemas.ApiKeyRead, tags=["api-keys"])
def read_api_key(session: SessionDep, principal: CurrentPrincipal, api_key_id: uuid.UUID) -> object:
    """Read an API key's metadata."""
    return api_keys.api_key_read(api_keys.get_api_key(session, principal, api_key_id))


@router.patch("/api-keys/{api_key_id}", response_model=schemas.ApiKeyRead, tags=["api-keys"])
def update_api_key(
    session: SessionDep,
    principal: CurrentPrincipal,
    api_key_id: uuid.UUID,
    body: schemas.ApiKeyUpdate,
) -> object:
    """Rename an API key."""
    return api_keys.api_key_read(api_keys.update_api_key(session, principal, api_key_id, body))


@router.delete("/api-keys/{api_key_id}", status_code=204, tags=["api-keys"])
def revoke_api_key(
    session: SessionDep, principal: CurrentPrincipal, api_key_id: uuid.UUID
) -> Response:
    """Revoke an API key at once (it stays listed with its revocation time)."""
    api_keys.revoke_api_key(session, principal, api_key_id)
    return no_content()
