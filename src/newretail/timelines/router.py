"""REST API of member timelines: a member's events across every channel."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from newretail.core.pagination import Page
from newretail.tenancy.dependencies import ContainerDep, CurrentPrincipal, Cursor, Limit, SessionDep
from newretail.timelines import schemas, service

router = APIRouter(prefix="/api/v1", tags=["members"])


@router.get("/members/{member_id}/timeline", response_model=Page[schemas.TimelineEventRead])
def member_timeline(
    session: SessionDep,
    container: ContainerDep,
    principal: CurrentPrincipal,
    member_id: uuid.UUID,
    type: Annotated[
        list[str] | None, Query(description="Event type; repeat for several (any of them)")
    ] = None,
    channel: Annotated[
        str | None, Query(min_length=1, max_length=40, description="Channel, e.g. `popup`")
    ] = None,
    start: Annotated[
        date | None, Query(description="First day (the organisation's time zone)")
    ] = None,
    end: Annotated[date | None, Query(description="Last day, inclusive")] = None,
    order: Annotated[
        Literal["asc", "desc"], Query(description="`asc` oldest first (default), `desc` newest")
    ] = "asc",
    limit: Limit = 50,
    cursor: Cursor = None,
) -> object:
    """A member's events from every channel in time order (ts, then message id)."""
    filters = service.TimelineFilter(types=tuple(type or ()), channel=channel, start=start, end=end)
    page = service.member_timeline(
        session,
        container.warehouse,
        principal,
        member_id,
        filters,
        limit,
        cursor,
        descending=order == "desc",
    )
    return {"items": page.items, "next_cursor": page.next_cursor}
