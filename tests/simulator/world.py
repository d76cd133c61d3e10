"""A small organisation as the traffic model sees it: one city with every scene, one more
city with a shop, and the online flagship."""

from __future__ import annotations

from decimal import Decimal

from newretail.simulator.world import SkuInfo, StoreInfo, World

HOURS = {day: [["10:00", "22:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
ALWAYS = {day: [["00:00", "24:00"]] for day in HOURS}
SHOP_CHANNELS = ("store", "counter", "popup", "cloud_shelf")


def _store(
    code: str, channel: str, brand: str | None, city: str | None, district: str | None
) -> StoreInfo:
    return StoreInfo(
        id=f"store-{code}",
        code=code,
        name=code.title(),
        channel_type=channel,
        brand_id=brand,
        city=city,
        district=district,
        latitude=31.2 if city == "Shanghai" else 39.9 if city else None,
        longitude=121.4 if city == "Shanghai" else 116.4 if city else None,
        opening_hours=ALWAYS if channel in ("online", "vending") else HOURS,
    )


STORES = (
    _store("online", "online", None, None, None),
    _store("sh-shop", "store", "beauty", "Shanghai", "Xintiandi"),
    _store("sh-counter", "counter", "beauty", "Shanghai", "Jing'an"),
    _store("sh-popup", "popup", "beauty", "Shanghai", "Lujiazui"),
    _store("sh-shelf", "cloud_shelf", "beauty", "Shanghai", "Xintiandi"),
    _store("sh-vend", "vending", "tea", "Shanghai", "Huangpu"),
    _store("bj-shop", "store", "tea", "Beijing", "Sanlitun"),
)


def _sku(code: str, brand: str, category: str, price: str, channels: tuple[str, ...]) -> SkuInfo:
    return SkuInfo(
        id=f"sku-{code}",
        code=code,
        product_id=f"product-{code[:-2]}",
        brand_id=brand,
        category=category,
        prices={c: Decimal(price) for c in channels},
    )


SKUS = (
    *(
        _sku(f"SERUM-{i}", "beauty", "Skincare/Serums", "299.00", (*SHOP_CHANNELS, "online"))
        for i in range(1, 5)
    ),
    *(_sku(f"TEA-{i}", "tea", "Tea/Green", "88.00", ("store", "online")) for i in range(1, 3)),
    _sku("DRINK-1", "tea", "Tea/Drinks", "6.00", ("vending", "online")),
)


def small_world(member_phones: tuple[str, ...] = ()) -> World:
    stock = {
        (store.id, sku.id): 20
        for store in STORES
        for sku in SKUS
        if store.channel_type in ("store", "counter", "popup", "vending") and sku.sold_at(store)
    }
    stock[("store-sh-shop", "sku-SERUM-4")] = 0  # sold out: never sold at that till
    return World(STORES, SKUS, stock, member_phones)
