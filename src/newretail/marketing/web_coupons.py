"""The console's coupon lookup: a coupon by its printed code, or a member's coupons (found by
name, phone, card or e-mail), with their offer, campaign, stage, store and ledger."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response

from newretail.console.params import optional_id
from newretail.console.shell import render
from newretail.core.errors import NewRetailError
from newretail.marketing import coupon_history, coupons, reads, schemas
from newretail.marketing.directory import DirectoryDep, Named
from newretail.tenancy.dependencies import Identity, SessionDep
from newretail.tenancy.permissions import Permission

router = APIRouter(prefix="/marketing")
MEMBERS_FOUND = 20  # members a name search lists to choose from


@router.get("/coupons")
def coupon_lookup_page(
    request: Request,
    session: SessionDep,
    identity: Identity,
    directory: DirectoryDep,
    code: str = "",
    member: str = "",
    member_id: str = "",
) -> Response:
    """Find coupons by code or by member; a search matching several members lists them."""
    principal = identity.principal
    principal.require(Permission.READ)
    chosen_id = optional_id(member_id.strip(), "member_id", "not a member id")
    found: list[schemas.CouponRead] = []
    matches: list[Named] = []
    chosen: Named | None = None
    not_found = ""
    if code.strip():
        try:
            found = reads.coupon_reads(session, [coupons.by_code(session, code)])
        except NewRetailError:
            not_found = "marketing.coupon_not_found"
    elif member.strip() and chosen_id is None:
        matches = list(directory.find_members(session, principal, member.strip(), MEMBERS_FOUND))
        if len(matches) == 1:
            chosen_id = matches[0].id
        elif not matches:
            not_found = "marketing.lookup.no_member"
    if chosen_id is not None:
        chosen = directory.member(session, principal, chosen_id)
        found = reads.member_coupons(session, chosen_id)
        matches = []
    holders: dict[uuid.UUID, Named] = {}
    if code.strip():
        for coupon in found:
            if coupon.member_id is not None:
                holders[coupon.member_id] = directory.member(session, principal, coupon.member_id)
    return render(
        request,
        "marketing/coupons.html",
        identity,
        section="marketing",
        code=code,
        member=member,
        chosen=chosen,
        matches=matches,
        found=found,
        holders=holders,
        histories=coupon_history.histories(session, [c.id for c in found]),
        not_found=not_found,
    )
