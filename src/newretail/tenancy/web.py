"""Tenancy's console pages: sign in and out, organisation and language switch, the stores."""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import uuid
import zoneinfo
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from newretail.console.forms import attempt, render_form
from newretail.console.shell import (
    HOME,
    LOCALE_COOKIE,
    LOGIN,
    SESSION_COOKIE,
    Form,
    check_csrf,
    page_locale,
    redirect,
    render,
)
from newretail.core.errors import AccountLocked, NewRetailError, NotFound
from newretail.core.http import supplied
from newretail.core.i18n import LOCALES
from newretail.core.ratelimit import Decision, RateLimits, limit_key
from newretail.tenancy import auth, organization_settings, service, store_form
from newretail.tenancy.dependencies import ContainerDep, Identity, SessionDep, posted_by
from newretail.tenancy.models import ChannelType, StoreStatus
from newretail.tenancy.permissions import Permission
from newretail.tenancy.schemas import OrganizationUpdate, StoreCreate, StoreUpdate

LOGIN_CSRF_COOKIE = "nr_login_csrf"

router = APIRouter(prefix="/console", include_in_schema=False)


# ---------------------------------------------------------------- login
def _login_csrf_pair(secret: str) -> tuple[str, str]:
    nonce = secrets.token_urlsafe(24)
    signature = hmac.new(secret.encode(), nonce.encode(), hashlib.sha256).hexdigest()
    return nonce, f"{nonce}.{signature}"


def _login_csrf_valid(secret: str, cookie: str | None, submitted: str | None) -> bool:
    if not cookie or not submitted or "." not in cookie:
        return False
    nonce, signature = cookie.rsplit(".", 1)
    expected = hmac.new(secret.encode(), nonce.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(signature, expected) and hmac.compare_digest(nonce, submitted)


def _login_page(
    request: Request,
    container: ContainerDep,
    error: str | None = None,
    status_code: int = 200,
    locale: str | None = None,
    **error_values: object,
) -> HTMLResponse:
    nonce, cookie = _login_csrf_pair(container.settings.session_secret())
    response = render(
        request,
        "tenancy/login.html",
        None,
        status_code,
        locale,
        csrf_token=nonce,
        error=error,
        error_values=error_values,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        cookie,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.get("/login")
def login_form(request: Request, container: ContainerDep, lang: str | None = None) -> Response:
    """The sign-in page (`?lang=` chooses its language)."""
    chosen = lang if lang in LOCALES else None
    response = _login_page(request, container, locale=chosen)
    if chosen:
        response.set_cookie(LOCALE_COOKIE, chosen, samesite="lax", max_age=365 * 86400)
    return response


@router.post("/login")
def login_submit(
    request: Request, container: ContainerDep, session: SessionDep, form: Form
) -> Response:
    """Sign in with email and password; failures count towards a lockout."""
    settings = container.settings
    if not _login_csrf_valid(
        settings.session_secret(), request.cookies.get(LOGIN_CSRF_COOKIE), form.get("csrf_token")
    ):
        return _login_page(request, container, "login.csrf", 403)
    limits: RateLimits = supplied(request, "rate_limits", "newretail.main")
    address_key = limit_key("login", request.client.host if request.client else "unknown")
    address_rate = settings.login_address_rate()
    waiting = limits.check(address_key, address_rate, take=False)
    if not waiting.admitted:  # too many failures from this address: no password is checked
        return _too_many_sign_ins(request, container, waiting)
    try:
        result = auth.login(
            session,
            form.get("email", ""),
            form.get("password", ""),
            max_failures=settings.login_max_failures,
            lockout=timedelta(minutes=settings.login_lockout_minutes),
            session_lifetime=timedelta(hours=settings.session_hours),
        )
    except AccountLocked:
        limits.check(address_key, address_rate)
        return _login_page(request, container, "login.locked", 423)
    except NewRetailError:  # the request's transaction keeps the failure count
        limits.check(address_key, address_rate)
        return _login_page(request, container, "login.failed", 401)
    response = redirect(HOME)
    response.set_cookie(
        SESSION_COOKIE,
        result.session_token,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        max_age=settings.session_hours * 3600,
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE)
    return response


def _too_many_sign_ins(request: Request, container: ContainerDep, waiting: Decision) -> Response:
    response = _login_page(
        request,
        container,
        "login.rate_limited",
        429,
        minutes=max(1, math.ceil(waiting.retry_after / 60)),
    )
    response.headers["Retry-After"] = str(waiting.retry_after_seconds)
    return response


@router.post("/logout")
def logout(request: Request, session: SessionDep, identity: Identity, form: Form) -> Response:
    """End the console session."""
    check_csrf(identity, form)
    auth.logout(session, request.cookies.get(SESSION_COOKIE, ""))
    response = redirect(LOGIN)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.post("/organization")
def switch_organization(session: SessionDep, identity: Identity, form: Form) -> Response:
    """Work in another organisation the user belongs to."""
    check_csrf(identity, form)
    try:
        organization_id = uuid.UUID(form.get("organization_id", ""))
    except ValueError as exc:
        raise NotFound("organisation not found", field="organization_id") from exc
    auth.switch_organization(session, identity, organization_id)
    return redirect(HOME)


@router.post("/preferences/locale")
def set_locale(request: Request, identity: Identity, form: Form) -> Response:
    """Remember the user's language."""
    check_csrf(identity, form)
    locale = form.get("locale")
    if locale in LOCALES:
        identity.user.locale = locale
    return redirect(request.headers.get("referer") or HOME)


# ---------------------------------------------------------------- settings
SETTINGS_FIELDS = ("name", "time_zone", "default_locale")


def _settings_page(
    request: Request,
    identity: auth.ConsoleIdentity,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    return render_form(
        request,
        "tenancy/settings.html",
        identity,
        values,
        errors,
        section="settings",
        organization=identity.organization,
        zones=sorted(zoneinfo.available_timezones()),
        can_edit=identity.principal.can(Permission.MANAGE_ORGANIZATION),
        saved=request.query_params.get("saved") == "1",
    )


@router.get("/settings")
def settings_page(request: Request, identity: Identity) -> Response:
    """The organisation's settings: name, time zone, default language."""
    identity.principal.require(Permission.READ)
    organization = identity.organization
    values = {name: str(getattr(organization, name)) for name in SETTINGS_FIELDS}
    return _settings_page(request, identity, values)


@router.post("/settings")
def update_settings(
    request: Request, session: SessionDep, identity: Identity, form: Form
) -> Response:
    """Save the organisation's settings, or show the form again with its errors."""
    posted_by(identity, form, Permission.MANAGE_ORGANIZATION)
    values = {name: form.get(name, "").strip() for name in SETTINGS_FIELDS}
    with attempt(session, page_locale(request, identity)) as refusal:
        data = OrganizationUpdate.model_validate(values)
        organization_settings.update_organization(session, identity.principal, data)
    if refusal.errors:
        return _settings_page(request, identity, values, refusal.errors)
    return redirect("/console/settings?saved=1")


# ---------------------------------------------------------------- stores
@dataclass
class StoreListQuery:
    """The store list's filters, as the page shows them again; an unknown channel or status
    is no filter."""

    channel_type: str = ""
    city: str = ""
    status: str = ""
    q: str = ""

    def __post_init__(self) -> None:
        if self.channel_type not in set(ChannelType):
            self.channel_type = ""
        if self.status not in set(StoreStatus):
            self.status = ""
        self.q = self.q.strip()


@router.get("/stores")
def stores_page(
    request: Request,
    session: SessionDep,
    identity: Identity,
    query: Annotated[StoreListQuery, Depends()],
) -> Response:
    """The organisation's stores, filtered by channel, city, status and text."""
    principal = identity.principal
    principal.require(Permission.READ)
    filters = service.StoreFilter(
        channel_type=query.channel_type or None,
        city=query.city or None,
        status=query.status or None,
        q=query.q or None,
    )
    stores = service.all_stores(session, principal, filters)
    brands = {b.id: b for b in service.brand_choices(session)}
    return render(
        request,
        "tenancy/stores.html",
        identity,
        section="stores",
        stores=stores,
        brands=brands,
        cities=service.list_cities(session, principal),
        channel_types=list(ChannelType),
        statuses=list(StoreStatus),
        query=query,
        saved=request.query_params.get("saved") == "1",
    )


def _store_form_page(
    request: Request,
    session: SessionDep,
    identity: auth.ConsoleIdentity,
    values: dict[str, str],
    store_id: uuid.UUID | None,
    errors: dict[str, str] | None = None,
) -> HTMLResponse:
    return render_form(
        request,
        "tenancy/store_form.html",
        identity,
        values,
        errors,
        section="stores",
        store_id=store_id,
        brands=service.brand_choices(session),
        channel_types=list(ChannelType),
        statuses=list(StoreStatus),
        can_edit=identity.principal.can(Permission.EDIT_STORES),
    )


@router.get("/stores/new")
def new_store_page(request: Request, session: SessionDep, identity: Identity) -> Response:
    """An empty store form."""
    identity.principal.require(Permission.MANAGE_STORES)
    return _store_form_page(request, session, identity, store_form.blank_store(), None)


@router.post("/stores/new")
def create_store(request: Request, session: SessionDep, identity: Identity, form: Form) -> Response:
    """Create a store from the form, or show the form again with its errors."""
    posted_by(identity, form, Permission.MANAGE_STORES)
    with attempt(session, page_locale(request, identity)) as refusal:
        data = StoreCreate.model_validate(store_form.store_payload(form, partial=False))
        service.create_store(session, identity.principal, data)
    if refusal.errors:
        return _store_form_page(request, session, identity, form, None, refusal.errors)
    return redirect("/console/stores?saved=1")


@router.get("/stores/{store_id}")
def edit_store_page(
    request: Request, session: SessionDep, identity: Identity, store_id: uuid.UUID
) -> Response:
    """One store's form."""
    store = service.get_store(session, identity.principal, store_id)
    return _store_form_page(request, session, identity, store_form.store_values(store), store_id)


@router.post("/stores/{store_id}")
def update_store(
    request: Request, session: SessionDep, identity: Identity, store_id: uuid.UUID, form: Form
) -> Response:
    """Save a store's form, or show it again with its errors."""
    check_csrf(identity, form)
    service.get_store(session, identity.principal, store_id)  # 404 outside scope first
    with attempt(session, page_locale(request, identity)) as refusal:
        data = StoreUpdate.model_validate(store_form.store_payload(form, partial=True))
        service.update_store(session, identity.principal, store_id, data)
    if refusal.errors:
        return _store_form_page(request, session, identity, form, store_id, refusal.errors)
    return redirect("/console/stores?saved=1")
