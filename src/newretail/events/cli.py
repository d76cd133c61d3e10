"""`newretail events …`: offline data return (CSV), failed events, event types, and the
JetStream loader of the scale-out pipeline.

The import goes through the collector: in this process on the embedded stores, or through a
running server's HTTP collector with `--url` and a source's `--write-key`. The embedded DuckDB
warehouse admits one process: while a server runs on the data folder, `import` sends the file
through it (with `--write-key`) and `replay` asks it to replay.
"""

from __future__ import annotations

import signal
import threading
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.progress import MofNCompleteColumn, Progress, TextColumn
from sqlalchemy import select

from newretail.core.cli import Json, OrgRef, PageSize, command, emit, err, out, state, table
from newretail.core.csvimport import count_rows, print_rejected, progress_bar
from newretail.core.database import session_scope, utcnow
from newretail.core.errors import ConfigurationError
from newretail.core.local_server import request_json, running_server, server_client
from newretail.events import importing, schemas, service
from newretail.events.checker import SourceRef
from newretail.events.collector import Collector
from newretail.events.pipeline import Pipeline
from newretail.events.retention_cli import retention_app
from newretail.events.stream import EventStream, LoadReport
from newretail.tenancy.models import Brand, Store
from newretail.tenancy.operator import operator, operator_session, ready_container

LOAD_RETRY_SECONDS = 1.0  # the loader's pause after a failed batch (PostgreSQL or NATS away)

events_app = typer.Typer(
    help="Events: CSV import, failed events, event types, the stream loader",
    no_args_is_help=True,
)
events_app.add_typer(retention_app, name="retention")
CsvFile = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)]


def _server_sender(client: httpx.Client) -> importing.Sender:
    """Batches sent to a running server's collector (the client carries the write key)."""

    def send(events: list[dict[str, Any]]) -> dict[str, Any]:
        answer = client.post("/api/v1/events", json={"events": events})
        if answer.status_code not in (200, 400) or "failed" not in answer.json():
            raise typer.BadParameter(f"the server answered {answer.status_code}: {answer.text}")
        body: dict[str, Any] = answer.json()
        return body

    return send


def _local_sender(collector: Collector, source: SourceRef) -> importing.Sender:
    """Batches checked and stored by a collector in this process."""

    def send(events: list[dict[str, Any]]) -> dict[str, Any]:
        submission = collector.check(source, events, utcnow(), api="import")
        stored, duplicates = collector.pipeline.write_now(submission)
        return collector.outcome(submission, stored, duplicates).as_dict()

    return send


@command(events_app, "import", with_store_options=False)
def import_events(
    ctx: typer.Context,
    org: OrgRef,
    file: CsvFile,
    url: Annotated[
        str | None, typer.Option(help="A running server, e.g. http://127.0.0.1:8000")
    ] = None,
    write_key: Annotated[str | None, typer.Option(help="A source's write key (with --url)")] = None,
    as_json: Json = False,
) -> None:
    """Import offline events from a CSV file (rejected rows are listed)."""
    if url is not None and not write_key:
        raise typer.BadParameter("--url needs --write-key", param_hint="--write-key")
    server = running_server(state(ctx).settings())
    if url is None and server is not None:
        if not write_key:  # the server holds the embedded warehouse: go through its collector
            raise ConfigurationError(
                f"a NewRetail server is running on this data folder ({server.url}) and holds "
                "the embedded warehouse; send the file through it with --write-key KEY (a "
                "source's write key: `newretail source create --org ORG NAME` prints one), "
                "or stop the server first",
                field="write_key",
            )
        url = server.url
    with operator(ctx, org, actor="events import (CLI)") as (container, org_id, _):
        with session_scope(container.sessions, org_id) as session:
            stores = {code: str(i) for code, i in session.execute(select(Store.code, Store.id))}
            brands = {code: str(i) for code, i in session.execute(select(Brand.code, Brand.id))}
        collector: Collector | None = None
        client: httpx.Client | None = None
        if url is not None:
            client = httpx.Client(
                base_url=url, headers={"Authorization": f"Bearer {write_key}"}, timeout=60
            )
            send = _server_sender(client)
        else:
            collector = Collector(
                container.sessions, container.warehouse, container.settings, container.identity
            )
            send = _local_sender(collector, SourceRef(org_id, None, None))
        try:
            with progress_bar("importing events", count_rows(file), quiet=as_json) as advance:
                report = importing.import_events(file, send, stores, brands, advance)
        finally:
            if collector is not None:
                collector.pipeline.stop()
            if client is not None:
                client.close()

    def human() -> None:
        out.print(
            f"{report.accepted} of {report.rows} rows stored, {report.duplicates} already "
            f"stored, {len(report.rejected)} rejected"
        )
        print_rejected(report.rejected)

    emit(report.as_dict(), as_json, human)


@command(events_app, "failed", with_store_options=False)
def list_failed(
    ctx: typer.Context,
    org: OrgRef,
    status: Annotated[str, typer.Option(help="open, replayed or discarded")] = "open",
    limit: PageSize = 50,
    as_json: Json = False,
) -> None:
    """Events the collector refused, with the field and the reason."""
    with operator_session(ctx, org) as (_, session, principal):
        items, _ = service.list_failed(session, principal, limit, None, status)
        data: list[dict[str, Any]] = [
            {
                "id": str(f.id),
                "received_at": f.received_at.isoformat(),
                "api": f.api,
                "message_id": f.message_id,
                "type": f.event_type,
                "field": f.field,
                "reason": f.reason,
                "status": f.status,
            }
            for f in items
        ]
    emit(
        data,
        as_json,
        lambda: table(
            "Failed events",
            ["id", "received", "message id", "type", "field", "reason"],
            [
                [
                    d["id"][:8],
                    d["received_at"][:19],
                    d["message_id"],
                    d["type"],
                    d["field"],
                    d["reason"],
                ]
                for d in data
            ],
        ),
    )


@command(events_app, "replay", with_store_options=False)
def replay(ctx: typer.Context, org: OrgRef, as_json: Json = False) -> None:
    """Send every open failed event again (after fixing the sender, a store or a schema);
    through the running server when one holds the embedded warehouse."""
    if running_server(state(ctx).settings()) is not None:
        with server_client(state(ctx).settings(), org) as client:
            answer = request_json(client, "POST", "/api/v1/events/failed/replay", json={})
        result = schemas.ReplayResult.model_validate(answer)
        _print_replay(result, as_json)
        return
    with operator(ctx, org, actor="events replay (CLI)") as (container, org_id, owner):
        collector = Collector(
            container.sessions, container.warehouse, container.settings, container.identity
        )
        try:  # the events go to the pipeline once the transaction commits
            with session_scope(container.sessions, org_id) as session:
                result = service.replay_failed(session, owner, collector)
        finally:
            collector.pipeline.stop()
    _print_replay(result, as_json)


def _print_replay(result: schemas.ReplayResult, as_json: bool) -> None:
    emit(
        result.model_dump(),
        as_json,
        lambda: out.print(f"{result.replayed} stored, {result.still_failing} still failing"),
    )


@command(events_app, "types", with_store_options=False)
def list_types(ctx: typer.Context, org: OrgRef, as_json: Json = False) -> None:
    """Built-in and custom event types."""
    with operator_session(ctx, org) as (_, session, principal):
        found = service.list_event_types(session, principal)
    data = [t.model_dump(by_alias=True) for t in found]
    emit(
        data,
        as_json,
        lambda: table(
            "Event types",
            ["name", "built in", "required properties"],
            [[t["name"], t["built_in"], ", ".join(t["schema"].get("required", []))] for t in data],
        ),
    )


@command(events_app, "loader", with_store_options=False)
def loader(
    ctx: typer.Context,
    batch: Annotated[int, typer.Option(min=1, max=10_000, help="Messages per fetch")] = 200,
    once: Annotated[
        bool, typer.Option("--once", help="Load what the stream holds now, then stop")
    ] = False,
    as_json: Json = False,
) -> None:
    """Move events from NATS JetStream into the warehouse (NEWRETAIL_EVENT_STREAM_URL).

    Run as many as needed; they share one durable consumer. Stops on Ctrl-C or SIGTERM."""
    container = ready_container(ctx)
    settings = container.settings
    if not settings.event_stream_url:
        raise typer.BadParameter("NEWRETAIL_EVENT_STREAM_URL is not set (nats://host:4222)")
    settings.stream_warehouse_url()
    stream = EventStream(settings.event_stream_url, settings.event_stream_name)
    pipeline = Pipeline(
        container.sessions,
        container.warehouse,
        container.identity,
        timedelta(days=settings.dedupe_window_days),
        on_loaded=container.on_events_loaded,
    )
    total = LoadReport()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        with Progress(
            TextColumn("loading events"), MofNCompleteColumn(), console=err, disable=as_json
        ) as progress:
            task = progress.add_task("load", total=stream.pending() if once else None)
            while not stop.is_set():
                try:
                    report = stream.load(pipeline.load_columns, batch=batch)
                except Exception as exc:  # the database or NATS away: the messages come back
                    if once:
                        raise
                    err.print(f"loading failed ({type(exc).__name__}: {exc}); again in 1 s")
                    stop.wait(LOAD_RETRY_SECONDS)
                    continue
                total.messages += report.messages
                total.events += report.events
                total.stored += report.stored
                progress.update(task, advance=report.messages)
                if once and report.messages == 0:
                    break
    except KeyboardInterrupt:
        pass
    finally:
        stream.close()
        container.close()
    data = {"messages": total.messages, "events": total.events, "stored": total.stored}
    emit(
        data,
        as_json,
        lambda: out.print(
            f"{total.stored} events stored from {total.messages} messages "
            f"({total.events - total.stored} were already in the warehouse)"
        ),
    )
