"""REST API of public claim codes: put a stage's offer behind a code, list the codes with their
claims, and a member's claim (included by `marketing.router` under its prefix)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from newretail.marketing import claims, reads, schemas
from newretail.tenancy.dependencies import CurrentPrincipal, SessionDep
from newretail.tenancy.permissions import Permission

router = APIRouter()


@router.post(
    "/campaigns/{campaign_id}/stages/{stage_id}/claim-codes",
    response_model=schemas.ClaimCodeRead,
    status_code=201,
)
def create_claim_code(
    session: SessionDep,
    principal: CurrentPrincipal,
    campaign_id: uuid.UUID,
    stage_id: uuid.UUID,
    body: schemas.ClaimCodeIn,
) -> object:
    """Put an offer of the stage behind a public code (DOUBLE11) with a limit of claims."""
    row = claims.create_claim_code(session, principal, campaign_id, stage_id, body)
    return claims.claim_code_read(session, row)


@router.get("/claim-codes", response_model=list[schemas.ClaimCodeRead])
def list_claim_codes(session: SessionDep, principal: CurrentPrincipal) -> object:
    """Every public claim code, with its campaign, stage, offer and claims so far."""
    principal.require(Permission.READ)
    return [claims.claim_code_read(session, row) for row in claims.list_claim_codes(session)]


@router.post("/claims", response_model=schemas.ClaimRead, status_code=201)
def claim(
    session: SessionDep, principal: CurrentPrincipal, body: schemas.ClaimIn, response: Response
) -> object:
    """A member claims a public code: 201 with the coupon issued now, 200 with the coupon the
    member holds already; 409 `claim_limit` when its claims are used up."""
    claimed = claims.claim(session, principal, body.code, body.member_id, store_id=body.store_id)
    if not claimed.new:
        response.status_code = 200
    return schemas.ClaimRead(
        new=claimed.new, coupon=reads.coupon_reads(session, [claimed.coupon])[0]
    )
