"""`newretail databank …`: snapshots, backfill, stages, flows and FAST from the terminal.

Days are the organisation's local days (its time zone); the default is its yesterday. While a
server runs on the embedded data dir it holds the DuckDB warehouse: these commands then go
through that server's API (newretail.core.local_server), with the same output.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Annotated, Any, TypeVar

import httpx
import typer
from rich.progress import Progress
from sqlalchemy import select
from sqlalchemy.orm import Session

from newretail.core.cli import Json, OrgRef, command, emit, out, stderr_progress, table
from newretail.core.limits import DEFAULT_MAX_RANGE_DAYS, most_weeks
from newretail.core.local_server import running_server, server_client
from newretail.core.settings import Settings
from newretail.databank import schemas, service, through_server
from newretail.databank.analytics import STAGE_NAMES
from newretail.databank.snapshots import SnapshotMode, SnapshotRun
from newretail.tenancy import models as tenancy_models
from newretail.tenancy.crowd_floor import min_crowd_size
from newretail.tenancy.operator import OperatorSession, operator_session
from newretail.tenancy.permissions import Principal

T = TypeVar("T")
databank_app = typer.Typer(help="Data Bank: AIPL consumer assets", no_args_is_help=True)

Day = Annotated[
    str,
    typer.Option(
        "--date", help="Day (YYYY-MM-DD, the organisation's local day); default yesterday"
    ),
]
Brand = Annotated[str | None, typer.Option("--brand", help="Only this brand id")]


def _day(value: str, option: str, session: Session, principal: Principal) -> date:
    if not value:
        return service.local_yesterday(session, principal)
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"{option} takes YYYY-MM-DD, not {value!r}") from exc


def _brand_names(session: Session) -> dict[str, str]:
    """Brand names by id, for the tables a person reads (--json keeps the ids)."""
    return {
        str(brand_id): name
        for brand_id, name in session.execute(
            select(tenancy_models.Brand.id, tenancy_models.Brand.name)
        )
    }


@contextmanager
def _server(settings: Settings, org: str, session: Session) -> Iterator[httpx.Client | None]:
    """The running server's API when one holds the embedded warehouse, else None.

    Before asking the server, the command ends its own read transaction: on SQLite every
    transaction takes the one write lock (BEGIN IMMEDIATE), so the server's request would
    wait for this process until its busy timeout.
    """
    if running_server(settings) is None:
        yield None
        return
    session.commit()
    with server_client(settings, org) as client:
        yield client


def _through_server_or_here(
    settings: Settings,
    org: str,
    session: Session,
    in_server: Callable[[httpx.Client], T],
    here: Callable[[], T],
) -> T:
    """The answer of the running server that holds the embedded warehouse, or else the
    answer computed in this process."""
    with _server(settings, org, session) as remote:
        return in_server(remote) if remote is not None else here()


def _run_dict(run: SnapshotRun) -> dict[str, Any]:
    return {"date": run.date.isoformat(), "mode": run.mode.value, "rows": run.rows}


@command(databank_app, "snapshot")
def snapshot(
    ctx: typer.Context,
    org: OrgRef,
    day: Day = "",
    mode: Annotated[SnapshotMode, typer.Option(help="auto, full or incremental")] = (
        SnapshotMode.AUTO
    ),
    as_json: Json = False,
) -> None:
    """Materialise the AIPL snapshot of one day."""
    with operator_session(ctx, org) as (container, session, principal):
        on = _day(day, "--date", session, principal)

        def here() -> dict[str, Any]:
            body = schemas.SnapshotCreate(date=on, mode=mode)
            runs = service.run_snapshots(session, principal, container.warehouse, body)
            return _run_dict(runs[0])

        data = _through_server_or_here(
            container.settings,
            org,
            session,
            lambda remote: through_server.snapshot(remote, on, mode),
            here,
        )
    emit(data, as_json, lambda: out.print(f"{data['date']}: {data['rows']} rows ({data['mode']})"))


@command(databank_app, "backfill")
def backfill(
    ctx: typer.Context,
    org: OrgRef,
    start: Annotated[str, typer.Option("--from", help="First day (YYYY-MM-DD)")],
    end: Annotated[str, typer.Option("--to", help="Last day (YYYY-MM-DD)")],
    as_json: Json = False,
) -> None:
    """Snapshots of every day in a range: the first in full, the rest incrementally."""
    progress = stderr_progress("[bold]backfill[/bold] {task.description}", hidden=as_json)
    with progress, operator_session(ctx, org) as (container, session, principal):
        first = _day(start, "--from", session, principal)
        last = _day(end, "--to", session, principal)
        if last < first:
            raise typer.BadParameter("--to is before --from")
        if (last - first).days > 3660:
            raise typer.BadParameter("backfill at most ten years at a time")
        task = progress.add_task(first.isoformat(), total=(last - first).days + 1)
        operator = OperatorSession(container, session, principal)
        data = _through_server_or_here(
            container.settings,
            org,
            session,
            lambda remote: _backfill_in_server(remote, first, last, progress, task),
            lambda: _backfill_here(operator, first, last, progress, task),
        )
    emit(
        data,
        as_json,
        lambda: table("Snapshots", ["date", "mode", "rows"], [list(r.values()) for r in data]),
    )


def _backfill_in_server(
    remote: httpx.Client, first: date, last: date, progress: Progress, task: Any
) -> list[dict[str, Any]]:
    def show(done: int, total: int, day: str | None) -> None:
        progress.update(task, completed=done, total=total, description=day or first.isoformat())

    try:
        return through_server.backfill(remote, first, last, show)
    except through_server.BackfillFailed as exc:
        raise typer.BadParameter(f"the server's backfill failed: {exc}") from exc


def _backfill_here(
    operator: OperatorSession, first: date, last: date, progress: Progress, task: Any
) -> list[dict[str, Any]]:
    runs: list[SnapshotRun] = []

    def advance(run: SnapshotRun) -> None:
        runs.append(run)
        progress.update(task, advance=1, description=run.date.isoformat())

    body = schemas.SnapshotCreate.model_construct(date=first, end=last, mode=SnapshotMode.AUTO)
    container, session, principal = operator
    service.run_snapshots(session, principal, container.warehouse, body, advance)
    return [_run_dict(r) for r in runs]


def _count(value: int | None, floor: int) -> object:
    """A count as the floor lets it be read: "< 50" when hidden."""
    return f"< {floor}" if value is None else value


@command(databank_app, "stages")
def stages(
    ctx: typer.Context, org: OrgRef, day: Day = "", brand: Brand = None, as_json: Json = False
) -> None:
    """Members per AIPL stage for each brand on a day."""
    with operator_session(ctx, org) as (container, session, principal):
        on = _day(day, "--date", session, principal)
        data = _through_server_or_here(
            container.settings,
            org,
            session,
            lambda remote: through_server.stages(remote, on, brand),
            lambda: service.Reader(
                session, principal, container.warehouse, container.settings.max_range_days
            ).stage_counts(on, brand),
        )
        names = _brand_names(session)
        floor = min_crowd_size(session)
    data = {"date": on.isoformat(), "min_crowd_size": floor, "brands": data["brands"]}
    emit(
        data,
        as_json,
        lambda: table(
            f"AIPL on {on}",
            ["brand", *STAGE_NAMES],
            [
                [
                    names.get(b["brand_id"], b["brand_id"]),
                    *(_count(b[s], floor) for s in STAGE_NAMES),
                ]
                for b in data["brands"]
            ],
        ),
    )


@command(databank_app, "flows")
def flows(
    ctx: typer.Context,
    org: OrgRef,
    start: Annotated[str, typer.Option("--from", help="Start day (YYYY-MM-DD)")],
    end: Annotated[str, typer.Option("--to", help="End day (YYYY-MM-DD)")],
    brand: Brand = None,
    as_json: Json = False,
) -> None:
    """Stage flows between two days: stayed, moved, churned and new."""
    with operator_session(ctx, org) as (container, session, principal):
        first = _day(start, "--from", session, principal)
        last = _day(end, "--to", session, principal)
        data = _through_server_or_here(
            container.settings,
            org,
            session,
            lambda remote: through_server.flows(remote, first, last, brand),
            lambda: service.Reader(
                session, principal, container.warehouse, container.settings.max_range_days
            ).flows(first, last, brand),
        )
        names = _brand_names(session)
        floor = min_crowd_size(session)
    data = {**data, "from_date": first.isoformat(), "to_date": last.isoformat()}

    def human() -> None:
        for flow in data["brands"]:
            rows = [
                [
                    s["stage"],
                    _count(s["start"], floor),
                    _count(s["stayed"], floor),
                    *(_count(s["moved"][o], floor) if o in s["moved"] else "" for o in STAGE_NAMES),
                    _count(s["churned"], floor),
                ]
                for s in flow["stages"]
            ]
            rows.append(["new", "", "", *(_count(flow["new"][o], floor) for o in STAGE_NAMES), ""])
            table(
                f"{names.get(flow['brand_id'], flow['brand_id'])}: {first} → {last}",
                ["from", "start", "stayed", *(f"→{s}" for s in STAGE_NAMES), "churned"],
                rows,
            )

    emit(data, as_json, human)


@command(databank_app, "fast")
def fast(
    ctx: typer.Context,
    org: OrgRef,
    end: Annotated[str, typer.Option("--end", help="Last day of the last week")] = "",
    weeks: Annotated[int, typer.Option(min=1, max=most_weeks(DEFAULT_MAX_RANGE_DAYS))] = 8,
    brand: Brand = None,
    as_json: Json = False,
) -> None:
    """FAST per brand per week (needs the snapshots of the week ends; see backfill)."""
    with operator_session(ctx, org) as (container, session, principal):
        last = _day(end, "--end", session, principal)
        data = _through_server_or_here(
            container.settings,
            org,
            session,
            lambda remote: through_server.fast(remote, last, weeks, brand),
            lambda: [
                {**r, "week_end": r["week_end"].isoformat()}
                for r in service.Reader(
                    session, principal, container.warehouse, container.settings.max_range_days
                ).fast(last, weeks, brand)
            ],
        )
        names = _brand_names(session)
        floor = min_crowd_size(session)

    def row(week: dict[str, Any]) -> list[object]:
        # "—": no snapshot of that day (see backfill) or nothing to divide by; a member count
        # the crowd floor hides reads "< 50", and the ratios built on it "—"
        def cell(name: str) -> object:
            value = week[name]
            if value is None and week.get("suppressed") and name in ("fertility", "superiority"):
                return _count(None, floor)
            return "—" if value is None else value

        return [
            names.get(week["brand_id"], week["brand_id"]),
            week["week_end"],
            *(cell(c) for c in ("fertility", "advancing", "superiority", "thriving")),
        ]

    columns = ["week_end", "fertility", "advancing", "superiority", "thriving"]
    emit(data, as_json, lambda: table("FAST", ["brand", *columns], [row(r) for r in data]))
