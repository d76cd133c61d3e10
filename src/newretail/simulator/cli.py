"""`newretail simulate`: shopper traffic through the real HTTP collector and orders API."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from newretail.core.cli import (
    Json,
    OrgRef,
    domain_errors,
    emit,
    err,
    out,
    state,
    store_options,
    table,
)
from newretail.core.database import session_scope
from newretail.core.errors import InvalidInput
from newretail.simulator.access import simulator_access
from newretail.simulator.campaign_effect import (
    MAX_APPROACHES,
    EffectReport,
    check_effect,
    run_effect_phase,
)
from newretail.simulator.driver import SimulationReport, check_arguments, run_simulation
from newretail.simulator.server import local_server
from newretail.tenancy.operator import ready_container


def _end(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput("not an ISO 8601 time", field="end") from exc


@domain_errors
@store_options
def simulate(
    ctx: typer.Context,
    org: OrgRef,
    days: Annotated[int, typer.Option(help="Simulate the last N days (1–365)")] = 7,
    rate: Annotated[
        int, typer.Option(help="Shopper sessions per day (visits, browses, walks; see docs)")
    ] = 100,
    url: Annotated[
        str | None,
        typer.Option(help="A running server; default: start the app on a free local port"),
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="Random seed (same seed and end: same traffic)")
    ] = None,
    end: Annotated[
        str | None, typer.Option(help="End of the simulated period, ISO 8601 (default: now)")
    ] = None,
    campaign_effect: Annotated[
        float | None,
        typer.Option(
            help="Then approach a trigger rule's counter with known members; those the server "
            "reached buy with --base-rate + this (absolute), the others with --base-rate"
        ),
    ] = None,
    base_rate: Annotated[
        float, typer.Option(help="Purchase probability after a counter approach (0–1)")
    ] = 0.1,
    effect_members: Annotated[
        int | None, typer.Option(min=1, max=MAX_APPROACHES, help="Members approaching")
    ] = None,
    as_json: Json = False,
) -> None:
    """Drive shoppers through districts, pop-ups, counters, cloud shelves, vending machines
    and the online shop: events to the collector, purchases to the orders API."""
    until = _end(end)
    chosen_seed = seed if seed is not None else secrets.randbelow(1_000_000)
    check_arguments(days, rate, until, chosen_seed)
    if campaign_effect is not None:
        check_effect(campaign_effect, base_rate)
    if url is None:
        # the in-process server only relays the outbox; no maintenance jobs of its own
        state(ctx).overrides["maintenance_seconds"] = 0
        if state(ctx).settings().secret_key is None:
            # it signs no console sessions, but refuses to start without a key
            state(ctx).overrides["secret_key"] = secrets.token_urlsafe(48)
    container = ready_container(ctx)
    try:
        with session_scope(container.sessions) as session:
            access = simulator_access(session, org)
        with Progress(
            TextColumn("simulating"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=err,
            disable=as_json and not err.is_terminal,
        ) as progress:
            task = progress.add_task("simulate", total=None)

            def run(target: str) -> tuple[SimulationReport, EffectReport | None]:
                traffic = run_simulation(
                    target,
                    access,
                    days,
                    rate,
                    chosen_seed,
                    until,
                    on_plan=lambda steps: progress.update(task, total=steps),
                    step=lambda n: progress.advance(task, n),
                )
                if campaign_effect is None:
                    return traffic, None
                phase = run_effect_phase(
                    target, access, campaign_effect, base_rate, chosen_seed, effect_members
                )
                return traffic, phase

            if url is not None:
                report, effect = run(url)
            else:
                with local_server(container) as local_url:
                    report, effect = run(local_url)
    finally:
        container.close()
    data = report.as_dict()
    if effect is not None:
        data["campaign_effect"] = effect.as_dict()

    def human() -> None:
        out.print(
            f"{report.organization}: {report.sessions} sessions of {report.shoppers} shoppers "
            f"over {report.days} days (seed {report.seed}), {report.members_identified} identified"
        )
        out.print(
            f"events: {report.events_sent} sent, {report.accepted} accepted, "
            f"{report.duplicates} duplicates, {report.failed} failed"
        )
        out.print(
            f"orders: {report.orders} placed, {report.orders_replayed} already there, "
            f"{report.orders_failed} failed; {report.restocks} deliveries"
        )
        if effect is not None:
            out.print(
                f"campaign {effect.campaign} at {effect.store}: {effect.approached} approached, "
                f"{effect.treated} reached ({effect.treated_bought} bought), {effect.held_out} "
                f"held out ({effect.held_out_bought} bought); "
                f"true effect {effect.campaign_effect:+.2f}"
            )
        if report.failures:
            table(
                "First failures",
                ["what", "type", "field", "reason"],
                [
                    [f.get("message_id") or f.get("order"), f["type"], f["field"], f["reason"]]
                    for f in report.failures
                ],
            )

    emit(data, as_json, human)
