"""`newretail reach lift CAMPAIGN [--stage N] [--window-days 14] [--json]`: a campaign's lift
report against its holdout, as the API gives it (docs/reach.md, "Lift report").

The report reads the warehouse. The embedded DuckDB file admits one process, so while a server
runs on the data folder (the demo) the command asks that server's API for it
(core.local_server), as `identity merge` does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer

from newretail.core.cli import (
    Json,
    OrgRef,
    domain_errors,
    emit,
    out,
    state,
    store_options,
    table,
)
from newretail.core.i18n import DEFAULT_LOCALE, translator
from newretail.core.local_server import request_json, running_server, server_client
from newretail.core.money import yuan
from newretail.marketing import campaigns
from newretail.reach import lift_reads, measurement
from newretail.tenancy.operator import operator_session

T = translator(DEFAULT_LOCALE)  # the command speaks English, as its other output


def _figure(found: dict[str, Any] | None, shown: Callable[[float], str]) -> str:
    """An estimate and its interval, or why there is none (the gap's sentence, not its code)."""
    if found is None:
        return "—"
    gap = T(f"reach.lift_gap.{found['gap']}") if found["gap"] else ""
    if found["estimate"] is None:
        return f"— {gap}".rstrip()
    estimate = shown(float(found["estimate"]))
    if found["low"] is None:
        return f"{estimate} {gap}".rstrip()
    return f"{estimate}  [{shown(float(found['low']))} … {shown(float(found['high']))}]"


def _where(w: dict[str, Any]) -> tuple[Any, ...]:
    store = w["store_name"] or "—"
    return (
        w["arm"],
        store,
        w["channel_label"],
        w["converters"],
        w["purchases"],
        yuan(w["gmv"]),
    )


def _print(row: dict[str, Any]) -> None:
    stage = f" · {row['stage_name']}" if row["stage_name"] else ""
    out.print(f"[bold]{row['campaign_name']}{stage}[/bold]: lift in {row['window_days']} days")
    if row["first_exposure"]:
        out.print(f"reached {row['first_exposure']} … {row['last_exposure']} ({row['time_zone']})")
    arms = [(name, row[name]) for name in ("treated", "holdout")]
    table(
        "Arms",
        ["arm", "members", "bought", "rate", "bought where reached", "redeemed", "online interest"],
        [
            (
                name,
                a["members"],
                a["converted"],
                "—" if a["rate"] is None else f"{100 * a['rate']:.2f} %",
                a["converted_where_reached"],
                a["redeemed_members"],
                f"{a['online_interest']} ({a['online_interest_bought_offline']} bought offline)",
            )
            for name, a in arms
        ],
    )
    table(
        "Lift (95 % intervals)",
        ["figure", "estimate [interval]"],
        [
            ("conversion difference", _figure(row["difference"], lambda v: f"{100 * v:+.2f} pp")),
            ("relative lift", _figure(row["relative_lift"], lambda v: f"{100 * v:+.1f} %")),
            ("incremental purchasers", _figure(row["incremental_purchasers"], "{:+,.1f}".format)),
            ("incremental GMV", _figure(row["incremental_gmv"], lambda v: yuan(v, signed=True))),
            (
                "incremental GMV (CUPED)",
                _figure(row["incremental_gmv_cuped"], lambda v: yuan(v, signed=True)),
            ),
            ("cost", yuan(row["cost"])),
            (
                "cost per incremental purchaser",
                _figure(row["cost_per_incremental_purchaser"], yuan),
            ),
        ],
    )
    ratio = row["sample_ratio"]
    if ratio and ratio["observed_holdout_share"] is not None:
        warning = "[red]sample ratio mismatch[/red]: " if ratio["mismatch"] else ""
        out.print(
            f"{warning}sample ratio p = {ratio['p_value']:.3g}: "
            f"{100 * ratio['observed_holdout_share']:.2f} % held out, "
            f"{100 * ratio['expected_holdout_share']:.2f} % configured"
        )
    effect = lift_reads.DetectableEffectRead.model_validate(row["detectable_effect"])
    out.print(lift_reads.detectable_sentence(T, effect))
    table(
        "Where they bought",
        ["arm", "store", "channel", "buyers", "purchases", "GMV"],
        [_where(w) for w in row["where_bought"]],
    )
    for hint in row["hints"]:
        out.print(f"next: {hint['text']}")


@domain_errors
@store_options
def lift(
    ctx: typer.Context,
    campaign: Annotated[str, typer.Argument(help="Campaign name or id")],
    org: OrgRef,
    stage: Annotated[int | None, typer.Option(min=1, help="Stage position (default: all)")] = None,
    window_days: Annotated[
        int,
        typer.Option(min=1, max=measurement.MAX_WINDOW_DAYS, help="Attribution window in days"),
    ] = measurement.DEFAULT_WINDOW_DAYS,
    as_json: Json = False,
) -> None:
    """A campaign's lift against its holdout: arms, intervals, cost, where they bought."""
    settings = state(ctx).settings()
    if running_server(settings) is not None:  # it holds the embedded warehouse
        with operator_session(ctx, org) as (_, session, _):
            campaign_id = campaigns.campaign_by_ref(session, campaign).id
        params: dict[str, int] = {"window_days": window_days}
        if stage is not None:
            params["stage"] = stage
        with server_client(settings, org) as client:
            row = request_json(
                client,
                "GET",
                f"/api/v1/reach/campaigns/{campaign_id}/lift",
                params=params,
                headers={"accept-language": DEFAULT_LOCALE},
            )
        emit(row, as_json, lambda: _print(row))
        return
    with operator_session(ctx, org) as (container, session, principal):
        found = campaigns.campaign_by_ref(session, campaign)
        measured = measurement.measure(
            session, principal, container.warehouse, found.id, stage, window_days
        )
        read = lift_reads.report_read(session, principal, measured, T)
        row = read.model_dump(mode="json")
    emit(row, as_json, lambda: _print(row))
