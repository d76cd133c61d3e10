"""FastAPI dependencies: the request's transaction, container and authenticated principal
(an API key's, or the console's signed-in user)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import (
    HTTPAuthorizationCredentials,
    HTTPBearer,
)
from sqlalchemy.orm import Session

from newretail.console.shell import check_csrf, session_token
from newretail.core.database import scope_session, transaction
from newretail.core.errors import Forbidden, InvalidInput, Unauthenticated
from newretail.core.limits import BULK_PAGE_SIZE_MAX, MAX_OFFSET, PAGE_SIZE_MAX
from newretail.core.local_server import LOCAL_TOKEN_PREFIX, ORGANIZATION_HEADER, Announcement
from newretail.stores import Stores
from newretail.tenancy import auth
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.models import Role
from newretail.tenancy.permissions import Permission, Principal, PrincipalKind

_bearer = HTTPBearer(auto_error=False, description="An API key (nr_key_…)")


def get_container(request: Request) -> Stores:
    container: Stores = request.app.state.container
    return container


def get_db(request: Request) -> Iterator[Session]:
    """One transaction per request, committed before the response is sent."""
    with transaction(get_container(request).sessions()) as session:
        yield session


ContainerDep = Annotated[Stores, Depends(get_container)]
SessionDep = Annotated[Session, Depends(get_db, scope="function")]


def _token_principal(session: Session, token: str | None) -> Principal:
    if not token:
        raise Unauthenticated(
            "send an API key as `Authorization: Bearer <key>`", field="authorization"
        )
    principal = auth.authenticate_token(session, token)
    scope_session(session, principal.organization_id)
    return principal


def _local_operator(request: Request, session: Session, token: str) -> Principal:
    """The CLI beside this server (newretail.core.local_server): the owner of one organisation."""
    announcement: Announcement | None = getattr(request.app.state, "local_server", None)
    client_host = request.client.host if request.client else None
    if announcement is None or not announcement.accepts(token, client_host):
        raise Unauthenticated(
            "a local operator credential is accepted only by the server that wrote it, "
            "from this machine",
            field="authorization",
        )
    reference = request.headers.get(ORGANIZATION_HEADER)
    if not reference:
        raise InvalidInput(
            f"name the organisation in the {ORGANIZATION_HEADER} header", field="organization"
        )
    org = tenancy_service.find_organization(scope_session(session, None), reference)
    scope_session(session, org.id)
    return Principal.for_role(PrincipalKind.USER, org.id, Role.OWNER, actor="operator (CLI)")


def api_principal(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """An API key's principal; write keys are refused here (they only send events)."""
    token = credentials.credentials if credentials else None
    if token is not None and token.startswith(LOCAL_TOKEN_PREFIX):
        return _local_operator(request, session, token)
    principal = _token_principal(session, token)
    if principal.kind == PrincipalKind.WRITE_KEY:
        raise Forbidden("write keys can only send events", field="authorization")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(api_principal)]
Limit = Annotated[int, Query(ge=1, le=PAGE_SIZE_MAX, description=f"Page size (1–{PAGE_SIZE_MAX})")]
# a page of bare ids (an audience's or a saved list's members)
BulkLimit = Annotated[
    int,
    Query(ge=1, le=BULK_PAGE_SIZE_MAX, description=f"Page size (1–{BULK_PAGE_SIZE_MAX:,})"),
]
Cursor = Annotated[str | None, Query(description="`next_cursor` of the previous page")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description=f"Rows to skip (0–{MAX_OFFSET:,})")]


def console_identity(request: Request, session: SessionDep) -> auth.ConsoleIdentity:
    """The console's signed-in user; without a session the console answers with its login page."""
    identity = auth.resolve_session(session, session_token(request))
    scope_session(session, identity.principal.organization_id)
    return identity


Identity = Annotated[auth.ConsoleIdentity, Depends(console_identity)]


def posted_by(
    identity: auth.ConsoleIdentity, form: dict[str, str], permission: Permission
) -> Principal:
    """Who posted a console form: the signed-in session (the form carries its CSRF token),
    allowed `permission`."""
    check_csrf(identity, form)
    identity.principal.require(permission)
    return identity.principal
