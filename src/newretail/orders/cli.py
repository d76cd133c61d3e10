"""`newretail import products|stock|orders --org ORG FILE.csv` with a progress bar."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from newretail.core.cli import domain_errors, emit, err, out, table
from newretail.core.database import scope_session, session_scope
from newretail.orders import importing
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.cli import Json, OrgRef, ready_container
from newretail.tenancy.models import Role
from newretail.tenancy.permissions import Principal, PrincipalKind

import_app = typer.Typer(help="Import CSV files (rejected rows are listed)", no_args_is_help=True)
CsvFile = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)]
IMPORTERS = {
    "products": importing.import_products,
    "stock": importing.import_stock,
    "orders": importing.import_orders,
}


def _run(ctx: typer.Context, kind: str, org: str, path: Path, as_json: bool) -> None:
    container = ready_container(ctx)
    try:
        with session_scope(container.sessions) as session:
            found = tenancy_service.find_organization(scope_session(session, None), org)
            org_id = found.id
        principal = Principal.for_role(
            PrincipalKind.USER, org_id, Role.OWNER, actor=f"import (CLI) {path.name}"
        )
        total = importing.count_rows(path)
        with Progress(
            TextColumn(f"importing {kind}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=err,
            disable=as_json and not err.is_terminal,
        ) as progress:
            task = progress.add_task(kind, total=total)
            report = IMPORTERS[kind](
                container.sessions, principal, path, lambda n: progress.advance(task, n)
            )
    finally:
        container.close()
    data = report.as_dict()

    def human() -> None:
        out.print(
            f"{report.accepted} of {report.rows} rows imported, {len(report.rejected)} rejected"
        )
        if report.rejected:
            table(
                "Rejected rows",
                ["row", "field", "reason"],
                [[r.row, r.field, r.reason] for r in report.rejected],
            )

    emit(data, as_json, human)


@import_app.command("products")
@domain_errors
def import_products(ctx: typer.Context, org: OrgRef, file: CsvFile, as_json: Json = False) -> None:
    """Products and SKUs with prices, one row per SKU."""
    _run(ctx, "products", org, file, as_json)


@import_app.command("stock")
@domain_errors
def import_stock(ctx: typer.Context, org: OrgRef, file: CsvFile, as_json: Json = False) -> None:
    """Stock receipts per location and SKU."""
    _run(ctx, "stock", org, file, as_json)


@import_app.command("orders")
@domain_errors
def import_orders(ctx: typer.Context, org: OrgRef, file: CsvFile, as_json: Json = False) -> None:
    """Order history (POS), one row per order line."""
    _run(ctx, "orders", org, file, as_json)
