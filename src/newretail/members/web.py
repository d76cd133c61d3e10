"""Console pages for members: a searchable list and the member 360 page."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response

from newretail.console.shell import render
from newretail.identity import web as identity_web
from newretail.members import points, service, tiers
from newretail.orders import web as orders_web
from newretail.scenes import web as scenes_web
from newretail.tenancy.dependencies import Identity, SessionDep
from newretail.tenancy.permissions import Permission

router = APIRouter(prefix="/console", include_in_schema=False)
PAGE_SIZE = 50


@router.get("/members")
def members_page(
    request: Request,
    session: SessionDep,
    identity: Identity,
    q: str = "",
    city: str = "",
    tier: str = "",
    cursor: str | None = None,
) -> Response:
    principal = identity.principal
    principal.require(Permission.READ)
    filters = service.MemberFilter(
        tier=tier or None, city=city.strip() or None, q=q.strip() or None
    )
    members, next_cursor = service.list_members(session, principal, filters, PAGE_SIZE, cursor)
    tier_list = tiers.all_tiers(session)
    return render(
        request,
        "members/list.html",
        identity,
        section="members",
        members=members,
        next_cursor=next_cursor,
        tiers=tier_list,
        tier_names={t.id: t.name for t in tier_list},
        query={"q": q.strip(), "city": city.strip(), "tier": tier},
    )


@router.get("/members/{member_id}")
def member_page(
    request: Request, session: SessionDep, identity: Identity, member_id: uuid.UUID
) -> Response:
    principal = identity.principal
    member = service.get_member(session, principal, member_id)
    ledger = points.ledger_rows(session, principal, member_id)
    tier = tiers.get_tier(session, principal, member.tier_id) if member.tier_id else None
    return render(
        request,
        "members/detail.html",
        identity,
        section="members",
        member=member,
        tier=tier,
        consent=service.consent_of(session, principal, member_id),
        balance=points.points_balance(session, principal, member_id),
        ledger=ledger[::-1],
        history=orders_web.member_orders(session, identity, member_id),
        oneid=identity_web.member_identity(session, identity, member_id),
        timeline=scenes_web.member_timeline(request, session, identity, member_id),
    )
