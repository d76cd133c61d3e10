"""REST API of what a treated decision leaves for people to read: a member's inbox (paged,
marked read) and a store's counter screen feed (Server-Sent Events)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from newretail.console.shell import SESSION_COOKIE
from newretail.core.i18n import negotiate
from newretail.core.pagination import Page
from newretail.reach import inbox, schemas, screen_feed
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.dependencies import (
    ContainerDep,
    CurrentPrincipal,
    Cursor,
    Limit,
    SessionDep,
    api_principal,
    console_identity,
)
from newretail.tenancy.permissions import Permission, Principal

router = APIRouter(prefix="/api/v1/reach", tags=["reach"])
_bearer = HTTPBearer(auto_error=False, description="An API key (nr_key_…)")
LastEventId = Annotated[
    str | None,
    Header(alias="Last-Event-ID", description="Resend the offers after this one (reconnect)"),
]


def screen_principal(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """An API key's principal; without a key, the console's signed-in user: the counter
    screen page's EventSource sends its session cookie (SameSite strict), it cannot send a
    key."""
    if credentials is None and request.cookies.get(SESSION_COOKIE):
        return console_identity(request, session).principal
    return api_principal(request, session, credentials)


def _locale(request: Request) -> str:
    return negotiate(request.headers.get("accept-language"))


@router.get("/members/{member_id}/inbox", response_model=Page[schemas.InboxMessageRead])
def member_inbox(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    member_id: uuid.UUID,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> object:
    """The member's inbox, oldest first, titles and bodies in the caller's language."""
    items, next_cursor = inbox.list_messages(session, principal, member_id, limit, cursor)
    return {
        "items": inbox.message_reads(session, items, _locale(request)),
        "next_cursor": next_cursor,
    }


@router.post(
    "/members/{member_id}/inbox/{message_id}/read", response_model=schemas.InboxMessageRead
)
def mark_read(
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    member_id: uuid.UUID,
    message_id: uuid.UUID,
) -> object:
    """Mark a message read (again: the first time is kept)."""
    message = inbox.mark_read(session, principal, member_id, message_id)
    return inbox.message_reads(session, [message], _locale(request))[0]


@router.get(
    "/stores/{store_id}/feed",
    response_class=StreamingResponse,
    responses={200: {"content": {screen_feed.MEDIA_TYPE: {}}}},
)
def store_feed(
    session: SessionDep,
    principal: Annotated[Principal, Depends(screen_principal)],
    container: ContainerDep,
    store_id: uuid.UUID,
    last_event_id: LastEventId = None,
) -> StreamingResponse:
    """The store's counter screen: each offer reached there as an SSE `offer` event (id: the
    decision), the missed ones first after a reconnect, a heartbeat comment every 15 s. An
    API key, or the console's session (the counter screen page)."""
    principal.require(Permission.READ)
    tenancy_service.get_store(session, principal, store_id)  # 404 outside the key's stores
    feed = screen_feed.open_feed(
        session, container.sessions, principal.organization_id, store_id, last_event_id
    )
    return feed_response(feed)


def feed_response(feed: screen_feed.Feed) -> StreamingResponse:
    """The feed as a Server-Sent Events answer, unbuffered."""
    return StreamingResponse(
        feed.events(), media_type=screen_feed.MEDIA_TYPE, headers=screen_feed.HEADERS
    )
