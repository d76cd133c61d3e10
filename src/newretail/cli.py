"""The `newretail` command: operator commands of every domain, the server and the demo."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from newretail.audiences import cli as audiences_cli
from newretail.bootstrap import bootstrap
from newretail.core import migrate
from newretail.core.cli import command, emit, out, state, store_options
from newretail.core.database import session_scope
from newretail.core.local_server import local_url
from newretail.core.logs import configure_logging
from newretail.databank import cli as databank_cli
from newretail.demo.organisation import seed_demo
from newretail.demo.traffic import start_demo_traffic
from newretail.diagnosis.cli import diagnosis_app
from newretail.events import cli as events_cli
from newretail.identity.cli import identity_app
from newretail.main import create_app
from newretail.marketing.cli import marketing_app
from newretail.members import cli as members_cli
from newretail.orders import cli as orders_cli
from newretail.privacy import cli as privacy_cli
from newretail.reach.cli import reach_app
from newretail.reach.secret_box import SecretBox
from newretail.simulator import cli as simulator_cli
from newretail.tenancy import cli as tenancy_cli

app = typer.Typer(
    help="NewRetail: one business across online shops and offline stores.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Operational store schema", no_args_is_help=True)
app.add_typer(tenancy_cli.org_app, name="org")
app.add_typer(tenancy_cli.brand_app, name="brand")
app.add_typer(tenancy_cli.store_app, name="store")
app.add_typer(tenancy_cli.source_app, name="source")
app.add_typer(tenancy_cli.user_app, name="user")
app.add_typer(tenancy_cli.api_key_app, name="api-key")
app.add_typer(members_cli.member_app, name="member")
command(members_cli.member_app, "export")(privacy_cli.member_export)
command(members_cli.member_app, "erase")(privacy_cli.member_erase)
app.add_typer(identity_app, name="identity")
app.add_typer(marketing_app, name="marketing")
app.add_typer(reach_app, name="reach")
app.add_typer(orders_cli.import_app, name="import")
app.add_typer(databank_cli.databank_app, name="databank")
app.add_typer(audiences_cli.audience_app, name="audience")
app.add_typer(events_cli.events_app, name="events")
app.add_typer(diagnosis_app, name="diagnosis")
app.add_typer(db_app, name="db")
app.command("simulate")(simulator_cli.simulate)

Host = Annotated[str, typer.Option(help="Address to listen on")]
Port = Annotated[int, typer.Option(help="Port to listen on")]


@app.callback()
@store_options
def root(ctx: typer.Context) -> None:
    """Options here apply to every command: `newretail --data-dir DIR org create ACME`."""


@command(db_app, "upgrade")
def db_upgrade(
    ctx: typer.Context,
    revision: Annotated[str, typer.Argument(help="Target revision")] = "head",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Apply the schema migrations to the operational store."""
    container = bootstrap(state(ctx).settings())
    try:
        before = migrate.current_revision(container.engine)
        migrate.upgrade(container.engine, revision)
        after = migrate.current_revision(container.engine)
    finally:
        container.close()
    emit({"from": before, "to": after}, as_json, lambda: out.print(f"schema: {before} -> {after}"))


SHUTDOWN_GRACE_SECONDS = 5


def _serve(ctx: typer.Context, host: str, port: int, demo: bool, access_log: bool = True) -> None:
    settings = state(ctx).settings(demo=demo) if demo else state(ctx).settings()
    container = bootstrap(settings)
    if settings.is_embedded:
        migrate.upgrade(container.engine)
    elif not migrate.is_current(container.engine):
        container.close()
        raise typer.BadParameter("the schema is not current; run `newretail db upgrade`")
    # one handler for every logger, uvicorn's included; the app logs the access lines (with
    # the request id), so uvicorn's own access log stays off
    configure_logging(settings.log_format, access=access_log)
    uvicorn.run(
        create_app(container=container, local_url=local_url(host, port)),
        host=host,
        port=port,
        log_level="info",
        log_config=None,
        access_log=False,
        http=settings.http_parser,
        h11_max_incomplete_event_size=settings.max_header_bytes,
        timeout_keep_alive=settings.http_keep_alive_seconds,
        limit_concurrency=settings.http_limit_concurrency,
        # an open counter screen (an endless event stream) must not hold the stop: it is
        # cut after 5 s and its EventSource reconnects to the next server with Last-Event-ID
        timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
    )


@command(app)
def serve(
    ctx: typer.Context,
    host: Host = "127.0.0.1",
    port: Port = 8000,
    access_log: Annotated[
        bool, typer.Option("--access-log/--no-access-log", help="Log every request")
    ] = True,
) -> None:
    """Serve the API and the console (upgrades an embedded store first)."""
    _serve(ctx, host, port, demo=False, access_log=access_log)


@command(app)
def demo(
    ctx: typer.Context,
    host: Host = "127.0.0.1",
    port: Port = 8000,
    serve_after: Annotated[bool, typer.Option("--serve/--no-serve")] = True,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Seed the demo organisation on the embedded store, then serve it."""
    settings = state(ctx).settings(demo=True)
    container = bootstrap(settings)
    try:
        migrate.upgrade(container.engine)
        with session_scope(container.sessions) as session:
            credentials = seed_demo(session, SecretBox.from_settings(settings), container.warehouse)
    finally:
        container.close()
    url = f"http://{host}:{port}/console"
    data = {
        "organization_id": credentials.organization_id,
        "console": url,
        "email": credentials.email,
        "password": credentials.password,
        "api_key": credentials.api_key,
        "seeded": credentials.created,
    }

    def human() -> None:
        out.rule("NewRetail demo")
        out.print(f"Console:  [bold]{url}[/bold]")
        out.print(
            f"Login:    [bold]{credentials.email}[/bold] / [bold]{credentials.password}[/bold]"
        )
        out.print(
            f"API key:  [bold]{credentials.api_key}[/bold]  (docs: http://{host}:{port}/docs)"
        )
        out.rule()

    emit(data, as_json, human)
    if serve_after:
        start_demo_traffic(settings, host, port)  # behavioural events, once the server is up
        _serve(ctx, host, port, demo=True)


def main() -> None:
    app()
