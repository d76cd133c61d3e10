"""What the console's marketing forms offer to pick, by name: brands, categories, products,
SKUs, stores and saved offers of the organisation (the session is scoped to it)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from newretail.catalog.models import Product, Sku
from newretail.marketing.models import Offer
from newretail.tenancy.models import Brand, Store


@dataclass(frozen=True)
class Choice:
    """One option of a picker: the value posted and the name shown."""

    value: str
    label: str


def brands(session: Session) -> list[Choice]:
    rows = session.execute(select(Brand.id, Brand.name).order_by(Brand.name)).all()
    return [Choice(str(i), name) for i, name in rows]


def categories(session: Session) -> list[Choice]:
    """Every category path of the catalogue and each of its parents ("Skincare",
    "Skincare/Serums"), in order."""
    paths: set[str] = set()
    for path in session.scalars(select(Product.category_path).distinct()):
        parts = [p for p in (path or "").split("/") if p]
        paths.update("/".join(parts[: n + 1]) for n in range(len(parts)))
    return [Choice(p, p.replace("/", " › ")) for p in sorted(paths)]


def products(session: Session) -> list[Choice]:
    rows = session.execute(select(Product.id, Product.name).order_by(Product.name)).all()
    return [Choice(str(i), name) for i, name in rows]


def skus(session: Session) -> list[Choice]:
    """SKUs by product and SKU name."""
    rows = session.execute(
        select(Sku.id, Sku.name, Product.name.label("product"))
        .join(Product, Product.id == Sku.product_id)
        .order_by(Product.name, Sku.name)
    ).all()
    return [Choice(str(r.id), _sku_label(r.product, r.name)) for r in rows]


def _sku_label(product: str, sku: str) -> str:
    return sku if sku.startswith(product) else f"{product} · {sku}"


def stores(session: Session) -> list[Choice]:
    rows = session.execute(select(Store.id, Store.name).order_by(Store.name)).all()
    return [Choice(str(i), name) for i, name in rows]


def store_names(session: Session, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    return dict(session.execute(select(Store.id, Store.name).where(Store.id.in_(ids))).all())


def offers(session: Session, leaving_out: str = "") -> list[Choice]:
    """Saved offers by name (the value is the code "combines with" and stages name)."""
    rows = session.execute(select(Offer.code, Offer.name).order_by(Offer.name)).all()
    return [Choice(code, name) for code, name in rows if code != leaving_out]
