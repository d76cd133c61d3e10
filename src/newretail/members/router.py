"""REST API for members: profiles, lookup, consent, points, earn rules and tiers."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from newretail.core.http import no_content, page
from newretail.core.pagination import Page
from newretail.members import consent, points, schemas, service, tiers
from newretail.members.models import ConsentSource
from newretail.tenancy.dependencies import CurrentPrincipal, Cursor, Limit, SessionDep
from newretail.tenancy.permissions import Permission

router = APIRouter(prefix="/api/v1")


# ---------------------------------------------------------------- members
@router.get("/members", response_model=Page[schemas.MemberRead], tags=["members"])
def list_members(
    session: SessionDep,
    principal: CurrentPrincipal,
    limit: Limit = 50,
    cursor: Cursor = None,
    tier: Annotated[str | None, Query(description="Tier id or name")] = None,
    city: Annotated[str | None, Query(description="Exact city")] = None,
    q: Annotated[
        str | None, Query(description="Name substring, or an exact phone, card or e-mail")
    ] = None,
) -> object:
    """List members, filtered by tier, city and a search term."""
    filters = service.MemberFilter(tier=tier, city=city, q=q.strip() if q else None)
    items, next_cursor = service.list_members(session, principal, filters, limit, cursor)
    return {"items": points.member_reads(session, items), "next_cursor": next_cursor}


@router.post("/members", response_model=schemas.MemberRead, status_code=201, tags=["members"])
def create_member(
    session: SessionDep, principal: CurrentPrincipal, body: schemas.MemberCreate
) -> object:
    """Create a member; phone, card, account id and e-mail become lookup identifiers."""
    return points.member_read(session, service.create_member(session, principal, body))


@router.get("/members/lookup", response_model=schemas.MemberRead, tags=["members"])
def lookup_member(
    session: SessionDep,
    principal: CurrentPrincipal,
    type: Annotated[
        str,
        Query(
            min_length=1,
            max_length=20,
            description="Identifier type: phone, email, member_card, account_id, device_id, "
            "anonymous_id, wechat_unionid, payment_id or a custom type",
        ),
    ],
    value: Annotated[str, Query(min_length=1, max_length=254, description="Any format")],
) -> object:
    """Find the member with this identifier; a merged member answers with its survivor."""
    return points.member_read(session, service.lookup_member(session, principal, type, value))


@router.get("/members/{member_id}", response_model=schemas.MemberRead, tags=["members"])
def read_member(session: SessionDep, principal: CurrentPrincipal, member_id: uuid.UUID) -> object:
    """Read a member's profile, tier and points balance."""
    return points.member_read(session, service.get_member(session, principal, member_id))


@router.patch("/members/{member_id}", response_model=schemas.MemberRead, tags=["members"])
def update_member(
    session: SessionDep,
    principal: CurrentPrincipal,
    member_id: uuid.UUID,
    body: schemas.MemberUpdate,
) -> object:
    """Change a member's profile, identifiers or status."""
    member = service.update_member(session, principal, member_id, body)
    return points.member_read(session, member)


@router.delete("/members/{member_id}", status_code=204, tags=["members"])
def delete_member(
    session: SessionDep, principal: CurrentPrincipal, member_id: uuid.UUID
) -> Response:
    """Erase a member with identifiers, consent, points and spend."""
    service.delete_member(session, principal, member_id)
    return no_content()


# ---------------------------------------------------------------- consent
@router.get("/members/{member_id}/consent", response_model=schemas.ConsentRead, tags=["members"])
def read_consent(session: SessionDep, principal: CurrentPrincipal, member_id: uuid.UUID) -> object:
    """Consent per purpose and channel, with the history of changes (newest first)."""
    return consent.consent_of(session, principal, member_id)


@router.put("/members/{member_id}/consent", response_model=schemas.ConsentRead, tags=["members"])
def update_consent(
    session: SessionDep,
    principal: CurrentPrincipal,
    member_id: uuid.UUID,
    body: schemas.ConsentUpdate,
) -> object:
    """Grant or withdraw consent; each change is kept in the history."""
    return consent.set_consent(
        session, principal, member_id, body.consents, source=ConsentSource(body.source)
    )


# ---------------------------------------------------------------- points
@router.get("/members/{member_id}/points", response_model=schemas.PointsBalance, tags=["points"])
def read_points(session: SessionDep, principal: CurrentPrincipal, member_id: uuid.UUID) -> object:
    """Available and locked points as of now, and the next expiry of available points."""
    return points.points_balance(session, principal, member_id)


@router.get(
    "/members/{member_id}/points/ledger",
    response_model=Page[schemas.LedgerEntryRead],
    tags=["points"],
)
def read_ledger(
    session: SessionDep,
    principal: CurrentPrincipal,
    member_id: uuid.UUID,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> object:
    """Every change of the member's points, oldest first, with the running balance; the last
    page ends with unlocks and expiries that came due but are not written yet (`pending`)."""
    return page(points.ledger(session, principal, member_id, limit, cursor))


@router.post(
    "/members/{member_id}/points/adjustments",
    response_model=schemas.LedgerEntryRead,
    status_code=201,
    tags=["points"],
)
def adjust_points(
    session: SessionDep,
    principal: CurrentPrincipal,
    member_id: uuid.UUID,
    body: schemas.PointsAdjust,
) -> object:
    """Add (positive) or remove (negative) available points, with a reason."""
    return points.adjust_points(session, principal, member_id, body)


@router.post(
    "/members/{member_id}/points/redemptions",
    response_model=schemas.LedgerEntryRead,
    status_code=201,
    tags=["points"],
)
def redeem_points(
    session: SessionDep,
    principal: CurrentPrincipal,
    member_id: uuid.UUID,
    body: schemas.PointsRedeem,
) -> object:
    """Spend points, soonest-expiring first; 409 `insufficient_points` when short."""
    return points.redeem_for(session, principal, member_id, body)


# ---------------------------------------------------------------- earn rules
@router.get("/earn-rules", response_model=list[schemas.EarnRuleRead], tags=["points"])
def list_earn_rules(session: SessionDep, principal: CurrentPrincipal) -> object:
    """Earn rules of every brand."""
    return points.list_earn_rules(session, principal)


@router.post("/earn-rules", response_model=schemas.EarnRuleRead, status_code=201, tags=["points"])
def create_earn_rule(
    session: SessionDep, principal: CurrentPrincipal, body: schemas.EarnRuleCreate
) -> object:
    """Define a brand's points per currency unit and multipliers."""
    return points.create_earn_rule(session, principal, body)


@router.get("/earn-rules/{rule_id}", response_model=schemas.EarnRuleRead, tags=["points"])
def read_earn_rule(session: SessionDep, principal: CurrentPrincipal, rule_id: uuid.UUID) -> object:
    """Read an earn rule."""
    return points.get_earn_rule(session, principal, rule_id)


@router.patch("/earn-rules/{rule_id}", response_model=schemas.EarnRuleRead, tags=["points"])
def update_earn_rule(
    session: SessionDep,
    principal: CurrentPrincipal,
    rule_id: uuid.UUID,
    body: schemas.EarnRuleUpdate,
) -> object:
    """Change an earn rule (for orders paid from now on)."""
    return points.update_earn_rule(session, principal, rule_id, body)


@router.delete("/earn-rules/{rule_id}", status_code=204, tags=["points"])
def delete_earn_rule(
    session: SessionDep, principal: CurrentPrincipal, rule_id: uuid.UUID
) -> Response:
    """Delete an earn rule."""
    points.delete_earn_rule(session, principal, rule_id)
    return no_content()


@router.get("/member-settings", response_model=schemas.SettingsRead, tags=["points"])
def read_settings(session: SessionDep, principal: CurrentPrincipal) -> object:
    """The return window and the points expiry rule."""
    return points.get_settings(session, principal)


@router.patch("/member-settings", response_model=schemas.SettingsRead, tags=["points"])
def update_settings(
    session: SessionDep, principal: CurrentPrincipal, body: schemas.SettingsUpdate
) -> object:
    """Change the return window (days) and the expiry rule (days or year_end)."""
    return points.update_settings(session, principal, body)


# ---------------------------------------------------------------- tiers
@router.get("/tiers", response_model=list[schemas.TierRead], tags=["tiers"])
def list_tiers(session: SessionDep, principal: CurrentPrincipal) -> object:
    """Tiers, lowest threshold first."""
    principal.require(Permission.READ)
    return tiers.all_tiers(session)


@router.post("/tiers", response_model=schemas.TierRead, status_code=201, tags=["tiers"])
def create_tier(
    session: SessionDep, principal: CurrentPrincipal, body: schemas.TierCreate
) -> object:
    """Define a tier by its minimum rolling-12-month spend."""
    return tiers.create_tier(session, principal, body)


@router.get("/tiers/{tier_id}", response_model=schemas.TierRead, tags=["tiers"])
def read_tier(session: SessionDep, principal: CurrentPrincipal, tier_id: uuid.UUID) -> object:
    """Read a tier."""
    return tiers.get_tier(session, principal, tier_id)


@router.patch("/tiers/{tier_id}", response_model=schemas.TierRead, tags=["tiers"])
def update_tier(
    session: SessionDep, principal: CurrentPrincipal, tier_id: uuid.UUID, body: schemas.TierUpdate
) -> object:
    """Rename a tier or move its threshold."""
    return tiers.update_tier(session, principal, tier_id, body)


@router.delete("/tiers/{tier_id}", status_code=204, tags=["tiers"])
def delete_tier(session: SessionDep, principal: CurrentPrincipal, tier_id: uuid.UUID) -> Response:
    """Delete a tier."""
    tiers.delete_tier(session, principal, tier_id)
    return no_content()
