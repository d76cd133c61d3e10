"""`newretail diagnosis …`: the operations centre's commands — `gmv-change` (why GMV moved),
`causes --store CODE` (why a store's GMV moved), `tiers` (peer tiers), `metrics --by …` (every
metric by group), `funnel KIND` and `recommend --store CODE [--act ID]` (a store's
recommendations; acting on one) — each with `--json` printing what the API answers
(docs/diagnosis.md).

The diagnosis reads the warehouse. The embedded DuckDB file admits one process, so while a
server runs on the data folder (the demo) the command asks that server's API for it
(core.local_server), as `reach lift` does."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import quote

import typer

from newretail.core.cli import Json, OrgRef, command, emit, out, state, table
from newretail.core.i18n import DEFAULT_LOCALE, translator
from newretail.core.money import yuan
from newretail.diagnosis import (
    brand_schemas,
    brand_view,
    breakdown,
    cause_cli,
    cause_schemas,
    causes,
    funnels,
    org_causes,
    peer_schemas,
    peers,
    recommendation_cli,
    report_cli,
    schemas,
    service,
)
from newretail.diagnosis.analysis_schemas import breakdown_read, funnel_read
from newretail.diagnosis.cli_periods import (
    BaseFirstDay,
    BaseLastDay,
    FirstDay,
    LastDay,
    answer,
    day_option,
    day_params,
    days_of,
)
from newretail.tenancy.crowd_floor import min_crowd_size
from newretail.tenancy.operator import OperatorSession

T = translator(DEFAULT_LOCALE)  # the command speaks English, as its other output

diagnosis_app = typer.Typer(
    help="Operations centre: why store figures moved, peer tiers", no_args_is_help=True
)

command(diagnosis_app, "report")(report_cli.weekly_report)  # the weekly store report
command(diagnosis_app, "recommend")(recommendation_cli.recommend)


def _change_line(whole: dict[str, Any]) -> str:
    """GMV before → now and the change split by factor, as the API gives a total."""
    parts = whole["parts"]
    unattributed = Decimal(whole["unattributed"])
    return (
        f"{yuan(whole['base']['gmv'])} → {yuan(whole['comparison']['gmv'])}, "
        f"change {yuan(whole['change'], signed=True)} = visitors "
        f"{yuan(parts['visitors'], signed=True)}, conversion "
        f"{yuan(parts['conversion'], signed=True)}, order value "
        f"{yuan(parts['order_value'], signed=True)}"
        + (f", unattributed {yuan(unattributed, signed=True)}" if unattributed else "")
    )


def _print(row: dict[str, Any]) -> None:
    period, base = row["period"], row["base_period"]
    out.print(
        f"[bold]GMV {period['first_day']} … {period['last_day']}[/bold] against "
        f"{base['first_day']} … {base['last_day']} (local days, {row['time_zone']})"
    )
    out.print("all stores: " + _change_line(row["organisation"]))
    stores = row["stores"]
    table(
        "Stores by the size of their change",
        ["store", "channel", "GMV before", "GMV now", "change"],
        [
            (
                s["store_name"],
                s["channel_label"] or "—",
                yuan(s["base"]["gmv"]),
                yuan(s["comparison"]["gmv"]),
                yuan(s["change"], signed=True),
            )
            for s in stores
        ],
    )
    table(
        "What moved it",
        ["store", "visitors", "conversion", "order value", "method"],
        [
            (
                s["store_name"],
                yuan(s["parts"]["visitors"], signed=True),
                yuan(s["parts"]["conversion"], signed=True),
                yuan(s["parts"]["order_value"], signed=True),
                s["method_label"],
            )
            for s in stores
        ],
    )
    for s in stores:
        if s["flags"]:
            flags = "; ".join(f["text"] for f in s["flags"])
            out.print(f"data quality, {s['store_name']}: {flags}")


@command(diagnosis_app, "gmv-change")
def gmv_change(
    ctx: typer.Context,
    org: OrgRef,
    first_day: FirstDay = None,
    last_day: LastDay = None,
    base_first_day: BaseFirstDay = None,
    base_last_day: BaseLastDay = None,
    as_json: Json = False,
) -> None:
    """Why GMV moved: the period (default: the last 7 complete local days) against the base
    (default: as many days before), each store's change split into visitors, conversion and
    order value."""
    days = days_of(first_day, last_day, base_first_day, base_last_day)

    def here(op: OperatorSession) -> dict[str, Any]:
        container, session, principal = op
        found = service.gmv_change(session, principal, container.warehouse, *days)
        return schemas.gmv_change_read(found, T).model_dump(mode="json")

    row = answer(ctx, org, "/api/v1/diagnosis/gmv-change", day_params(days), here)
    emit(row, as_json, lambda: _print(row))


def _print_brand(row: dict[str, Any]) -> None:
    period, base = row["period"], row["base_period"]
    out.print(
        f"[bold]{row['brand']['name']}: GMV {period['first_day']} … {period['last_day']}"
        f"[/bold] against {base['first_day']} … {base['last_day']} (local days, "
        f"{row['time_zone']})"
    )
    out.print("all its stores: " + _change_line(row["total"]))
    table(
        "The change by store and factor",
        ["store", "GMV before", "GMV now", "change", "visitors", "conversion", "order value"],
        [
            (
                s["store_name"],
                yuan(s["base"]["gmv"]),
                yuan(s["comparison"]["gmv"]),
                yuan(s["change"], signed=True),
                yuan(s["parts"]["visitors"], signed=True),
                yuan(s["parts"]["conversion"], signed=True),
                yuan(s["parts"]["order_value"], signed=True),
            )
            for s in row["stores"]
        ],
    )
    for cause in row["causes"]:
        out.print(f"cause: {cause['text']}")
    table(
        "Its stores by peer tier",
        ["store", "tier", "30-day GMV", "to the next tier", "visitors", "conversion", "order v."],
        [
            (
                s["store_name"],
                f"{s['tier']} / {s['top_tier']}",
                yuan(s["figures"]["gmv"]),
                yuan(s["gmv_to_next_tier"]),
                *(
                    _grade(m)
                    for m in s["metrics"]
                    if m["metric"] in ("visitors", "conversion", "order_value")
                ),
            )
            for s in row["tiers"]
        ],
    )
    for flag in row["data_quality"]:
        out.print(f"data quality: {flag['text']}")


@command(diagnosis_app, "brand")
def brand(
    ctx: typer.Context,
    org: OrgRef,
    code: Annotated[str, typer.Argument(help="The brand's code")],
    first_day: FirstDay = None,
    last_day: LastDay = None,
    base_first_day: BaseFirstDay = None,
    base_last_day: BaseLastDay = None,
    as_json: Json = False,
) -> None:
    """A brand: its GMV change split into stores × factors, the stores explaining each
    factor, its stores by peer tier and data-quality flags."""
    days = days_of(first_day, last_day, base_first_day, base_last_day)
    settings = state(ctx).settings()

    def here(op: OperatorSession) -> dict[str, Any]:
        container, session, principal = op
        found = brand_view.brand_diagnosis(
            session,
            principal,
            container.warehouse,
            code,
            *days,
            config=peers.configured(settings),
            outbox_late=timedelta(minutes=settings.diagnosis_outbox_late_minutes),
            no_store_label=T("diagnosis.no_store"),
        )
        return brand_schemas.brand_diagnosis_read(found, T).model_dump(mode="json")

    path = f"/api/v1/diagnosis/brands/{quote(code, safe='')}"
    row = answer(ctx, org, path, day_params(days), here)
    emit(row, as_json, lambda: _print_brand(row))


def _grade(metric: dict[str, Any]) -> str:
    return str(metric["grade_label"] or "—")


def _print_tiers(row: dict[str, Any]) -> None:
    period, settings = row["period"], row["settings"]
    out.print(
        f"[bold]Peer tiers, 30-day GMV {period['first_day']} … {period['last_day']}[/bold] "
        f"(local days, {row['time_zone']}); tiers 1–{settings['top_tier']}, peer figures "
        f"shown for cells of at least {settings['min_peers']} stores"
    )
    stores = row["stores"]
    table(
        "Stores by tier",
        ["store", "channel", "category", "tier", "30-day GMV", "to the next tier"],
        [
            (
                s["store_name"],
                s["channel_label"],
                s["category_label"],
                f"{s['tier']} / {s['top_tier']}",
                yuan(s["figures"]["gmv"]),
                yuan(s["gmv_to_next_tier"]),
            )
            for s in stores
        ],
    )
    for s in stores:
        out.print(f"{s['store_name']}: {s['next_tier_text']}")
    names = [m["label"] for m in stores[0]["metrics"]] if stores else []
    table(
        "Grades against the tier",
        ["store", *names],
        [(s["store_name"], *(_grade(m) for m in s["metrics"])) for s in stores],
    )
    out.print("— not graded: the tier has too few stores (or values), or the store no figure")
    for s in stores:
        parts = s["gap_parts"]
        if parts:
            out.print(
                f"{s['store_name']}: the gap by factor: visitors "
                f"{yuan(parts['visitors'], signed=True)}, conversion "
                f"{yuan(parts['conversion'], signed=True)}, order value "
                f"{yuan(parts['order_value'], signed=True)}"
            )


@command(diagnosis_app, "tiers")
def tiers(
    ctx: typer.Context,
    org: OrgRef,
    last_day: Annotated[
        datetime | None, day_option("--last-day", "Last day of the 30 (default: yesterday)")
    ] = None,
    as_json: Json = False,
) -> None:
    """Peer tiers: stores tiered by their last-30-local-day GMV within main category ×
    format, graded against their tier, with the GMV each lacks for the next tier."""
    day = None if last_day is None else last_day.date()
    settings = state(ctx).settings()

    def here(op: OperatorSession) -> dict[str, Any]:
        container, session, principal = op
        config = peers.configured(settings)
        found = peers.peer_tiers(session, principal, container.warehouse, config, day)
        return peer_schemas.peer_tiers_read(found, T).model_dump(mode="json")

    row = answer(ctx, org, "/api/v1/diagnosis/tiers", {"last_day": day}, here)
    emit(row, as_json, lambda: _print_tiers(row))


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f} %"


def _people(value: int | None, floor: int) -> str:
    """A count of people as the crowd floor lets it be read: "< 50" when hidden."""
    return f"< {floor}" if value is None else f"{value:,}"


def _print_funnel(row: dict[str, Any]) -> None:
    period, floor = row["period"], row["min_crowd_size"]
    where = f", {row['store_name']}" if row["store_name"] else ""
    out.print(
        f"[bold]{row['kind_label']} funnel{where}, {period['first_day']} … "
        f"{period['last_day']}[/bold] (local days, {row['time_zone']}; window "
        f"{row['window_days']} days)"
    )
    table(
        "People at each step",
        ["step", "people", "of the step before", "of those who entered"],
        [
            (
                s["label"] + (" (optional)" if s["optional"] else ""),
                _people(s["people"], floor),
                _percent(s["from_previous"]),
                _percent(s["from_first"]),
            )
            for s in row["steps"]
        ],
    )
    converted, entered = _people(row["converted"], floor), _people(row["entered"], floor)
    out.print(f"{converted} of {entered} paid ({_percent(row['conversion'])})")


@command(diagnosis_app, "funnel")
def funnel(
    ctx: typer.Context,
    org: OrgRef,
    kind: Annotated[
        funnels.FunnelKind, typer.Argument(help="online, offline (in the stores) or across")
    ],
    first_day: FirstDay = None,
    last_day: LastDay = None,
    store: Annotated[
        str | None, typer.Option("--store", help="A store's code: its side of the funnel")
    ] = None,
    window_days: Annotated[
        int, typer.Option("--window", help="Conversion window in days (1–30)")
    ] = funnels.DEFAULT_WINDOW_DAYS,
    as_json: Json = False,
) -> None:
    """A funnel, view → … → pay, in order within the conversion window: online, offline (in
    the stores) or across (viewed online, paid in a store)."""
    first, last = (None if d is None else d.date() for d in (first_day, last_day))

    def here(op: OperatorSession) -> dict[str, Any]:
        container, session, principal = op
        found = funnels.funnel(
            session, principal, container.warehouse, kind, first, last, store, window_days
        )
        return funnel_read(found, T, min_crowd_size(session)).model_dump(mode="json")

    params: dict[str, object] = {"kind": kind, "first_day": first, "last_day": last}
    params |= {"store": store, "window_days": window_days}
    row = answer(ctx, org, "/api/v1/diagnosis/funnels", params, here)
    emit(row, as_json, lambda: _print_funnel(row))


@command(diagnosis_app, "causes")
def store_causes(
    ctx: typer.Context,
    org: OrgRef,
    store: Annotated[
        str | None, typer.Option("--store", help="The store's code or id (default: all stores)")
    ] = None,
    first_day: FirstDay = None,
    last_day: LastDay = None,
    base_first_day: BaseFirstDay = None,
    base_last_day: BaseLastDay = None,
    as_json: Json = False,
) -> None:
    """Why a store's GMV moved (without --store: the organisation's): the period (default: the
    last 7 complete local days) against the base (default: as many days before), each
    factor's part explained by SKU, category, hour, traffic source, campaign and stock-out
    values (the organisation's by its stores and channel types) in money, and data-quality
    causes (a silent people counter)."""
    days = days_of(first_day, last_day, base_first_day, base_last_day)
    path = "/api/v1/diagnosis/causes"
    if store:
        path = f"/api/v1/diagnosis/stores/{quote(store, safe='')}/causes"

    def here(op: OperatorSession) -> dict[str, Any]:
        container, session, principal = op
        if store is None:
            whole = org_causes.organisation_causes(
                session,
                principal,
                container.warehouse,
                days[0],
                days[1],
                days[2],
                days[3],
                no_store_label=T("diagnosis.no_store"),
            )
            return cause_schemas.organisation_causes_read(whole, T).model_dump(mode="json")
        found = causes.store_causes(
            session,
            principal,
            container.warehouse,
            store,
            days[0],
            days[1],
            days[2],
            days[3],
            other_label=T("diagnosis.cause.other"),
        )
        return cause_schemas.store_causes_read(found, T).model_dump(mode="json")

    row = answer(ctx, org, path, day_params(days), here)
    emit(row, as_json, lambda: cause_cli.print_causes(row))


def _print_metrics(row: dict[str, Any]) -> None:
    period, base, floor = row["period"], row["base_period"], row["min_crowd_size"]
    out.print(
        f"[bold]Metrics by {row['by']}, {period['first_day']} … {period['last_day']}[/bold] "
        f"against {base['first_day']} … {base['last_day']} (local days, {row['time_zone']})"
    )
    groups = row["groups"]
    table(
        "Sales",
        ["", "GMV", "change", "visitors", "conversion", "order value", "refunded"],
        [
            (
                g["name"],
                yuan(g["comparison"]["gmv"]),
                yuan(g["change"], signed=True),
                f"{g['comparison']['visitors']:,}",
                _percent(g["comparison"]["conversion"]),
                yuan(g["comparison"]["order_value"]),
                yuan(g["comparison"]["refunded"]),
            )
            for g in groups
        ],
    )
    table(
        "Buyers",
        ["", "buyers", "new", "returning", "repeat", "members", "across", "campaign GMV"],
        [
            (
                g["name"],
                _people(g["comparison"]["buyers"], floor),
                _people(g["comparison"]["new_buyers"], floor),
                _people(g["comparison"]["returning_buyers"], floor),
                _percent(g["comparison"]["repeat_rate"]),
                _percent(g["comparison"]["member_share"]),
                _percent(g["comparison"]["across_share"]),
                yuan(g["comparison"]["campaign_gmv"]),
            )
            for g in groups
        ],
    )


@command(diagnosis_app, "metrics")
def metrics_by(
    ctx: typer.Context,
    org: OrgRef,
    by: Annotated[
        breakdown.GroupBy, typer.Option("--by", help="store, brand, channel, city, organisation")
    ] = breakdown.GroupBy.STORE,
    first_day: FirstDay = None,
    last_day: LastDay = None,
    base_first_day: BaseFirstDay = None,
    base_last_day: BaseLastDay = None,
    as_json: Json = False,
) -> None:
    """Every metric per store, brand, channel type, city or for the organisation, against the
    comparison period (`--json`: all of them, as the API gives them)."""
    days = days_of(first_day, last_day, base_first_day, base_last_day)

    def here(op: OperatorSession) -> dict[str, Any]:
        container, session, principal = op
        found = breakdown.metrics_by(session, principal, container.warehouse, by, *days)
        return breakdown_read(found, T, min_crowd_size(session)).model_dump(mode="json")

    params = {"by": by, **day_params(days)}
    row = answer(ctx, org, "/api/v1/diagnosis/metrics", params, here)
    emit(row, as_json, lambda: _print_metrics(row))
