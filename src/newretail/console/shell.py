"""The console shell every domain's pages use: render, the signed-in user's cookie, forms, CSRF.

It imports no domain. The tenancy domain resolves the session cookie to a signed-in user
(`newretail.tenancy.dependencies.Identity`); `newretail.pages` mounts every domain's pages.
"""

from __future__ import annotations

import hmac
import importlib.util
from datetime import date, datetime
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any, Protocol

from fastapi import Depends, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context

from newretail.core import error_text, localtime
from newretail.core.errors import CsrfFailed, NewRetailError, Unauthenticated
from newretail.core.i18n import LOCALES, negotiate, translator
from newretail.core.money import yuan

SESSION_COOKIE = "nr_session"
LOCALE_COOKIE = "nr_locale"
HOME = "/console"  # the operations centre at a glance (diagnosis)
LOGIN = "/console/login"
# the navigation, in order; each name is a page at /console/<name>
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

_here = Path(str(files("newretail") / "console"))
# The shell's templates, then each domain's <domain>/templates/<domain>/*.html
templates = Jinja2Templates(
    directory=[
        _here / "templates",
        *sorted(p for p in _here.parent.glob("*/templates") if p != _here / "templates"),
    ]
)


class SignedIn(Protocol):
    """What the shell needs of the signed-in user (the tenancy domain's console identity)."""

    @property
    def csrf_token(self) -> str: ...

    @property
    def preferred_locale(self) -> str | None: ...

    @property
    def time_zone(self) -> str | None: ...


@pass_context
def _local_time_filter(context: Any, moment: datetime | None, seconds: bool = False) -> str:
    """`{{ order.placed_at | local_time }}`: the organisation's wall-clock time."""
    return localtime.format_local_time(moment, _context_zone(context), seconds=seconds)


@pass_context
def _local_date_filter(context: Any, moment: datetime | date | None) -> str:
    """`{{ row.day | local_date }}`: the organisation's calendar day of an instant."""
    return localtime.format_local_date(moment, _context_zone(context))


@pass_context
def _local_span_filter(context: Any, start: datetime, end: datetime) -> str:
    """`{{ c.valid_from | local_span(c.valid_until) }}`: a window [start, end) as a person
    reads it (whole local days inclusive, otherwise local times with the zone's offset)."""
    return localtime.format_local_span(start, end, _context_zone(context))


def _context_zone(context: Any) -> str | None:
    identity: SignedIn | None = context.get("identity")
    return identity.time_zone if identity is not None else None


templates.env.filters["local_time"] = _local_time_filter
templates.env.filters["local_date"] = _local_date_filter
templates.env.filters["local_span"] = _local_span_filter
templates.env.filters["yuan"] = yuan  # `{{ amount | yuan }}`, `{{ change | yuan(signed=True) }}`


# ---------------------------------------------------------------- request context
def request_locale(request: Request, preferred: str | None = None) -> str:
    """User preference, then the locale cookie, then Accept-Language."""
    if preferred in LOCALES:
        return preferred
    cookie = request.cookies.get(LOCALE_COOKIE)
    if cookie in LOCALES:
        return cookie
    return negotiate(request.headers.get("accept-language"))


def page_locale(request: Request, identity: SignedIn | None) -> str:
    """The language a console page is shown in."""
    return request_locale(request, identity.preferred_locale if identity else None)


def session_token(request: Request) -> str:
    """The console session cookie; without one the console answers with the login page."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise Unauthenticated("sign in first", field="session")
    return token


async def form_data(request: Request) -> dict[str, str]:
    """A posted form's text fields."""
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


Form = Annotated[dict[str, str], Depends(form_data)]


def check_csrf(identity: SignedIn, form: dict[str, str]) -> None:
    """A console form must carry the signed-in session's CSRF token."""
    if not hmac.compare_digest(form.get("csrf_token", ""), identity.csrf_token):
        raise CsrfFailed("the form expired; reload the page", field="csrf_token")


# ---------------------------------------------------------------- responses
def render(
    request: Request,
    template: str,
    identity: SignedIn | None,
    status_code: int = 200,
    locale: str | None = None,
    **context: Any,
) -> HTMLResponse:
    """A console page in the user's language, inside the shell's layout."""
    locale = locale or page_locale(request, identity)
    return templates.TemplateResponse(
        request,
        template,
        {
            "t": translator(locale),
            "locale": locale,
            "locales": LOCALES,
            "identity": identity,
            "sections": SECTIONS,
            "zone_label": localtime.zone_label(identity.time_zone if identity else None),
            **context,
        },
        status_code=status_code,
    )


def redirect(url: str) -> RedirectResponse:
    """See other: where a console form goes after it was handled."""
    return RedirectResponse(url, status_code=303)


def render_console_error(request: Request, exc: NewRetailError) -> Response | None:
    """Console paths get a page (or the login redirect); the API keeps its JSON errors."""
    if not request.url.path.startswith("/console"):
        return None
    if isinstance(exc, Unauthenticated):
        return redirect(LOGIN)
    locale = request_locale(request)
    return templates.TemplateResponse(
        request,
        "error.html",
        {
            "t": translator(locale),
            "locale": locale,
            "identity": None,
            "error": exc,
            "message": error_text.domain_error(exc, locale),
        },
        status_code=exc.status_code,
    )


# ---------------------------------------------------------------- assets
def package_dir(name: str) -> Path:
    """Where an installed (possibly namespace) package lives."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the package {name!r} is not installed; run `make run` again")
    return Path(next(iter(spec.submodule_search_locations)))


STATIC = _here / "static"


def mount_assets(app: FastAPI) -> None:
    """The shell's static files, Bootstrap from its installed wheel, the favicon and `/`."""
    app.mount(
        "/static/vendor/bootstrap",
        StaticFiles(directory=package_dir("bootstrap")),
        name="bootstrap",
    )
    app.mount("/static/console", StaticFiles(directory=STATIC), name="console-static")
    # each domain's scripts (<domain>/static/*.js at /static/<domain>/): the console's CSP
    # admits scripts from the server only, none inline (newretail.core.headers)
    for directory in sorted(_here.parent.glob("*/static")):
        if directory != STATIC:
            name = directory.parent.name
            app.mount(f"/static/{name}", StaticFiles(directory=directory), name=f"{name}-static")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return FileResponse(STATIC / "favicon.ico", media_type="image/x-icon")

    @app.get("/", include_in_schema=False)
    def root() -> Response:
        return redirect(HOME)
