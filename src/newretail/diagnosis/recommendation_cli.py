"""`newretail diagnosis recommend --org ORG --store CODE [period] [--act ID] [--json]`: a store's
recommendations for a period, each in money with its action, and the earlier ones with their
factor then and now; `--act ID` does what one proposes (docs/diagnosis.md, "Recommendations")."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import typer

from newretail.core.cli import Json, OrgRef, emit, out, state
from newretail.core.errors import InvalidInput
from newretail.core.i18n import DEFAULT_LOCALE, translator
from newretail.core.local_server import request_json, running_server, server_client
from newretail.core.money import yuan
from newretail.diagnosis import recommendation_flows
from newretail.diagnosis.cli_periods import (
    BaseFirstDay,
    BaseLastDay,
    FirstDay,
    LastDay,
    day_params,
    days_of,
)
from newretail.diagnosis.recommendation_schemas import (
    recommendation_read,
    store_recommendations_read,
)
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.operator import operator_session

T = translator(DEFAULT_LOCALE)  # the command speaks English, as its other output


def _print_recommendations(row: dict[str, Any]) -> None:
    period, base = row["period"], row["base_period"]
    parts = row["parts"]
    out.print(
        f"[bold]Recommendations for {row['store_name']}, {period['first_day']} … "
        f"{period['last_day']}[/bold] against {base['first_day']} … {base['last_day']} "
        f"(local days, {row['time_zone']})"
    )
    out.print(
        f"change {yuan(row['change'], signed=True)} = visitors "
        f"{yuan(parts['visitors'], signed=True)}, conversion "
        f"{yuan(parts['conversion'], signed=True)}, order value "
        f"{yuan(parts['order_value'], signed=True)}"
    )
    if not row["recommendations"]:
        out.print("Nothing to recommend: no factor fell and the data look sound.")
    for r in row["recommendations"]:
        out.print(f"{r['id']} · {r['kind_label']} · {yuan(r['amount'])} · {r['state_label']}")
        out.print(f"  {r['text']}")
        for created in r["created"]:
            out.print(f"  {created['type_label']}: {created['name']} ({created['url']})")
    for e in row["earlier"]:
        r = e["recommendation"]
        out.print(
            f"earlier, {r['period']['first_day']} … {r['period']['last_day']}, "
            f"{r['kind_label']}: {e['text']}"
        )


def _print_acted(row: dict[str, Any]) -> None:
    out.print(f"{row['kind_label']}: {row['state_label']}")
    out.print(f"  {row['text']}")
    for created in row["created"]:
        out.print(f"  {created['type_label']}: {created['name']} ({created['url']})")


def recommend(
    ctx: typer.Context,
    org: OrgRef,
    store: Annotated[str, typer.Option("--store", help="The store's code")],
    first_day: FirstDay = None,
    last_day: LastDay = None,
    base_first_day: BaseFirstDay = None,
    base_last_day: BaseLastDay = None,
    act: Annotated[
        str | None,
        typer.Option("--act", help="Do what this recommendation (its id) proposes"),
    ] = None,
    as_json: Json = False,
) -> None:
    """A store's recommendations for the period (default: the last 7 complete local days),
    each in money with its action, and the earlier ones with their factor then and now;
    with --act ID, do what one proposes (an audience and a campaign draft, or a transfer)."""
    days = days_of(first_day, last_day, base_first_day, base_last_day)
    settings = state(ctx).settings()
    path = f"/api/v1/diagnosis/stores/{store}/recommendations"
    show = _print_acted if act else _print_recommendations
    if running_server(settings) is not None:  # it holds the embedded warehouse
        params = {name: day.isoformat() for name, day in day_params(days).items() if day}
        with server_client(settings, org) as client:
            row = request_json(
                client,
                "POST" if act else "GET",
                f"{path}/{act}/act" if act else path,
                params={} if act else params,
                headers={"accept-language": DEFAULT_LOCALE},
            )
        emit(row, as_json, lambda: show(row))
        return
    with operator_session(ctx, org) as (container, session, principal):
        if act:
            acted = recommendation_flows.act(session, principal, store, _uuid(act), T)
            found = tenancy_service.visible_store(session, principal, store)
            row = recommendation_read(acted, found.name, principal, T).model_dump(mode="json")
        else:
            listed = recommendation_flows.store_recommendations(
                session, principal, container.warehouse, store, *days
            )
            row = store_recommendations_read(listed, principal, T).model_dump(mode="json")
    emit(row, as_json, lambda: show(row))


def _uuid(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError as exc:
        raise InvalidInput("give the recommendation's id", field="act") from exc
