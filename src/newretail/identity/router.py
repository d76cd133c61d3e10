"""REST API for OneID: manual merges and undos, the merge audit, conflicts, identifier rules."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from newretail.core.http import page
from newretail.core.pagination import Page
from newretail.identity import schemas, service
from newretail.identity.dependencies import ResolverDep
from newretail.identity.models import ConflictStatus
from newretail.tenancy.dependencies import CurrentPrincipal, Cursor, Limit, SessionDep

router = APIRouter(prefix="/api/v1", tags=["identity"])


@router.post("/identity/merges", response_model=schemas.MergeRead, status_code=201)
def create_merge(
    session: SessionDep,
    resolver: ResolverDep,
    principal: CurrentPrincipal,
    body: schemas.MergeCreate,
) -> object:
    """Merge two members by hand; 409 `merge_refused` when a rule forbids it."""
    return service.merge_members(session, resolver, principal, body)


@router.get("/identity/merges", response_model=Page[schemas.MergeRead])
def list_merges(
    session: SessionDep,
    principal: CurrentPrincipal,
    limit: Limit = 50,
    cursor: Cursor = None,
    member_id: Annotated[uuid.UUID | None, Query(description="Only this member's")] = None,
) -> object:
    """The merge audit (automatic and manual), oldest first."""
    return page(service.list_merges(session, principal, member_id, limit, cursor))


@router.post("/identity/merges/{merge_id}/undo", response_model=schemas.MergeRead)
def undo_merge(
    session: SessionDep, resolver: ResolverDep, principal: CurrentPrincipal, merge_id: uuid.UUID
) -> object:
    """Undo a merge: both members come back with their events, orders, points and consent."""
    return service.undo_merge(session, resolver, principal, merge_id)


@router.get("/identity/conflicts", response_model=Page[schemas.ConflictRead])
def list_conflicts(
    session: SessionDep,
    principal: CurrentPrincipal,
    limit: Limit = 50,
    cursor: Cursor = None,
    status: Annotated[ConflictStatus | None, Query(description="open, dismissed or merged")] = None,
) -> object:
    """Links that were not merged because a rule forbids it."""
    return page(service.list_conflicts(session, principal, status, limit, cursor))


@router.post("/identity/conflicts/{conflict_id}/dismiss", response_model=schemas.ConflictRead)
def dismiss_conflict(
    session: SessionDep, principal: CurrentPrincipal, conflict_id: uuid.UUID
) -> object:
    """Close a conflict without merging."""
    return service.dismiss_conflict(session, principal, conflict_id)


@router.get("/identity/types", response_model=schemas.TypesRead)
def read_types(session: SessionDep, principal: CurrentPrincipal) -> object:
    """Identifier types and their rules (unique per member, maximum per member)."""
    return service.get_types(session, principal)


@router.put("/identity/types", response_model=schemas.TypesRead)
def update_types(
    session: SessionDep,
    resolver: ResolverDep,
    principal: CurrentPrincipal,
    body: schemas.TypesUpdate,
) -> object:
    """Replace the custom identifier types and rule overrides."""
    found = service.set_types(session, principal, body)
    resolver.after_commit_invalidate(session, principal.organization_id)
    return found


@router.get("/members/{member_id}/identities", response_model=schemas.MemberIdentities)
def member_identities(
    session: SessionDep, principal: CurrentPrincipal, member_id: uuid.UUID
) -> object:
    """A member's identifier types and counts (never values) and the members merged into it."""
    return service.member_identities(session, principal, member_id)
