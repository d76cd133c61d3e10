"""`newretail databank …`: snapshots, backfill, stages, flows and FAST from the terminal.

With the embedded DuckDB warehouse these commands need the server stopped (the file admits
one process); otherwise go through the API (POST /api/v1/databank/snapshots).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from newretail.core.cli import Json, OrgRef, domain_errors, emit, err, out, store_options, table
from newretail.databank import schemas, service
from newretail.databank.analytics import STAGE_NAMES
from newretail.databank.snapshots import SnapshotMode, SnapshotRun
from newretail.tenancy.operator import operator_session

databank_app = typer.Typer(help="Data Bank: AIPL consumer assets", no_args_is_help=True)

Day = Annotated[str, typer.Option("--date", help="Day (YYYY-MM-DD, UTC); default yesterday")]
Brand = Annotated[str | None, typer.Option("--brand", help="Only this brand id")]


def _day(value: str, option: str) -> date:
    if not value:
        return date.today() - timedelta(days=1)
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"{option} takes YYYY-MM-DD, not {value!r}") from exc


def _run_dict(run: SnapshotRun) -> dict[str, Any]:
    return {"date": run.date.isoformat(), "mode": run.mode.value, "rows": run.rows}


@databank_app.command("snapshot")
@domain_errors
@store_options
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
    on = _day(day, "--date")
    with operator_session(ctx, org) as (container, session, principal):
        runs = service.run_snapshots(
            session, principal, container.warehouse, schemas.SnapshotCreate(date=on, mode=mode)
        )
    data = _run_dict(runs[0])
    emit(data, as_json, lambda: out.print(f"{data['date']}: {data['rows']} rows ({data['mode']})"))


@databank_app.command("backfill")
@domain_errors
@store_options
def backfill(
    ctx: typer.Context,
    org: OrgRef,
    start: Annotated[str, typer.Option("--from", help="First day (YYYY-MM-DD)")],
    end: Annotated[str, typer.Option("--to", help="Last day (YYYY-MM-DD)")],
    as_json: Json = False,
) -> None:
    """Snapshots of every day in a range: the first in full, the rest incrementally."""
    first, last = _day(start, "--from"), _day(end, "--to")
    if last < first:
        raise typer.BadParameter("--to is before --from")
    runs: list[SnapshotRun] = []
    progress = Progress(
        TextColumn("[bold]backfill[/bold] {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=as_json,
    )
    with progress, operator_session(ctx, org) as (container, session, principal):
        task = progress.add_task(first.isoformat(), total=(last - first).days + 1)

        def advance(run: SnapshotRun) -> None:
            runs.append(run)
            progress.update(task, advance=1, description=run.date.isoformat())

        body = schemas.SnapshotCreate.model_construct(date=first, end=last, mode=SnapshotMode.AUTO)
        if (last - first).days > 3660:
            raise typer.BadParameter("backfill at most ten years at a time")
        service.run_snapshots(session, principal, container.warehouse, body, advance)
    data = [_run_dict(r) for r in runs]
    emit(
        data,
        as_json,
        lambda: table("Snapshots", ["date", "mode", "rows"], [list(r.values()) for r in data]),
    )


@databank_app.command("stages")
@domain_errors
@store_options
def stages(
    ctx: typer.Context, org: OrgRef, day: Day = "", brand: Brand = None, as_json: Json = False
) -> None:
    """Members per AIPL stage for each brand on a day."""
    on = _day(day, "--date")
    with operator_session(ctx, org) as (container, session, principal):
        data = service.stage_counts(session, principal, container.warehouse, on, brand)
    data = {"date": on.isoformat(), "brands": data["brands"]}
    emit(
        data,
        as_json,
        lambda: table(
            f"AIPL on {on}",
            ["brand", *STAGE_NAMES],
            [[b["brand_id"], *(b[s] for s in STAGE_NAMES)] for b in data["brands"]],
        ),
    )


@databank_app.command("flows")
@domain_errors
@store_options
def flows(
    ctx: typer.Context,
    org: OrgRef,
    start: Annotated[str, typer.Option("--from", help="Start day (YYYY-MM-DD)")],
    end: Annotated[str, typer.Option("--to", help="End day (YYYY-MM-DD)")],
    brand: Brand = None,
    as_json: Json = False,
) -> None:
    """Stage flows between two days: stayed, moved, churned and new."""
    first, last = _day(start, "--from"), _day(end, "--to")
    with operator_session(ctx, org) as (container, session, principal):
        data = service.flows(session, principal, container.warehouse, first, last, brand)
    data = {**data, "from_date": first.isoformat(), "to_date": last.isoformat()}

    def human() -> None:
        for flow in data["brands"]:
            rows = [
                [
                    s["stage"],
                    s["start"],
                    s["stayed"],
                    *(s["moved"].get(o, "") for o in STAGE_NAMES),
                    s["churned"],
                ]
                for s in flow["stages"]
            ]
            rows.append(["new", "", "", *(flow["new"][o] for o in STAGE_NAMES), ""])
            table(
                f"{flow['brand_id']}: {first} → {last}",
                ["from", "start", "stayed", *(f"→{s}" for s in STAGE_NAMES), "churned"],
                rows,
            )

    emit(data, as_json, human)


@databank_app.command("fast")
@domain_errors
@store_options
def fast(
    ctx: typer.Context,
    org: OrgRef,
    end: Annotated[str, typer.Option("--end", help="Last day of the last week")] = "",
    weeks: Annotated[int, typer.Option(min=1, max=260)] = 8,
    brand: Brand = None,
    as_json: Json = False,
) -> None:
    """FAST per brand per week (needs the snapshots of the week ends; see backfill)."""
    last = _day(end, "--end")
    with operator_session(ctx, org) as (container, session, principal):
        rows = service.fast(session, principal, container.warehouse, last, weeks, brand)
    data = [{**r, "week_end": r["week_end"].isoformat()} for r in rows]
    columns = ["brand_id", "week_end", "fertility", "advancing", "superiority", "thriving"]
    emit(
        data,
        as_json,
        lambda: table("FAST", columns, [[r[c] for c in columns] for r in data]),
    )
