"""FastAPI dependencies: the request's transaction, container and authenticated principal."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import (
    HTTPAuthorizationCredentials,
    HTTPBearer,
)
from sqlalchemy.orm import Session

from newretail.bootstrap import Container
from newretail.core.database import scope_session
from newretail.core.errors import Forbidden, Unauthenticated
from newretail.tenancy import auth
from newretail.tenancy.permissions import Principal, PrincipalKind

_bearer = HTTPBearer(auto_error=False, description="An API key (nr_key_…)")


def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


def get_db(request: Request) -> Iterator[Session]:
    """One transaction per request, committed before the response is sent."""
    session = get_container(request).sessions()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


ContainerDep = Annotated[Container, Depends(get_container)]
SessionDep = Annotated[Session, Depends(get_db, scope="function")]


def _token_principal(session: Session, token: str | None) -> Principal:
    if not token:
        raise Unauthenticated(
            "send an API key as `Authorization: Bearer <key>`", field="authorization"
        )
    principal = auth.authenticate_token(session, token)
    scope_session(session, principal.organization_id)
    return principal


def api_principal(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """An API key's principal; write keys are refused here (they only send events)."""
    principal = _token_principal(session, credentials.credentials if credentials else None)
    if principal.kind == PrincipalKind.WRITE_KEY:
        raise Forbidden("write keys can only send events", field="authorization")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(api_principal)]
Limit = Annotated[int, Query(ge=1, le=500, description="Page size (1–500)")]
Cursor = Annotated[str | None, Query(description="`next_cursor` of the previous page")]
