"""Which basket items an offer covers: brands, categories, products and SKUs, with
exclusions.

An item is in scope when the scope lists nothing to include (then every item is) or the
item matches one of the included brands, categories, products or SKUs, and it matches none
of the exclusions. A category matches its own path and every path beneath it, segment by
segment and regardless of case and surrounding spaces: "Skincare" covers
"skincare / Serums" but not "Skincare-Men".
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Protocol


class ScopedItem(Protocol):
    """What a scope looks at in a basket line."""

    @property
    def sku_id(self) -> uuid.UUID: ...

    @property
    def product_id(self) -> uuid.UUID: ...

    @property
    def brand_id(self) -> uuid.UUID: ...

    @property
    def category_path(self) -> str: ...


def category_segments(path: str) -> tuple[str, ...]:
    """A category path as its lower-case segments ("Skincare/Serums" -> skincare, serums)."""
    return tuple(part.strip().lower() for part in path.split("/") if part.strip())


def category_within(path: str, ancestor: str) -> bool:
    """Whether the category `path` is `ancestor` or lies beneath it."""
    segments, prefix = category_segments(path), category_segments(ancestor)
    return bool(prefix) and segments[: len(prefix)] == prefix


@dataclass(frozen=True)
class ItemSelector:
    """A set of brands, categories, products and SKUs; an item matches when it matches any."""

    brand_ids: frozenset[uuid.UUID] = frozenset()
    category_paths: frozenset[str] = frozenset()
    product_ids: frozenset[uuid.UUID] = frozenset()
    sku_ids: frozenset[uuid.UUID] = frozenset()

    @property
    def empty(self) -> bool:
        """Whether the selector names nothing."""
        return not (self.brand_ids or self.category_paths or self.product_ids or self.sku_ids)

    def matches(self, item: ScopedItem) -> bool:
        """Whether the item is one of the listed brands, categories, products or SKUs."""
        return (
            item.brand_id in self.brand_ids
            or item.product_id in self.product_ids
            or item.sku_id in self.sku_ids
            or any(category_within(item.category_path, path) for path in self.category_paths)
        )


@dataclass(frozen=True)
class Scope:
    """The items an offer covers: `include` (nothing listed: every item) minus `exclude`."""

    include: ItemSelector = field(default_factory=ItemSelector)
    exclude: ItemSelector = field(default_factory=ItemSelector)

    def covers(self, item: ScopedItem) -> bool:
        """Whether the offer applies to the item."""
        included = self.include.empty or self.include.matches(item)
        return included and not self.exclude.matches(item)


EVERYTHING = Scope()
