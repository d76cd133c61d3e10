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
from newretail.console.forms import FormError
from newretail.core.errors import NotFound

LINES = 5  # SKU lines a receipt or transfer form offers
# refusals: message keys in the stock locale catalogues
WHOLE_NUMBER = "stock.error.whole_number"
NOT_ZERO = "stock.error.not_zero"
AT_LEAST_ONE = "stock.error.at_least_one"
UNKNOWN_SKU = "stock.error.unknown_sku"
NO_LINES = "stock.error.no_lines"
CHOOSE_LOCATION = "stock.error.choose_location"
DIFFERENT_LOCATIONS = "stock.error.different_locations"
REASON_NEEDED = "stock.error.reason_needed"


def blank(kind: str) -> dict[str, str]:
    """An empty form of this kind (`receipt`, `adjustment`, `transfer`)."""
    return {"kind": kind}


def _location(form: dict[str, str], field: str) -> uuid.UUID:
    try:
        return uuid.UUID(form.get(field, ""))
    except ValueError as exc:
        raise FormError.keyed(field, CHOOSE_LOCATION) from exc


def _whole(form: dict[str, str], field: str) -> int:
    raw = form.get(field, "").strip().replace(",", "")
    try:
        return int(raw)
    except ValueError as exc:
        raise FormError.keyed(field, WHOLE_NUMBER) from exc


def sku_id(session: Session, form: dict[str, str], field: str) -> uuid.UUID:
    """The SKU named by code or barcode in a form field (the organisation's, by the session)."""
    wanted = form.get(field, "").strip()
    if not wanted:
        raise FormError.keyed(field, UNKNOWN_SKU)
    try:
        return catalog_service.sku_by_code(session, wanted).id
    except NotFound:
        by_barcode, _ = catalog_service.list_skus(session, 1, None, barcode=wanted)
        if not by_barcode:
            raise FormError.keyed(field, UNKNOWN_SKU) from None
        return by_barcode[0].id


def _lines(session: Session, form: dict[str, str]) -> list[dict[str, Any]]:
    lines = []
    for number in range(LINES):
        code, quantity = f"sku_{number}", f"quantity_{number}"
        if not form.get(code, "").strip() and not form.get(quantity, "").strip():
            continue
        units = _whole(form, quantity)
        if units < 1:
            raise FormError.keyed(quantity, AT_LEAST_ONE)
        lines.append({"sku_id": sku_id(session, form, code), "quantity": units})
    if not lines:
        raise FormError.keyed("sku_0", NO_LINES)
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
        raise FormError.keyed("delta", NOT_ZERO)
    note = form.get("note", "").strip()
    if not note:
        raise FormError.keyed("note", REASON_NEEDED)
    return {"location_id": location, "sku_id": sku, "delta": delta, "note": note}


def transfer_payload(session: Session, form: dict[str, str]) -> dict[str, Any]:
    """A TransferCreate payload."""
    source = _location(form, "from_location_id")
    target = _location(form, "to_location_id")
    if source == target:
        raise FormError.keyed("to_location_id", DIFFERENT_LOCATIONS)
    return {
        "from_location_id": source,
        "to_location_id": target,
        "lines": _lines(session, form),
        "note": form.get("note", "").strip() or None,
    }
