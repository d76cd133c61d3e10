"""CSV import of stock receipts: location (store code), sku (code), quantity,
low_stock_threshold (optional). Each batch of rows is one transaction; every accepted row is
a `receipt` movement naming the file and the row; refused rows are reported
(core.csvimport)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from newretail.catalog.models import Sku
from newretail.core.csvimport import (
    Advance,
    ImportReport,
    Row,
    RowError,
    import_in_batches,
    required,
    whole_number,
)
from newretail.inventory import levels, schemas, service
from newretail.tenancy.models import Store
from newretail.tenancy.permissions import Principal

COLUMNS = ["location", "sku", "quantity"]
BATCH = 1000
MAX_QUANTITY = 1_000_000  # as the API's Quantity


def import_stock(
    sessions: sessionmaker[Session], principal: Principal, path: Path, advance: Advance
) -> ImportReport:
    """Receive the file's quantities at their locations; report every refused row."""

    def import_batch(session: Session, batch: list[Row], report: ImportReport) -> None:
        stores = dict(session.execute(select(Store.code, Store.id)).all())
        skus = dict(session.execute(select(Sku.code, Sku.id)).all())
        movements: list[dict[str, Any]] = []
        for number, row in batch:
            report.rows += 1
            advance(1)
            try:
                location = stores.get(required(row, "location"))
                if location is None:
                    raise RowError("location", "no store with this code")
                sku = skus.get(required(row, "sku"))
                if sku is None:
                    raise RowError("sku", "no SKU with this code")
                quantity = whole_number(row, "quantity", MAX_QUANTITY)
                threshold = None
                if row.get("low_stock_threshold"):
                    threshold = whole_number(row, "low_stock_threshold", MAX_QUANTITY)
            except RowError as exc:
                report.rejected.append(exc.at(number))
                continue
            levels.put_back(session, principal.organization_id, sku, location, quantity)
            if threshold is not None:
                service.set_threshold(
                    session,
                    principal,
                    location,
                    sku,
                    schemas.ThresholdSet(low_stock_threshold=threshold),
                )
            movements.append(
                {
                    "organization_id": principal.organization_id,
                    "sku_id": sku,
                    "location_id": location,
                    "delta": quantity,
                    "reason": "receipt",
                    "actor": principal.actor,
                    "note": f"import {path.name} row {number}",
                }
            )
            report.accepted += 1
        levels.record_movements(session, movements)

    return import_in_batches(
        sessions, principal.organization_id, path, COLUMNS, BATCH, import_batch
    )
