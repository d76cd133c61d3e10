"""The console's product and SKU forms: the strings a form shows <-> the API's payloads.

A form is a flat dict of strings. Prices are one field per selling channel (`price_online`,
`price_store`, ...); the channels a SKU is sold on are checkboxes (`channel_online`, ...), none
ticked meaning every channel, as in the API.
"""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from newretail.catalog.models import Product, Sku
from newretail.catalog.schemas import SELLING_CHANNELS
from newretail.console.forms import FormError

PRODUCT_FIELDS = ("code", "name", "brand_id", "category_path", "status")
SKU_FIELDS = ("code", "name", "barcode", "status")
CHANNELS = [str(c) for c in SELLING_CHANNELS]
# refusals: message keys in the catalogue's locale catalogues
AMOUNT = "catalog.error.amount"
CHOOSE_STORE = "catalog.error.choose_store"


def product_values(product: Product | None) -> dict[str, str]:
    """A product as its form shows it (blank for a new product)."""
    if product is None:
        return {**dict.fromkeys(PRODUCT_FIELDS, ""), "status": "active"}
    return {
        "code": product.code,
        "name": product.name,
        "brand_id": str(product.brand_id),
        "category_path": product.category_path,
        "status": product.status,
    }


def product_payload(form: dict[str, str], *, new: bool) -> dict[str, Any]:
    """The ProductCreate (new) or ProductUpdate payload of a submitted product form."""
    payload: dict[str, Any] = {
        "name": form.get("name", ""),
        "category_path": form.get("category_path", "").strip().strip("/"),
    }
    if new:
        payload["code"] = form.get("code", "")
        payload["brand_id"] = form.get("brand_id", "")
    else:
        payload["status"] = form.get("status", "active")
    return payload


def sku_values(sku: Sku | None) -> dict[str, str]:
    """A SKU as its form shows it: prices as plain decimals, channels as ticked boxes."""
    if sku is None:
        return {**dict.fromkeys(SKU_FIELDS, ""), "status": "active"}
    values = {
        "code": sku.code,
        "name": sku.name,
        "barcode": sku.barcode or "",
        "status": sku.status,
    }
    for price in sku.prices:
        values[f"price_{price.channel_type}"] = f"{price.amount:.2f}"
    for channel in sku.channels:
        values[f"channel_{channel}"] = "on"
    return values


def _amount(form: dict[str, str], field: str) -> Decimal | None:
    """A typed amount ("12.5", "¥1,280.00"); blank is None."""
    raw = form.get(field, "").strip().replace(",", "").lstrip("¥")
    if not raw:
        return None
    try:
        amount = Decimal(raw)
    except InvalidOperation as exc:
        raise FormError.keyed(field, AMOUNT) from exc
    if not amount.is_finite():
        raise FormError.keyed(field, AMOUNT)
    return amount


def sku_prices(form: dict[str, str]) -> dict[str, Decimal]:
    """The channel prices filled in (a blank field sets no price)."""
    prices = {}
    for channel in CHANNELS:
        amount = _amount(form, f"price_{channel}")
        if amount is not None:
            prices[channel] = amount
    return prices


def sku_channels(form: dict[str, str]) -> list[str]:
    """The ticked channels (none ticked: sold on every channel)."""
    return [c for c in CHANNELS if form.get(f"channel_{c}")]


def sku_payload(form: dict[str, str], *, new: bool) -> dict[str, Any]:
    """The SkuCreate (new, with its prices) or SkuUpdate payload of a submitted SKU form."""
    payload: dict[str, Any] = {
        "name": form.get("name", ""),
        "barcode": form.get("barcode", "").strip() or None,
        "channels": sku_channels(form),
    }
    if new:
        payload["code"] = form.get("code", "")
        payload["prices"] = sku_prices(form)
    else:
        payload["status"] = form.get("status", "active")
    return payload


def store_price(form: dict[str, str]) -> tuple[uuid.UUID, Decimal | None]:
    """The store and its own price of a store-price form (a blank amount clears the price)."""
    try:
        store_id = uuid.UUID(form.get("store_id", ""))
    except ValueError as exc:
        raise FormError.keyed("store_id", CHOOSE_STORE) from exc
    return store_id, _amount(form, "amount")
