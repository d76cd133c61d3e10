"""Stock errors with stable codes."""

from __future__ import annotations

from newretail.core.errors import Conflict


class OutOfStock(Conflict):
    """Not enough available units of a SKU (409, code `out_of_stock`, names the SKU)."""

    code = "out_of_stock"

    def __init__(self, sku_code: str, requested: int, location: str | None = None) -> None:
        where = f" at {location}" if location else ""
        super().__init__(
            f"SKU {sku_code} is out of stock{where}: {requested} requested", field="sku_id"
        )
        self.sku_code = sku_code
