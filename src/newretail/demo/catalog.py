"""Demo catalogue: 50 beauty and tea products × 4 variants = 200 SKUs with channel prices.

Prices are Chinese-market retail prices in CNY; online sells about 5 % below the shops,
vending machines only sell the bottled drinks. Barcodes are valid EAN-13 codes (prefix 69).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from newretail.catalog.models import Product, Sku, SkuPrice
from newretail.core.database import utcnow
from newretail.tenancy.models import Brand, ChannelType

CHUNK = 5000
SHOP_CHANNELS = [
    ChannelType.STORE,
    ChannelType.COUNTER,
    ChannelType.POPUP,
    ChannelType.CLOUD_SHELF,
]


def _rows(table: str) -> list[list[str]]:
    """The cells of a table written one row a line, cells between `|`."""
    return [[cell.strip() for cell in line.split("|")] for line in table.strip().splitlines()]


def _products(table: str) -> list[tuple[str, str, str, int, str]]:
    """(code, name, category path, base price, variant set) of each product row."""
    return [
        (code, name, path, int(base), variants) for code, name, path, base, variants in _rows(table)
    ]


def _variants(table: str) -> dict[str, list[tuple[str, str, Decimal]]]:
    """Variant set -> its (suffix, label, price factor) rows, in table order."""
    found: dict[str, list[tuple[str, str, Decimal]]] = {}
    for variant_set, suffix, label, factor in _rows(table):
        found.setdefault(variant_set, []).append((suffix, label, Decimal(factor)))
    return found


# code | name | category path | base price (CNY) | variant set
BEAUTY = _products("""
LB-VC-SERUM     | Vitamin C Brightening Serum 维C焕亮精华 | Skincare/Serums | 459 | size
LB-HA-SERUM     | Hyaluronic Hydra Serum 玻尿酸保湿精华 | Skincare/Serums | 399 | size
LB-RETINOL      | Retinol Night Serum 视黄醇晚安精华 | Skincare/Serums | 529 | size
LB-NIAC         | Niacinamide Pore Serum 烟酰胺精华 | Skincare/Serums | 289 | size
LB-SILK-CREAM   | Silk Peptide Cream 丝肽面霜 | Skincare/Creams | 599 | size
LB-DAY-CREAM    | Daily Moisture Cream 日间保湿霜 | Skincare/Creams | 329 | size
LB-EYE-CREAM    | Firming Eye Cream 紧致眼霜 | Skincare/Creams | 469 | size
LB-CLEANSE-OIL  | Camellia Cleansing Oil 山茶花卸妆油 | Skincare/Cleansers | 219 | size
LB-FOAM         | Amino Acid Foam Cleanser 氨基酸洁面 | Skincare/Cleansers | 159 | size
LB-TONER        | Rice Essence Toner 米萃精华水 | Skincare/Toners | 259 | size
LB-MIST         | Rose Hydrating Mist 玫瑰保湿喷雾 | Skincare/Toners | 189 | size
LB-SHEET-MASK   | Snow Lotus Sheet Mask 雪莲面膜 | Skincare/Masks | 129 | pack
LB-CLAY-MASK    | White Clay Mask 白泥清洁面膜 | Skincare/Masks | 199 | size
LB-SLEEP-MASK   | Overnight Sleeping Mask 睡眠面膜 | Skincare/Masks | 239 | size
LB-SUN-50       | Light Sunscreen SPF50 轻薄防晒乳 | Skincare/Sun care | 229 | size
LB-SUN-STICK    | Sun Stick SPF50 防晒棒 | Skincare/Sun care | 179 | size
LB-LIP-VELVET   | Velvet Matte Lipstick 丝绒哑光口红 | Makeup/Lips | 279 | shade
LB-LIP-GLOSS    | Glass Shine Lip Gloss 镜面唇釉 | Makeup/Lips | 229 | shade
LB-LIP-BALM     | Tinted Lip Balm 润色唇膏 | Makeup/Lips | 149 | shade
LB-CUSHION      | Dewy Cushion Foundation 水光气垫 | Makeup/Face | 369 | tone
LB-FOUNDATION   | Silk Skin Foundation 丝滑粉底液 | Makeup/Face | 429 | tone
LB-POWDER       | Setting Powder 控油定妆粉 | Makeup/Face | 259 | tone
LB-MASCARA      | Long Lash Mascara 纤长睫毛膏 | Makeup/Eyes | 199 | shade
LB-PERFUME-JADE | Jade Garden Eau de Parfum 玉园香水 | Fragrance | 899 | perfume
LB-PERFUME-OSM  | Osmanthus Eau de Parfum 桂花香水 | Fragrance | 799 | perfume
""")
TEA = _products("""
BT-LONGJING      | West Lake Longjing 西湖龙井 | Tea/Green | 198 | tin
BT-BILUOCHUN     | Biluochun 碧螺春 | Tea/Green | 168 | tin
BT-MAOFENG       | Huangshan Maofeng 黄山毛峰 | Tea/Green | 128 | tin
BT-ANJI          | Anji White Leaf 安吉白茶 | Tea/Green | 158 | tin
BT-TIEGUANYIN    | Anxi Tieguanyin 安溪铁观音 | Tea/Oolong | 178 | tin
BT-DAHONGPAO     | Wuyi Da Hong Pao 武夷大红袍 | Tea/Oolong | 238 | tin
BT-DANCONG       | Phoenix Dancong 凤凰单丛 | Tea/Oolong | 218 | tin
BT-DONGDING      | Dong Ding Oolong 冻顶乌龙 | Tea/Oolong | 188 | tin
BT-KEEMUN        | Keemun Black 祁门红茶 | Tea/Black | 148 | tin
BT-DIANHONG      | Yunnan Dianhong 滇红 | Tea/Black | 118 | tin
BT-JINJUNMEI     | Jin Jun Mei 金骏眉 | Tea/Black | 288 | tin
BT-LAPSANG       | Lapsang Souchong 正山小种 | Tea/Black | 158 | tin
BT-PUER-RAW      | Menghai Raw Pu'er 勐海生普 | Tea/Pu'er | 268 | cake
BT-PUER-RIPE     | Menghai Ripe Pu'er 勐海熟普 | Tea/Pu'er | 228 | cake
BT-SILVER-NEEDLE | Silver Needle 白毫银针 | Tea/White | 328 | tin
BT-WHITE-PEONY   | White Peony 白牡丹 | Tea/White | 168 | tin
BT-SHOUMEI       | Aged Shoumei 老寿眉 | Tea/White | 138 | cake
BT-JASMINE       | Jasmine Pearls 茉莉龙珠 | Tea/Scented | 148 | tin
BT-OSMANTHUS     | Osmanthus Oolong 桂花乌龙 | Tea/Scented | 128 | tin
BT-GAIWAN        | Celadon Gaiwan 青瓷盖碗 | Teaware | 168 | colour
BT-TRAVEL-SET    | Travel Tea Set 便携旅行茶具 | Teaware | 258 | colour
BT-COLD-OOLONG   | Cold Brew Oolong 冷泡乌龙茶饮 | Drinks/Bottled tea | 8 | bottle
BT-COLD-JASMINE  | Jasmine Green Tea Drink 茉莉绿茶饮 | Drinks/Bottled tea | 7 | bottle
BT-MILK-TEA      | Black Milk Tea 醇香奶茶 | Drinks/Bottled tea | 12 | bottle
BT-LEMON-TEA     | Lemon Black Tea 柠檬红茶 | Drinks/Bottled tea | 9 | bottle
""")
# variant set | suffix | label | price factor (of the base price); four variants a set
VARIANTS = _variants("""
size    | 15    | 15 ml | 0.45
size    | 30    | 30 ml | 1
size    | 50    | 50 ml | 1.5
size    | SET   | Gift set 礼盒 | 2.2
pack    | 1     | 1 sheet | 0.15
pack    | 5     | 5 sheets | 0.6
pack    | 10    | 10 sheets | 1
pack    | SET   | Gift box 礼盒 | 1.8
shade   | 01    | #01 Rose 玫瑰 | 1
shade   | 02    | #02 Coral 珊瑚 | 1
shade   | 03    | #03 Brick 砖红 | 1
shade   | 04    | #04 Nude 裸色 | 1
tone    | IV    | Ivory 象牙白 | 1
tone    | NA    | Natural 自然色 | 1
tone    | BE    | Beige 米色 | 1
tone    | HO    | Honey 蜜色 | 1
perfume | 10    | Travel 10 ml | 0.3
perfume | 30    | 30 ml | 0.6
perfume | 50    | 50 ml | 1
perfume | 100   | 100 ml | 1.6
tin     | 50G   | 50 g tin 罐 | 0.5
tin     | 100G  | 100 g tin 罐 | 1
tin     | 250G  | 250 g bag 袋 | 2.2
tin     | GIFT  | Gift box 礼盒 | 3
cake    | 100G  | 100 g mini cake 小饼 | 0.35
cake    | 357G  | 357 g cake 饼 | 1
cake    | BRICK | 250 g brick 砖 | 0.75
cake    | GIFT  | Gift box 礼盒 | 2.5
colour  | WH    | White 白 | 1
colour  | GR    | Celadon 青 | 1.1
colour  | BL    | Blue 蓝 | 1.1
colour  | BK    | Black 黑 | 1.2
bottle  | 330   | 330 ml | 1
bottle  | 500   | 500 ml | 1.4
bottle  | 6P    | 6-pack | 5.5
bottle  | 24C   | Case of 24 整箱 | 20
""")


@dataclass(frozen=True)
class DemoSku:
    """What the order seeding needs to know about a seeded SKU."""

    id: uuid.UUID
    code: str
    brand_id: uuid.UUID
    prices: dict[str, Decimal]
    vending: bool


def ean13(body: str) -> str:
    """Append the EAN-13 check digit to 12 digits."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def _retail(amount: Decimal) -> Decimal:
    """Round a price the way shops print them: x9.00 above 50 yuan, whole yuan below."""
    if amount < 50:
        return amount.quantize(Decimal("1")).max(Decimal("1")).quantize(Decimal("0.01"))
    return (Decimal(int(amount / 10) * 10) + 9).quantize(Decimal("0.01"))


def seed_catalog(session: Session, organization_id: uuid.UUID) -> list[DemoSku]:
    """Bulk-create the 200 demo SKUs over the brands `lumiere` and `bamboo`; once only."""
    if session.scalar(select(func.count()).select_from(Product)):
        return []
    brands = {b.code: b.id for b in session.scalars(select(Brand))}
    now = utcnow()
    products: list[dict[str, Any]] = []
    skus: list[dict[str, Any]] = []
    prices: list[dict[str, Any]] = []
    result: list[DemoSku] = []
    serial = 0
    for brand_code, items in (("lumiere", BEAUTY), ("bamboo", TEA)):
        brand_id = brands[brand_code]
        for code, name, category, base, variant_set in items:
            product_id = uuid.uuid4()
            drink = category.startswith("Drinks")
            products.append(
                {
                    "id": product_id,
                    "organization_id": organization_id,
                    "created_at": now,
                    "brand_id": brand_id,
                    "code": code,
                    "name": name,
                    "category_path": category,
                    "attributes": {"origin": "CN"},
                    "image_urls": [f"https://img.example.com/demo/{code.lower()}.jpg"],
                    "status": "active",
                    "updated_at": None,
                }
            )
            for suffix, label, factor in VARIANTS[variant_set]:
                serial += 1
                sku_id = uuid.uuid4()
                shop_price = _retail(Decimal(base) * factor)
                channel_prices = {str(c): shop_price for c in SHOP_CHANNELS}
                channel_prices[ChannelType.ONLINE] = _retail(shop_price * Decimal("0.95"))
                channels = [str(c) for c in (*SHOP_CHANNELS, ChannelType.ONLINE)]
                if drink:
                    channel_prices[ChannelType.VENDING] = shop_price
                    channels = []  # every channel
                sku_code = f"{code}-{suffix}"
                skus.append(
                    {
                        "id": sku_id,
                        "organization_id": organization_id,
                        "created_at": now,
                        "product_id": product_id,
                        "brand_id": brand_id,
                        "code": sku_code,
                        "name": f"{name} · {label}",
                        "barcode": ean13(f"69{71234:05d}{serial:05d}"),
                        "attributes": {"variant": label},
                        "image_urls": [],
                        "channels": channels,
                        "status": "active",
                        "updated_at": None,
                    }
                )
                prices.extend(
                    {
                        "id": uuid.uuid4(),
                        "organization_id": organization_id,
                        "created_at": now,
                        "sku_id": sku_id,
                        "channel_type": channel,
                        "amount": amount,
                    }
                    for channel, amount in sorted(channel_prices.items())
                )
                result.append(DemoSku(sku_id, sku_code, brand_id, channel_prices, drink))
    for model, rows in ((Product, products), (Sku, skus), (SkuPrice, prices)):
        for start in range(0, len(rows), CHUNK):
            session.execute(insert(model), rows[start : start + CHUNK])
    return result


__all__ = ["DemoSku", "ean13", "seed_catalog"]
