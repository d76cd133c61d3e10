"""Operator commands for OneID: merge, unmerge, the merge audit and conflicts.

`merge` and `unmerge` move warehouse events too. The embedded DuckDB warehouse admits one
process, so while a server runs on the data folder they go through its API
(core.local_server: POST /api/v1/identity/merges, /merges/{id}/undo).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import typer

from newretail.core.cli import (
    Json,
    OrgRef,
    PageCursor,
    PageSize,
    api_json,
    command,
    emit,
    out,
    state,
    table,
)
from newretail.core.local_server import request_json, running_server, server_client
from newretail.identity import schemas, service
from newretail.identity.models import ConflictStatus
from newretail.tenancy.operator import operator_session

identity_app = typer.Typer(help="OneID: merges, unmerges and conflicts", no_args_is_help=True)


def _through_server(
    ctx: typer.Context, org: str, path: str, body: dict[str, Any] | None
) -> dict[str, Any]:
    """POST to the server holding the embedded warehouse, as the organisation's owner."""
    with server_client(state(ctx).settings(), org) as client:
        answer: dict[str, Any] = request_json(client, "POST", path, json=body)
    return answer


def _merge_row(merge: Any) -> dict[str, Any]:
    return api_json(schemas.MergeRead, merge)


def _print_merges(rows: list[dict[str, Any]]) -> None:
    table(
        "Merges",
        ["id", "merged at", "survivor", "merged member", "reason", "actor", "undone"],
        [
            [
                r["id"],
                r["merged_at"][:16],
                r["survivor_id"],
                r["loser_id"],
                r["reason"],
                r["actor"],
                r["undone_by"] or "",
            ]
            for r in rows
        ],
    )


@command(identity_app, "merge")
def identity_merge(
    ctx: typer.Context,
    member_id: uuid.UUID,
    other_member_id: uuid.UUID,
    org: OrgRef,
    force: Annotated[
        bool, typer.Option(help="Lift the maximums and the group size (never the unique rule)")
    ] = False,
    as_json: Json = False,
) -> None:
    """Merge two members (the older / known one survives); refused if a rule forbids it."""
    if running_server(state(ctx).settings()) is not None:
        body = {"member_id": str(member_id), "other_member_id": str(other_member_id)}
        data = _through_server(ctx, org, "/api/v1/identity/merges", {**body, "force": force})
        emit(data, as_json, lambda: _print_merges([data]))
        return
    with operator_session(ctx, org) as (container, session, principal):
        merge = service.merge_members(
            session,
            container.identity,
            principal,
            schemas.MergeCreate(member_id=member_id, other_member_id=other_member_id, force=force),
        )
        data = _merge_row(merge)
    emit(data, as_json, lambda: _print_merges([data]))


@command(identity_app, "unmerge")
def identity_unmerge(
    ctx: typer.Context, merge_id: uuid.UUID, org: OrgRef, as_json: Json = False
) -> None:
    """Undo a merge: both members come back with their events, orders and points."""
    if running_server(state(ctx).settings()) is not None:
        data = _through_server(ctx, org, f"/api/v1/identity/merges/{merge_id}/undo", None)
        emit(data, as_json, lambda: _print_merges([data]))
        return
    with operator_session(ctx, org) as (container, session, principal):
        data = _merge_row(service.undo_merge(session, container.identity, principal, merge_id))
    emit(data, as_json, lambda: _print_merges([data]))


@command(identity_app, "merges")
def identity_merges(
    ctx: typer.Context,
    org: OrgRef,
    member: Annotated[uuid.UUID | None, typer.Option(help="Only this member's merges")] = None,
    limit: PageSize = 50,
    cursor: PageCursor = None,
    as_json: Json = False,
) -> None:
    """The merge audit, oldest first."""
    with operator_session(ctx, org) as (_container, session, principal):
        items, next_cursor = service.list_merges(session, principal, member, limit, cursor)
        rows = [_merge_row(m) for m in items]
    emit({"items": rows, "next_cursor": next_cursor}, as_json, lambda: _print_merges(rows))


@command(identity_app, "conflicts")
def identity_conflicts(
    ctx: typer.Context,
    org: OrgRef,
    status: Annotated[ConflictStatus | None, typer.Option(help="open, dismissed or merged")] = (
        ConflictStatus.OPEN
    ),
    dismiss: Annotated[uuid.UUID | None, typer.Option(help="Dismiss this conflict")] = None,
    limit: PageSize = 50,
    cursor: PageCursor = None,
    as_json: Json = False,
) -> None:
    """List conflicts (links a rule kept apart), or dismiss one with --dismiss ID."""
    with operator_session(ctx, org) as (_container, session, principal):
        if dismiss is not None:
            conflict = service.dismiss_conflict(session, principal, dismiss)
            data: Any = api_json(schemas.ConflictRead, conflict)
            emit(data, as_json, lambda: out.print(f"dismissed {data['id']}"))
            return
        items, next_cursor = service.list_conflicts(session, principal, status, limit, cursor)
        rows = [api_json(schemas.ConflictRead, c) for c in items]

    def human() -> None:
        table(
            "Conflicts",
            ["id", "created", "kind", "type", "member a", "member b", "status"],
            [
                [
                    r["id"],
                    r["created_at"][:16],
                    r["kind"],
                    r["identifier_type"] or "",
                    r["member_a"],
                    r["member_b"],
                    r["status"],
                ]
                for r in rows
            ],
        )

    emit({"items": rows, "next_cursor": next_cursor}, as_json, human)
