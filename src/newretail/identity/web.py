"""Console pages for OneID: merges (with undo) and conflicts (with dismiss)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from newretail.console.shell import Form, check_csrf, redirect, render
from newretail.identity import service
from newretail.identity.dependencies import ResolverDep
from newretail.identity.member_labels import member_labels, profile_labels
from newretail.identity.models import ConflictStatus
from newretail.tenancy.dependencies import Identity, SessionDep
from newretail.tenancy.permissions import Permission

router = APIRouter(prefix="/console", include_in_schema=False)
PAGE_SIZE = 100


@router.get("/identity")
def identity_page(
    request: Request,
    session: SessionDep,
    identity: Identity,
    cursor: str | None = None,
    conflict_cursor: str | None = None,
) -> Response:
    principal = identity.principal
    merges, next_cursor = service.list_merges(session, principal, None, PAGE_SIZE, cursor)
    conflicts, next_conflicts = service.list_conflicts(
        session, principal, ConflictStatus.OPEN, PAGE_SIZE, conflict_cursor
    )
    sides = {m.survivor_id for m in merges} | {m.loser_id for m in merges}
    members = {c.member_a for c in conflicts} | {c.member_b for c in conflicts}
    return render(
        request,
        "identity/identity.html",
        identity,
        section="identity",
        merges=merges,
        next_cursor=next_cursor,
        conflicts=conflicts,
        next_conflicts=next_conflicts,
        members=member_labels(session, members),  # conflicts: the two members now
        sides=profile_labels(session, sides),  # merges: each side as it was merged
        can_manage=principal.can(Permission.MANAGE_MEMBERS),
    )


@router.post("/identity/merges/{merge_id}/undo")
def undo_merge(
    session: SessionDep,
    resolver: ResolverDep,
    identity: Identity,
    merge_id: uuid.UUID,
    form: Form,
) -> Response:
    check_csrf(identity, form)
    service.undo_merge(session, resolver, identity.principal, merge_id)
    return redirect("/console/identity")


@router.post("/identity/conflicts/{conflict_id}/dismiss")
def dismiss_conflict(
    session: SessionDep, identity: Identity, conflict_id: uuid.UUID, form: Form
) -> Response:
    check_csrf(identity, form)
    service.dismiss_conflict(session, identity.principal, conflict_id)
    return redirect("/console/identity")


def member_identity(session: Session, identity: Any, member_id: uuid.UUID) -> dict[str, Any]:
    """What the member page shows about OneID: identifier counts and merged members."""
    found = service.member_identities(session, identity.principal, member_id)
    return {
        "info": found,
        "member": member_labels(session, [found.canonical_id])[found.canonical_id],
        "sides": profile_labels(session, [m.loser_id for m in found.merged_from]),
    }
