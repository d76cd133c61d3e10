"""REST API for stock: levels, low stock, receipts, adjustments, transfers, reservations."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from newretail.core.http import page
from newretail.core.pagination import Page
from newretail.inventory import discrepancies, reads, schemas, service
from newretail.tenancy.dependencies import CurrentPrincipal, Cursor, Limit, Offset, SessionDep
from newretail.tenancy.permissions import Permission

router = APIRouter(prefix="/api/v1", tags=["stock"])


@router.get("/stock-levels", response_model=list[schemas.StockLevelRead])
def list_levels(
    session: SessionDep,
    principal: CurrentPrincipal,
    location_id: uuid.UUID | None = None,
    sku_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    offset: Offset = 0,
) -> object:
    """Stock by location and SKU: on hand, allocated, unexpired reservations, available."""
    return reads.list_levels(
        session, principal, reads.StockFilter(location_id, sku_id), limit, offset
    )


@router.get("/stock-levels/low", response_model=list[schemas.StockLevelRead])
def low_stock(
    session: SessionDep,
    principal: CurrentPrincipal,
    location_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    offset: Offset = 0,
) -> object:
    """Rows whose available units are at or below their low-stock threshold."""
    filters = reads.StockFilter(location_id=location_id, low_only=True)
    return reads.list_levels(session, principal, filters, limit, offset)


@router.get("/stock/discrepancies", response_model=list[schemas.StockDiscrepancyRead])
def list_discrepancies(
    session: SessionDep, principal: CurrentPrincipal, location_id: uuid.UUID | None = None
) -> object:
    """Stock rows below zero available after POS sales of goods in hand, for the manager."""
    return discrepancies.list_discrepancies(session, principal, location_id)


@router.get("/stock-levels/{location_id}/{sku_id}", response_model=schemas.StockLevelRead)
def read_level(
    session: SessionDep, principal: CurrentPrincipal, location_id: uuid.UUID, sku_id: uuid.UUID
) -> object:
    """The stock of one SKU at one location."""
    return reads.get_level(session, principal, location_id, sku_id)


@router.put("/stock-levels/{location_id}/{sku_id}/threshold", response_model=schemas.StockLevelRead)
def set_threshold(
    session: SessionDep,
    principal: CurrentPrincipal,
    location_id: uuid.UUID,
    sku_id: uuid.UUID,
    body: schemas.ThresholdSet,
) -> object:
    """Set or clear the low-stock threshold."""
    return service.set_threshold(session, principal, location_id, sku_id, body)


@router.put("/stock-locations/{location_id}", response_model=schemas.LocationPolicyRead)
def set_location_policy(
    session: SessionDep,
    principal: CurrentPrincipal,
    location_id: uuid.UUID,
    body: schemas.LocationPolicySet,
) -> object:
    """Allow a store to fulfil online orders (ship from store, pick-up)."""
    return service.set_location_policy(session, principal, location_id, body)


@router.post("/stock/receipts", response_model=schemas.StockChangeRead, status_code=201)
def receive(
    session: SessionDep, principal: CurrentPrincipal, body: schemas.ReceiptCreate
) -> object:
    """Book received units at a location."""
    return service.receive_stock(session, principal, body)


@router.post("/stock/adjustments", response_model=schemas.StockChangeRead, status_code=201)
def adjust(
    session: SessionDep, principal: CurrentPrincipal, body: schemas.AdjustmentCreate
) -> object:
    """Correct on-hand stock, with a reason."""
    return service.adjust_stock(session, principal, body)


@router.post("/stock/transfers", response_model=schemas.StockChangeRead, status_code=201)
def transfer(
    session: SessionDep, principal: CurrentPrincipal, body: schemas.TransferCreate
) -> object:
    """Move units between two locations."""
    return service.transfer_stock(session, principal, body)


@router.get("/stock/movements", response_model=Page[schemas.MovementRead])
def list_movements(
    session: SessionDep,
    principal: CurrentPrincipal,
    limit: Limit = 50,
    cursor: Cursor = None,
    location_id: uuid.UUID | None = None,
    sku_id: uuid.UUID | None = None,
    reference: str | None = None,
) -> object:
    """The stock ledger (reason, actor, time, delta)."""
    return page(
        reads.list_movements(session, principal, limit, cursor, location_id, sku_id, reference)
    )


@router.post("/reservations", response_model=schemas.ReservationRead, status_code=201)
def reserve(
    session: SessionDep, principal: CurrentPrincipal, body: schemas.ReservationCreate
) -> object:
    """Hold units for a cart until they expire."""
    return service.reserve(session, principal, body)


@router.get("/reservations/{reservation_id}", response_model=schemas.ReservationRead)
def read_reservation(
    session: SessionDep, principal: CurrentPrincipal, reservation_id: uuid.UUID
) -> object:
    """Read a reservation."""
    principal.require(Permission.READ)
    return service.get_reservation(session, principal, reservation_id)


@router.delete("/reservations/{reservation_id}", response_model=schemas.ReservationRead)
def release(session: SessionDep, principal: CurrentPrincipal, reservation_id: uuid.UUID) -> object:
    """Release a cart's units before they expire."""
    return service.release(session, principal, reservation_id)
