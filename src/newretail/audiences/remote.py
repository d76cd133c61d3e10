"""`newretail audience …` through the running server when it holds the embedded warehouse.

A DuckDB file admits one process and the server owns it (newretail.core.local_server), so
commands that read or write the warehouse (estimate, refresh, insight, export) call the
server's API with the local operator credential instead of opening the file; what they
print is what they print without a server.
"""

from __future__ import annotations

import uuid
from typing import Any

import typer

from newretail.core.cli import state
from newretail.core.errors import NotFound, Unavailable
from newretail.core.local_server import request, request_json, running_server, server_client

API = "/api/v1/audiences"


def server_running(ctx: typer.Context) -> bool:
    """True when a server on this data dir holds the embedded warehouse."""
    return running_server(state(ctx).settings()) is not None


def call(ctx: typer.Context, org: str, method: str, path: str, **kwargs: Any) -> Any:
    """One API call to the running server on behalf of the organisation's owner."""
    with server_client(state(ctx).settings(), org) as client:
        return request_json(client, method, f"{API}{path}", **kwargs)


def audience_id(ctx: typer.Context, org: str, ref: str) -> str:
    """An audience by id or name, as the server knows it."""
    try:
        return str(uuid.UUID(ref))
    except ValueError:
        for audience in call(ctx, org, "GET", ""):
            if audience["name"] == ref:
                return str(audience["id"])
        raise NotFound("audience not found", field="audience") from None


def export(ctx: typer.Context, org: str, audience: str, body: dict[str, Any]) -> tuple[bytes, Any]:
    """The export file and its audit record (as `GET …/exports` lists it)."""
    with server_client(state(ctx).settings(), org) as client:
        response = request(client, "POST", f"{API}/{audience}/exports", json=body)
        export_id = response.headers["X-Export-Id"]
        records = request_json(client, "GET", f"{API}/{audience}/exports")
    summary = next(r for r in records if r["id"] == export_id)
    return response.content, summary


def member_sync_refused() -> Unavailable:
    """sync-members beside a running server: it syncs by itself before every count."""
    return Unavailable(
        "a NewRetail server holds the warehouse; it copies changed members to the member "
        "dimension before every estimate and refresh, so there is nothing to do. To force a "
        "full copy now, stop the server and run the command again",
        field="server",
    )
