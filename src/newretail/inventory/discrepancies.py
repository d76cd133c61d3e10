"""Stock discrepancies for the store manager: rows where the system holds fewer available
units than zero, because a POS sale handed over goods the system did not know were there (or
promised to online orders). They stay listed until a receipt or an adjustment (a count)
brings the row back to zero or above."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from newretail.catalog.models import Sku
from newretail.core.database import utcnow
from newretail.inventory import schemas
from newretail.inventory.models import StockLevel, StockMovement
from newretail.inventory.reads import unexpired_reserved
from newretail.tenancy.models import Store
from newretail.tenancy.permissions import Permission, Principal
from newretail.tenancy.store_scope import store_scoped

ORDER_PREFIX = "order:"


def _last_sale(column: Any) -> Any:
    return (
        select(column)
        .where(
            StockMovement.sku_id == StockLevel.sku_id,
            StockMovement.location_id == StockLevel.location_id,
            StockMovement.reason == "sale",
        )
        .order_by(StockMovement.created_at.desc(), StockMovement.id.desc())
        .limit(1)
        .correlate(StockLevel)
        .scalar_subquery()
    )


def list_discrepancies(
    session: Session, principal: Principal, location_id: uuid.UUID | None = None
) -> list[schemas.StockDiscrepancyRead]:
    """Stock rows below zero available (the largest shortfall first), with the last sale."""
    principal.require(Permission.READ)
    reserved = unexpired_reserved(utcnow()).label("reserved_now")
    available = StockLevel.on_hand - StockLevel.allocated - reserved
    statement = (
        select(
            StockLevel,
            Sku.code,
            Sku.name,
            Store.code,
            Store.name,
            reserved,
            available.label("available"),
            _last_sale(StockMovement.created_at).label("last_sale_at"),
            _last_sale(StockMovement.reference).label("last_sale_reference"),
        )
        .join(Sku, Sku.id == StockLevel.sku_id)
        .join(Store, Store.id == StockLevel.location_id)
        .where(available < 0)
        .order_by(available, Store.code, Sku.code)
    )
    statement = store_scoped(statement, principal, StockLevel.location_id)
    if location_id is not None:
        statement = statement.where(StockLevel.location_id == location_id)
    found = []
    for row in session.execute(statement):
        level = row[0]
        reference = row.last_sale_reference or ""
        found.append(
            schemas.StockDiscrepancyRead(
                location_id=level.location_id,
                location_code=row[3],
                location_name=row[4],
                sku_id=level.sku_id,
                sku_code=row[1],
                sku_name=row[2],
                on_hand=level.on_hand,
                allocated=level.allocated,
                reserved=row.reserved_now,
                available=row.available,
                shortfall=-row.available,
                last_sale_at=row.last_sale_at,
                last_sale_order_id=(
                    uuid.UUID(reference[len(ORDER_PREFIX) :])
                    if reference.startswith(ORDER_PREFIX)
                    else None
                ),
            )
        )
    return found
