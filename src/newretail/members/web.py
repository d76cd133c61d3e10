"""Console pages for members: the list (numbered pages with the total), the member 360 page
and the points ledger; the forms are in web_edit.py."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Protocol

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from newretail.console.paging import PagingDep
from newretail.console.shell import page_locale, render
from newretail.core.http import supplied
from newretail.identity import web as identity_web
from newretail.marketing import reads as marketing_reads
from newretail.members import consent, points, service, tiers, web_edit
from newretail.orders import web as orders_web
from newretail.tenancy.dependencies import Identity, SessionDep
from newretail.tenancy.permissions import Permission, Principal
from newretail.timelines import web as timelines_web

router = APIRouter(prefix="/console", include_in_schema=False)
router.include_router(web_edit.router)
LEDGER_ON_MEMBER_PAGE = 10
DATA_REQUESTS_ON_MEMBER_PAGE = 3  # the newest exports named under Export data
SAVED = ("profile", "consent", "points")  # what the forms redirect back with


class MemberInbox(Protocol):
    """The member's newest inbox messages in a language: reach keeps them, and reach sits
    above members, so `newretail.pages` supplies this on `app.state.member_inbox`."""

    def __call__(self, session: Session, member_id: uuid.UUID, locale: str) -> Sequence[object]: ...


class MemberDataRequests(Protocol):
    """The audit of requests about the member's data, oldest first: privacy keeps it, and
    privacy sits above members, so `newretail.pages` supplies this on
    `app.state.member_data_requests`."""

    def __call__(
        self, session: Session, principal: Principal, member_id: uuid.UUID
    ) -> Sequence[object]: ...


@dataclass
class MemberQuery:
    """The member list's filters, as the page shows them again (`?q=&city=&tier=`)."""

    q: str = ""
    city: str = ""
    tier: str = ""

    def __post_init__(self) -> None:
        self.q, self.city = self.q.strip(), self.city.strip()


@router.get("/members")
def members_page(
    request: Request,
    session: SessionDep,
    identity: Identity,
    paging: PagingDep,
    query: Annotated[MemberQuery, Depends()],
) -> Response:
    """Members filtered by name, identifier, city and tier, a numbered page at a time."""
    principal = identity.principal
    principal.require(Permission.READ)
    filters = service.MemberFilter(
        tier=query.tier or None, city=query.city or None, q=query.q or None
    )
    members, total = service.member_page(session, principal, filters, paging.number, paging.size)
    tier_list = tiers.all_tiers(session)
    return render(
        request,
        "members/list.html",
        identity,
        section="members",
        members=members,
        balances=points.balances(session, [m.id for m in members]),
        total=total,
        paging=paging,
        tiers=tier_list,
        tier_names={t.id: t.name for t in tier_list},
        query=query,
    )


@router.get("/members/{member_id}")
def member_page(
    request: Request, session: SessionDep, identity: Identity, member_id: uuid.UUID
) -> Response:
    """The member 360 page: profile, points, OneID, consent, orders, coupons, inbox, timeline
    and ledger."""
    principal = identity.principal
    member = service.get_member(session, principal, member_id)
    ledger, ledger_total = points.ledger_page(
        session, principal, member_id, 1, LEDGER_ON_MEMBER_PAGE
    )
    tier = tiers.get_tier(session, principal, member.tier_id) if member.tier_id else None
    saved = request.query_params.get("saved", "")
    inbox: MemberInbox = supplied(request, "member_inbox", "newretail.pages.mount_pages")
    data_requests: MemberDataRequests = supplied(
        request, "member_data_requests", "newretail.pages.mount_pages"
    )
    exports = (
        list(data_requests(session, principal, member_id))[::-1][:DATA_REQUESTS_ON_MEMBER_PAGE]
        if principal.can(Permission.EXPORT_MEMBER_DATA)
        else []
    )
    return render(
        request,
        "members/detail.html",
        identity,
        section="members",
        member=member,
        tier=tier,
        consent=consent.consent_of(session, principal, member_id),
        balance=points.points_balance(session, principal, member_id),
        ledger=ledger,
        ledger_total=ledger_total,
        can_manage=principal.can(Permission.MANAGE_MEMBERS),
        saved=saved if saved in SAVED else "",
        history=orders_web.member_orders(session, identity, member_id),
        coupons=marketing_reads.member_coupons(session, member_id),
        inbox=inbox(session, member_id, page_locale(request, identity)),
        oneid=identity_web.member_identity(session, identity, member_id),
        timeline=timelines_web.member_timeline(request, session, identity, member_id),
        data_requests=exports,
    )


@router.get("/members/{member_id}/ledger")
def ledger_page(
    request: Request,
    session: SessionDep,
    identity: Identity,
    paging: PagingDep,
    member_id: uuid.UUID,
) -> Response:
    """The member's whole points ledger, newest first, with the running balance."""
    principal = identity.principal
    member = service.get_member(session, principal, member_id)
    rows, total = points.ledger_page(session, principal, member_id, paging.number, paging.size)
    return render(
        request,
        "members/ledger.html",
        identity,
        section="members",
        member=member,
        balance=points.points_balance(session, principal, member_id),
        ledger=rows,
        total=total,
        paging=paging,
    )
