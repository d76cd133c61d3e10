"""`newretail import products|stock|orders --org ORG FILE.csv` with a progress bar."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from newretail.catalog import product_import
from newretail.core.cli import Json, OrgRef, command, emit, out
from newretail.core.csvimport import count_rows, print_rejected, progress_bar
from newretail.inventory import stock_import
from newretail.orders import importing
from newretail.tenancy.operator import operator

import_app = typer.Typer(help="Import CSV files (rejected rows are listed)", no_args_is_help=True)
CsvFile = Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)]
IMPORTERS = {
    "products": product_import.import_products,
    "stock": stock_import.import_stock,
    "orders": importing.import_orders,
}


def _run(ctx: typer.Context, kind: str, org: str, path: Path, as_json: bool) -> None:
    with (
        operator(ctx, org, actor=f"import (CLI) {path.name}") as found,
        progress_bar(f"importing {kind}", count_rows(path), quiet=as_json) as advance,
    ):
        report = IMPORTERS[kind](found.container.sessions, found.principal, path, advance)
    data = {"kind": kind, **report.as_dict()}

    def human() -> None:
        out.print(
            f"{report.accepted} of {report.rows} rows imported, {len(report.rejected)} rejected"
        )
        print_rejected(report.rejected)

    emit(data, as_json, human)


@command(import_app, "products", with_store_options=False)
def import_products(ctx: typer.Context, org: OrgRef, file: CsvFile, as_json: Json = False) -> None:
    """Products and SKUs with prices, one row per SKU."""
    _run(ctx, "products", org, file, as_json)


@command(import_app, "stock", with_store_options=False)
def import_stock(ctx: typer.Context, org: OrgRef, file: CsvFile, as_json: Json = False) -> None:
    """Stock receipts per location and SKU."""
    _run(ctx, "stock", org, file, as_json)


@command(import_app, "orders", with_store_options=False)
def import_orders(ctx: typer.Context, org: OrgRef, file: CsvFile, as_json: Json = False) -> None:
    """Order history (POS), one row per order line."""
    _run(ctx, "orders", org, file, as_json)
