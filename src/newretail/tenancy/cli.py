"""Operator commands: organisations, brands, stores, sources, users and API keys."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

import typer

from newretail.core.cli import Json, OrgRef, api_json, command, emit, out, table
from newretail.core.database import scope_session, session_scope
from newretail.core.limits import PAGE_SIZE_MAX
from newretail.core.localtime import DEFAULT_ZONE
from newretail.tenancy import api_keys, schemas, service, users
from newretail.tenancy.models import ChannelType, Role
from newretail.tenancy.operator import operator_session, ready_container

org_app = typer.Typer(help="Organisations (tenants)", no_args_is_help=True)
brand_app = typer.Typer(help="Brands of an organisation", no_args_is_help=True)
store_app = typer.Typer(help="Stores of every channel", no_args_is_help=True)
source_app = typer.Typer(help="Event sources and their write keys", no_args_is_help=True)
user_app = typer.Typer(help="Console users", no_args_is_help=True)
api_key_app = typer.Typer(help="API keys", no_args_is_help=True)


@command(org_app, "create")
def org_create(
    ctx: typer.Context,
    name: str,
    slug: Annotated[str | None, typer.Option(help="URL name; derived from NAME")] = None,
    owner_email: Annotated[str, typer.Option(help="Owner's console login")] = "",
    owner_password: Annotated[str | None, typer.Option(help="Generated when omitted")] = None,
    as_json: Json = False,
) -> None:
    """Create an organisation; prints its id, an owner API key and the console login."""
    container = ready_container(ctx)
    org_slug = slug or service.slugify(name)
    email = owner_email or f"owner@{org_slug}.example.com"
    password = owner_password or secrets.token_urlsafe(12)
    try:
        with session_scope(container.sessions) as session:
            created = service.create_organization(
                scope_session(session, None),
                name,
                owner_email=email,
                owner_password=password,
                slug=org_slug,
            )
    finally:
        container.close()
    result = {
        "organization_id": str(created.organization.id),
        "slug": created.organization.slug,
        "api_key": created.api_key_token,
        "console_login": {"email": created.owner.email, "password": created.owner_password},
    }

    def human() -> None:
        out.print(
            f"Organisation [bold]{name}[/bold] ({result['slug']}): {result['organization_id']}"
        )
        out.print(f"Owner API key (shown once): [bold]{created.api_key_token}[/bold]")
        shown = created.owner_password or "(existing login, password unchanged)"
        out.print(f"Console login: {created.owner.email} / {shown}")

    emit(result, as_json, human)


@command(org_app, "list")
def org_list(ctx: typer.Context, as_json: Json = False) -> None:
    """List organisations."""
    container = ready_container(ctx)
    try:
        with session_scope(container.sessions) as session:
            orgs = service.list_organizations(scope_session(session, None))
            rows = [{"id": str(o.id), "slug": o.slug, "name": o.name} for o in orgs]
    finally:
        container.close()
    emit(
        rows,
        as_json,
        lambda: table("Organisations", ["id", "slug", "name"], [list(r.values()) for r in rows]),
    )


@command(brand_app, "create")
def brand_create(
    ctx: typer.Context, org: OrgRef, code: str, name: str, as_json: Json = False
) -> None:
    """Create a brand."""
    with operator_session(ctx, org) as (_, session, principal):
        brand = service.create_brand(session, principal, schemas.BrandCreate(code=code, name=name))
        data = api_json(schemas.BrandRead, brand)
    emit(data, as_json, lambda: out.print(f"Brand {code}: {data['id']}"))


@command(brand_app, "list")
def brand_list(
    ctx: typer.Context,
    org: OrgRef,
    search: Annotated[str | None, typer.Option(help="A part of the name or code")] = None,
    as_json: Json = False,
) -> None:
    """List the organisation's brands (codes are what `diagnosis brand` and `store create
    --brand` take)."""
    with operator_session(ctx, org) as (_, session, _principal):
        brands: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            page, cursor = service.list_brands(session, PAGE_SIZE_MAX, cursor, search)
            brands += [api_json(schemas.BrandRead, b) for b in page]
            if cursor is None:
                break
    emit(
        brands,
        as_json,
        lambda: table("Brands", ["code", "name"], [[b["code"], b["name"]] for b in brands]),
    )


@command(store_app, "create")
def store_create(
    ctx: typer.Context,
    org: OrgRef,
    code: Annotated[str, typer.Option()],
    name: Annotated[str, typer.Option()],
    channel_type: Annotated[ChannelType, typer.Option()],
    brand: Annotated[str | None, typer.Option(help="Brand code")] = None,
    city: Annotated[str | None, typer.Option()] = None,
    district: Annotated[str | None, typer.Option()] = None,
    address: Annotated[str | None, typer.Option()] = None,
    latitude: Annotated[float | None, typer.Option()] = None,
    longitude: Annotated[float | None, typer.Option()] = None,
    category: Annotated[str | None, typer.Option()] = None,
    time_zone: Annotated[str, typer.Option()] = DEFAULT_ZONE,
    as_json: Json = False,
) -> None:
    """Create a store of any channel type."""
    with operator_session(ctx, org) as (_, session, principal):
        brand_id = service.brand_by_code(session, brand).id if brand else None
        store = service.create_store(
            session,
            principal,
            schemas.StoreCreate(
                code=code,
                name=name,
                channel_type=channel_type,
                brand_id=brand_id,
                city=city,
                district=district,
                address=address,
                latitude=latitude,
                longitude=longitude,
                category=category,
                time_zone=time_zone,
            ),
        )
        data = api_json(schemas.StoreRead, store)
    emit(data, as_json, lambda: out.print(f"Store {code}: {data['id']}"))


@command(store_app, "list")
def store_list(
    ctx: typer.Context,
    org: OrgRef,
    channel_type: Annotated[ChannelType | None, typer.Option()] = None,
    city: Annotated[str | None, typer.Option()] = None,
    as_json: Json = False,
) -> None:
    """List stores, filtered by channel type and city."""
    with operator_session(ctx, org) as (_, session, principal):
        stores = service.all_stores(
            session, principal, service.StoreFilter(channel_type=channel_type, city=city)
        )
        rows = [api_json(schemas.StoreRead, s) for s in stores]
    emit(
        rows,
        as_json,
        lambda: table(
            "Stores",
            ["code", "name", "channel", "city", "district"],
            [[r["code"], r["name"], r["channel_type"], r["city"], r["district"]] for r in rows],
        ),
    )


@command(source_app, "create")
def source_create(
    ctx: typer.Context,
    org: OrgRef,
    name: str,
    store: Annotated[str | None, typer.Option(help="Store code this source sends for")] = None,
    as_json: Json = False,
) -> None:
    """Create an event source; prints its write key (shown once)."""
    with operator_session(ctx, org) as (_, session, principal):
        store_id = service.store_by_code(session, store).id if store else None
        source, token = service.create_source(
            session, principal, schemas.SourceCreate(name=name, store_id=store_id)
        )
        data = {
            **api_json(schemas.SourceRead, source),
            "write_key": token,
        }
    emit(
        data,
        as_json,
        lambda: out.print(f"Source {name}: {data['id']}\nWrite key (shown once): {token}"),
    )


@command(user_app, "create")
def user_create(
    ctx: typer.Context,
    org: OrgRef,
    email: str,
    role: Annotated[Role, typer.Option()],
    password: Annotated[str | None, typer.Option(help="Generated when omitted")] = None,
    store: Annotated[list[str] | None, typer.Option(help="Store code (store managers)")] = None,
    as_json: Json = False,
) -> None:
    """Create a console user, or add an existing login to this organisation."""
    with operator_session(ctx, org) as (_, session, principal):
        store_ids = [service.store_by_code(session, c).id for c in store or []]
        if users.login_exists(session, email):
            membership = users.add_existing_user(session, principal, email, role, store_ids)
            shown_password = None
        else:
            shown_password = password or secrets.token_urlsafe(12)
            membership = users.create_user(
                session,
                principal,
                schemas.UserCreate(
                    email=email, password=shown_password, role=role, store_ids=store_ids
                ),
            )
        data = {**users.user_read(membership).model_dump(mode="json"), "password": shown_password}
    emit(
        data,
        as_json,
        lambda: out.print(
            f"User {data['email']} ({role.value}): {data['id']}"
            + (f"\nPassword: {shown_password}" if shown_password else " (existing login)")
        ),
    )


@command(api_key_app, "create")
def api_key_create(
    ctx: typer.Context,
    org: OrgRef,
    name: str,
    role: Annotated[Role, typer.Option()] = Role.ADMIN,
    store: Annotated[list[str] | None, typer.Option(help="Store code (store managers)")] = None,
    as_json: Json = False,
) -> None:
    """Create an API key; prints it once."""
    with operator_session(ctx, org) as (_, session, principal):
        store_ids = [service.store_by_code(session, c).id for c in store or []]
        key, token = api_keys.create_api_key(
            session, principal, schemas.ApiKeyCreate(name=name, role=role, store_ids=store_ids)
        )
        data = {**api_keys.api_key_read(key).model_dump(mode="json"), "key": token}
    emit(data, as_json, lambda: out.print(f"API key {name} ({role.value}), shown once: {token}"))
