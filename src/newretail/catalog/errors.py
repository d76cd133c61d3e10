"""Errors of the catalogue and its sale-price rule, each with a stable code (messages:
`error.<code>` in the domain's locale catalogues, with the same placeholders as `params`)."""

from __future__ import annotations

from enum import StrEnum

from newretail.core.errors import InvalidInput, NotFound


class CatalogErrorCode(StrEnum):
    UNKNOWN_SKU = "unknown_sku"
    NOT_SOLD_HERE = "not_sold_here"
    NO_PRICE = "no_price"
    WAREHOUSE_DOES_NOT_SELL = "warehouse_does_not_sell"


class UnknownSku(InvalidInput, code=CatalogErrorCode.UNKNOWN_SKU):
    """A SKU id that is not one of the organisation's (422)."""

    def __init__(self, field: str) -> None:
        super().__init__("unknown SKU in this organisation", field=field)
        self.params: dict[str, str] = {}


class NotSoldHere(InvalidInput, code=CatalogErrorCode.NOT_SOLD_HERE):
    """The store does not sell the SKU (its override, the SKU's channels or status) (422)."""

    def __init__(self, sku_code: str, store_code: str, field: str) -> None:
        super().__init__(f"SKU {sku_code} is not sold at {store_code}", field=field)
        self.params = {"sku": sku_code, "store": store_code}


class NoSalePrice(InvalidInput, code=CatalogErrorCode.NO_PRICE):
    """A sale line without its own price, of a SKU with no price at the store (422)."""

    def __init__(self, sku_code: str, channel_type: str, field: str) -> None:
        super().__init__(f"SKU {sku_code} has no {channel_type} price", field=field)
        self.params = {"sku": sku_code, "channel": channel_type}


class PriceNotFound(NotFound, code=CatalogErrorCode.NO_PRICE):
    """The price lookup of a SKU with no price at the store (404)."""

    def __init__(self, sku_code: str, channel_type: str) -> None:
        super().__init__(f"SKU {sku_code} has no price on {channel_type}", field="sku_id")
        self.params = {"sku": sku_code, "channel": channel_type}


class WarehouseDoesNotSell(InvalidInput, code=CatalogErrorCode.WAREHOUSE_DOES_NOT_SELL):
    """A price, channel or availability for a warehouse, which sells nothing (422)."""

    def __init__(self, field: str) -> None:
        super().__init__("a warehouse does not sell", field=field)
        self.params: dict[str, str] = {}
