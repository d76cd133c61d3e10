"""The server-rendered console: login, organisation switcher, navigation and the stores pages."""

from __future__ import annotations

import hashlib
import hmac
import importlib.util
import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from pydantic import ValidationError

from newretail.console import forms
from newretail.core import localtime
from newretail.core.database import scope_session
from newretail.core.errors import (
    AccountLocked,
    CsrfFailed,
    NewRetailError,
    NotFound,
    Unauthenticated,
)
from newretail.core.i18n import LOCALES, negotiate, translator
from newretail.tenancy import auth, service
from newretail.tenancy.dependencies import ContainerDep, SessionDep
from newretail.tenancy.models import ChannelType, StoreStatus
from newretail.tenancy.permissions import Permission
from newretail.tenancy.schemas import StoreCreate, StoreUpdate

SESSION_COOKIE = "nr_session"
LOGIN_CSRF_COOKIE = "nr_login_csrf"
LOCALE_COOKIE = "nr_locale"
SECTIONS = (
    "stores",
    "catalog",
    "stock",
    "members",
    "identity",
    "events",
    "orders",
    "databank",
    "audiences",
    "marketing",
    "diagnosis",
)
# sections whose pages live in their domain's web.py
DOMAIN_SECTIONS = {
    "catalog",
    "stock",
    "members",
    "identity",
    "events",
    "orders",
    "databank",
    "audiences",
}
PLACEHOLDER_SECTIONS = tuple(s for s in SECTIONS[1:] if s not in DOMAIN_SECTIONS)

_here = Path(str(files("newretail") / "console"))
# The shell's templates, then each domain's <domain>/templates/<domain>/*.html
templates = Jinja2Templates(
    directory=[
        _here / "templates",
        *sorted(p for p in _here.parent.glob("*/templates") if p != _here / "templates"),
    ]
)


def _context_zone(context: Any) -> str | None:
    identity = context.get("identity")
    return identity.organization.time_zone if identity is not None else None


@pass_context
def _local_time_filter(context: Any, moment: datetime | None, seconds: bool = False) -> str:
    """`{{ order.placed_at | local_time }}`: the organisation's wall-clock time."""
    return localtime.format_local_time(moment, _context_zone(context), seconds=seconds)


@pass_context
def _local_date_filter(context: Any, moment: datetime | date | None) -> str:
    """`{{ row.day | local_date }}`: the organisation's calendar day of an instant."""
    return localtime.format_local_date(moment, _context_zone(context))


templates.env.filters["local_time"] = _local_time_filter
templates.env.filters["local_date"] = _local_date_filter
router = APIRouter(prefix="/console", include_in_schema=False)


# ---------------------------------------------------------------- request context
def request_locale(request: Request, preferred: str | None = None) -> str:
    """User preference, then the locale cookie, then Accept-Language."""
    if preferred in LOCALES:
        return preferred
    cookie = request.cookies.get(LOCALE_COOKIE)
    if cookie in LOCALES:
        return cookie
    return negotiate(request.headers.get("accept-language"))


def console_identity(request: Request, session: SessionDep) -> auth.ConsoleIdentity:
    """The signed-in user; redirects to the login page otherwise (see render_console_error)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise Unauthenticated("sign in first", field="session")
    identity = auth.resolve_session(session, token)
    scope_session(session, identity.principal.organization_id)
    return identity


Identity = Annotated[auth.ConsoleIdentity, Depends(console_identity)]


async def form_data(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


Form = Annotated[dict[str, str], Depends(form_data)]


def check_csrf(identity: auth.ConsoleIdentity, form: dict[str, str]) -> None:
    if not hmac.compare_digest(form.get("csrf_token", ""), identity.user_session.csrf_token):
        raise CsrfFailed("the form expired; reload the page", field="csrf_token")


def render(
    request: Request,
    template: str,
    identity: auth.ConsoleIdentity | None,
    status_code: int = 200,
    locale: str | None = None,
    **context: Any,
) -> HTMLResponse:
    locale = locale or request_locale(request, identity.user.locale if identity else None)
    return templates.TemplateResponse(
        request,
        template,
        {
            "t": translator(locale),
            "locale": locale,
            "locales": LOCALES,
            "identity": identity,
            "sections": SECTIONS,
            "Permission": Permission,
            "zone_label": localtime.zone_label(
                identity.organization.time_zone if identity else None
            ),
            **context,
        },
        status_code=status_code,
    )


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def render_console_error(request: Request, exc: NewRetailError) -> Response | None:
    """Console paths get a page (or the login redirect); the API keeps its JSON errors."""
    if not request.url.path.startswith("/console"):
        return None
    if isinstance(exc, Unauthenticated):
        return redirect("/console/login")
    locale = request_locale(request)
    return templates.TemplateResponse(
        request,
        "error.html",
        {"t": translator(locale), "locale": locale, "identity": None, "error": exc},
        status_code=exc.status_code,
    )


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
) -> HTMLResponse:
    nonce, cookie = _login_csrf_pair(container.settings.session_secret())
    response = render(
        request, "login.html", None, status_code, locale, csrf_token=nonce, error=error
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
    chosen = lang if lang in LOCALES else None
    response = _login_page(request, container, locale=chosen)
    if chosen:
        response.set_cookie(LOCALE_COOKIE, chosen, samesite="lax", max_age=365 * 86400)
    return response


@router.post("/login")
def login_submit(
    request: Request, container: ContainerDep, session: SessionDep, form: Form
) -> Response:
    settings = container.settings
    if not _login_csrf_valid(
        settings.session_secret(), request.cookies.get(LOGIN_CSRF_COOKIE), form.get("csrf_token")
    ):
        return _login_page(request, container, "login.csrf", 403)
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
        session.commit()
        return _login_page(request, container, "login.locked", 423)
    except NewRetailError:
        session.commit()  # keep the failure count
        return _login_page(request, container, "login.failed", 401)
    response = redirect("/console/stores")
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


@router.post("/logout")
def logout(request: Request, session: SessionDep, identity: Identity, form: Form) -> Response:
    check_csrf(identity, form)
    auth.logout(session, request.cookies.get(SESSION_COOKIE, ""))
    response = redirect("/console/login")
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.post("/organization")
def switch_organization(session: SessionDep, identity: Identity, form: Form) -> Response:
    check_csrf(identity, form)
    try:
        organization_id = uuid.UUID(form.get("organization_id", ""))
    except ValueError as exc:
        raise NotFound("organisation not found", field="organization_id") from exc
    auth.switch_organization(session, identity, organization_id)
    return redirect("/console/stores")


@router.post("/preferences/locale")
def set_locale(request: Request, identity: Identity, form: Form) -> Response:
    check_csrf(identity, form)
    locale = form.get("locale")
    if locale in LOCALES:
        identity.user.locale = locale
    return redirect(request.headers.get("referer") or "/console/stores")


# ---------------------------------------------------------------- pages
@router.get("")
@router.get("/")
def home() -> Response:
    return redirect("/console/stores")


@dataclass
class StoreListQuery:
    channel_type: str = ""
    city: str = ""
    status: str = ""
    q: str = ""


@router.get("/stores")
def stores_page(
    request: Request,
    session: SessionDep,
    identity: Identity,
    channel_type: str = "",
    city: str = "",
    status: str = "",
    q: str = "",
) -> Response:
    principal = identity.principal
    principal.require(Permission.READ)
    query = StoreListQuery(
        channel_type if channel_type in set(ChannelType) else "",
        city,
        status if status in set(StoreStatus) else "",
        q.strip(),
    )
    filters = service.StoreFilter(
        channel_type=query.channel_type or None,
        city=query.city or None,
        status=query.status or None,
        q=query.q or None,
    )
    stores = service.all_stores(session, principal, filters)
    brands = {b.id: b for b in service.list_brands(session, 500, None)[0]}
    return render(
        request,
        "stores.html",
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
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "store_form.html",
        identity,
        status_code,
        section="stores",
        values=values,
        store_id=store_id,
        errors=errors or {},
        brands=service.list_brands(session, 500, None)[0],
        channel_types=list(ChannelType),
        statuses=list(StoreStatus),
        can_edit=identity.principal.can(Permission.EDIT_STORES),
    )


@router.get("/stores/new")
def new_store_page(request: Request, session: SessionDep, identity: Identity) -> Response:
    identity.principal.require(Permission.MANAGE_STORES)
    return _store_form_page(request, session, identity, forms.blank_store(), None)


@router.post("/stores/new")
def create_store(request: Request, session: SessionDep, identity: Identity, form: Form) -> Response:
    check_csrf(identity, form)
    identity.principal.require(Permission.MANAGE_STORES)
    try:
        data = StoreCreate.model_validate(forms.store_payload(form, partial=False))
        service.create_store(session, identity.principal, data)
    except (ValidationError, forms.FormError, NewRetailError) as exc:
        session.rollback()
        return _store_form_page(request, session, identity, form, None, forms.errors_of(exc), 422)
    return redirect("/console/stores?saved=1")


@router.get("/stores/{store_id}")
def edit_store_page(
    request: Request, session: SessionDep, identity: Identity, store_id: uuid.UUID
) -> Response:
    store = service.get_store(session, identity.principal, store_id)
    return _store_form_page(request, session, identity, forms.store_values(store), store_id)


@router.post("/stores/{store_id}")
def update_store(
    request: Request, session: SessionDep, identity: Identity, store_id: uuid.UUID, form: Form
) -> Response:
    check_csrf(identity, form)
    service.get_store(session, identity.principal, store_id)  # 404 outside scope first
    try:
        data = StoreUpdate.model_validate(forms.store_payload(form, partial=True))
        service.update_store(session, identity.principal, store_id, data)
    except (ValidationError, forms.FormError, NewRetailError) as exc:
        if isinstance(exc, NewRetailError) and exc.status_code in (403, 404):
            raise
        session.rollback()
        return _store_form_page(
            request, session, identity, form, store_id, forms.errors_of(exc), 422
        )
    return redirect("/console/stores?saved=1")


def _placeholder(section: str) -> Any:
    def page(request: Request, identity: Identity) -> Response:
        identity.principal.require(Permission.READ)
        return render(request, "placeholder.html", identity, section=section)

    page.__name__ = f"{section}_page"
    return page


for _section in PLACEHOLDER_SECTIONS:
    router.add_api_route(f"/{_section}", _placeholder(_section), methods=["GET"])


def _package_dir(name: str) -> Path:
    """Where an installed (possibly namespace) package lives."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the package {name!r} is not installed; run `make run` again")
    return Path(next(iter(spec.submodule_search_locations)))


def mount_console(app: FastAPI) -> None:
    """Console routes, its own static files and Bootstrap from the installed wheel."""
    # the domain pages import this module
    from newretail.audiences.web import router as audiences_console
    from newretail.catalog.web import router as catalog_console
    from newretail.databank.web import router as databank_console
    from newretail.events.web import router as events_console
    from newretail.identity.web import router as identity_console
    from newretail.inventory.web import router as stock_console
    from newretail.members.web import router as members_console
    from newretail.orders.web import router as orders_console

    app.include_router(router)
    app.include_router(catalog_console)
    app.include_router(stock_console)
    app.include_router(members_console)
    app.include_router(identity_console)
    app.include_router(events_console)
    app.include_router(orders_console)
    app.include_router(databank_console)
    app.include_router(audiences_console)
    bootstrap_dir = _package_dir("bootstrap")
    app.mount("/static/vendor/bootstrap", StaticFiles(directory=bootstrap_dir), name="bootstrap")
    app.mount("/static/console", StaticFiles(directory=_here / "static"), name="console-static")

    @app.get("/", include_in_schema=False)
    def root() -> Response:
        return redirect("/console/stores")
