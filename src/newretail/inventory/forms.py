"""The console's stock forms (receipt, adjustment, transfer): form strings -> the API's payloads.

People name SKUs by code (or barcode), never by id: each line is `sku_<n>` (code or barcode)
and `quantity_<n>`; blank lines are skipped. Locations are chosen from a list of the stores in
the user's scope, so their ids come from the page.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from newretail.catalog import service as catalog_service
from newretail.core.errors import InvalidInput, NotFound

LINES = 5  # SKU lines a receipt or transfer form offers
WHOLE_NUMBER = "must be a whole number"
NOT_ZERO = "must not be 0"
AT_LEAST_ONE = "must be at least 1"
UNKNOWN_SKU = "no SKU with this code or barcode"
NO_LINES = "enter at least one SKU and quantity"
CHOOSE_LOCATION = "choose a location"
DIFFERENT_LOCATIONS = "choose two different locations"
REASON_NEEDED = "say why (count correction, damage, theft…)"


def blank(kind: str) -> dict[str, str]:
    """An empty form of this kind (`receipt`, `adjustment`, `transfer`)."""
    return {"kind": kind}


def _location(form: dict[str, str], field: str) -> uuid.UUID:
    try:
        return uuid.UUID(form.get(field, ""))
    except ValueError as exc:
        raise InvalidInput(CHOOSE_LOCATION, field=field) from exc


def _whole(form: dict[str, str], field: str) -> int:
    raw = form.get(field, "").strip().replace(",", "")
    try:
        return int(raw)
    except ValueError as exc:
        raise InvalidInput(WHOLE_NUMBER, field=field) from exc


def sku_id(session: Session, form: dict[str, str], field: str) -> uuid.UUID:
    """The SKU named by code or barcode in a form field (the organisation's, by the session)."""
    wanted = form.get(field, "").strip()
    if not wanted:
        raise InvalidInput(UNKNOWN_SKU, field=field)
    try:
        return catalog_service.sku_by_code(session, wanted).id
    except NotFound:
        by_barcode, _ = catalog_service.list_skus(session, 1, None, barcode=wanted)
        if not by_barcode:
            raise InvalidInput(UNKNOWN_SKU, field=field) from None
        return by_barcode[0].id


def _lines(session: Session, form: dict[str, str]) -> list[dict[str, Any]]:
    lines = []
    for number in range(LINES):
        code, quantity = f"sku_{number}", f"quantity_{number}"
        if not form.get(code, "").strip() and not form.get(quantity, "").strip():
            continue
        units = _whole(form, quantity)
        if units < 1:
            raise InvalidInput(AT_LEAST_ONE, field=quantity)
        lines.append({"sku_id": sku_id(session, form, code), "quantity": units})
    if not lines:
        raise InvalidInput(NO_LINES, field="sku_0")
    return lines


def receipt_payload(session: Session, form: dict[str, str]) -> dict[str, Any]:
    """A ReceiptCreate payload."""
    return {
        "location_id": _location(form, "location_id"),
        "lines": _lines(session, form),
        "note": form.get("note", "").strip() or None,
        "reference": form.get("reference", "").strip() or None,
    }


def adjustment_payload(session: Session, form: dict[str, str]) -> dict[str, Any]:
    """An AdjustmentCreate payload: a signed change of on-hand units and its reason."""
    location = _location(form, "location_id")
    sku = sku_id(session, form, "sku_0")
    delta = _whole(form, "delta")
    if delta == 0:
        raise InvalidInput(NOT_ZERO, field="delta")
    note = form.get("note", "").strip()
    if not note:
        raise InvalidInput(REASON_NEEDED, field="note")
    return {"location_id": location, "sku_id": sku, "delta": delta, "note": note}


def transfer_payload(session: Session, form: dict[str, str]) -> dict[str, Any]:
    """A TransferCreate payload."""
    source = _location(form, "from_location_id")
    target = _location(form, "to_location_id")
    if source == target:
        raise InvalidInput(DIFFERENT_LOCATIONS, field="to_location_id")
    return {
        "from_location_id": source,
        "to_location_id": target,
        "lines": _lines(session, form),
        "note": form.get("note", "").strip() or None,
    }
