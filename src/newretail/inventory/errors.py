"""Errors of the stock domain, each with a stable code (messages: `error.<code>` in the
domain's locale catalogues, with the same placeholders)."""

from __future__ import annotations

from enum import StrEnum

from newretail.core.errors import Conflict


class InventoryErrorCode(StrEnum):
    OUT_OF_STOCK = "out_of_stock"


class OutOfStock(Conflict, code=InventoryErrorCode.OUT_OF_STOCK):
    """Not enough available units of a SKU (409, code `out_of_stock`, names the SKU)."""

    def __init__(self, sku_code: str, requested: int, location: str | None = None) -> None:
        where = f" at {location}" if location else ""
        super().__init__(
            f"SKU {sku_code} is out of stock{where}: {requested} requested", field="sku_id"
        )
        self.sku_code = sku_code
        self.params = {"sku": sku_code, "requested": requested, "location": location or ""}
