"""What a rule refers to in the organisation's catalogue, by id, code or name.

Rules store ids (the warehouse's events carry brand, store and product ids); people write
codes and names. `resolve_*` turns what a person wrote into the id (or the catalogue's
spelling of a category) and answers None for nothing found or a tuple of matches for a
name shared by several rows; `names_of` turns stored ids back into names for pages.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from newretail.catalog.models import Product
from newretail.databank.config import DatabankConfig
from newretail.events.models import CustomEventType
from newretail.events.taxonomy import BUILT_IN, FACT_EVENTS
from newretail.tenancy.models import Brand, ChannelType, Store

CHANNELS = tuple(c.value for c in ChannelType)
NAMED_TABLES: dict[str, Any] = {"brand": Brand, "store": Store, "product": Product}


@dataclass(frozen=True)
class Found:
    """The outcome of resolving one value: the id, or how many rows it could name."""

    value: str | None
    matches: int


def _as_uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def resolve_named(session: Session, kind: str, text: str) -> Found:
    """A brand, store or product by id, code or name (the code wins over a name)."""
    model = NAMED_TABLES[kind]
    key = _as_uuid(text)
    clauses = [model.code == text, model.name == text]
    if key is not None:
        clauses.append(model.id == key)
    rows = session.execute(select(model.id, model.code).where(or_(*clauses))).all()
    by_id = [row for row in rows if key is not None and row.id == key]
    by_code = [row for row in rows if row.code == text]
    chosen = by_id or by_code or rows
    if len(chosen) == 1:
        return Found(str(chosen[0].id), 1)
    return Found(None, len(chosen))


def category_paths(session: Session) -> list[str]:
    """Every category path of the organisation's products ("Tea/Green")."""
    paths = session.scalars(select(Product.category_path).distinct())
    return sorted(p for p in paths if p)


def resolve_category(paths: Iterable[str], text: str) -> Found:
    """A category as the catalogue spells it: a path or the start of one ("Tea", "Tea/Green").

    Case does not matter ("tea" is "Tea": purchase lines name the top of the tree in
    lower case).
    """
    wanted = text.strip("/").casefold()
    for path in paths:
        parts = path.split("/")
        for depth in range(1, len(parts) + 1):
            prefix = "/".join(parts[:depth])
            if prefix.casefold() == wanted:
                return Found(prefix, 1)
    return Found(None, 0)


def event_types(session: Session, config: DatabankConfig) -> frozenset[str]:
    """The event types the organisation's events can have."""
    custom = set(session.scalars(select(CustomEventType.name)))
    configured: set[str] = set()
    for name, value in config:
        if name.endswith("_events") and isinstance(value, list):
            configured |= set(value)
    return frozenset(BUILT_IN) | frozenset(FACT_EVENTS) | custom | configured


def names_of(session: Session, kind: str, ids: Iterable[str]) -> dict[str, str]:
    """id -> name for the brands, stores or products among `ids` (unknown ids are left out)."""
    model = NAMED_TABLES[kind]
    keys = [key for key in (_as_uuid(i) for i in set(ids)) if key is not None]
    if not keys:
        return {}
    rows = session.execute(select(model.id, model.name).where(model.id.in_(keys)))
    return {str(row.id): row.name for row in rows}
