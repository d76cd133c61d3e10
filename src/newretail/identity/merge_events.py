"""Domain events OneID publishes when members merge or a merge is undone.

Identity owns the member graph, not the history: the domains that own orders, points,
consent and tiers move their own rows in their handlers (`members/member_merges.py`,
`orders/member_merges.py`), in the caller's transaction. Each handler writes the ids it moved
into the event's `moved` audit, which the merge record keeps so an undo can move exactly those
rows back (`MergeUndone.moved`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class MovedAudit:
    """Ids each domain moved to the survivor, by kind (`orders`, `points_lots`, ...)."""

    ids: dict[str, list[str]] = field(default_factory=dict)

    def record(self, kind: str, moved: Sequence[uuid.UUID | str]) -> None:
        """Note the ids of one kind of row a handler moved."""
        self.ids[kind] = sorted(str(v) for v in moved)


@dataclass(frozen=True)
class MembersMerged:
    """The profiles `merged_ids` (the loser's side) now belong to `survivor_id`."""

    organization_id: uuid.UUID
    merge_id: uuid.UUID
    survivor_id: uuid.UUID
    merged_ids: tuple[uuid.UUID, ...]
    at: datetime
    moved: MovedAudit = field(default_factory=MovedAudit)


@dataclass(frozen=True)
class MergeUndone:
    """A merge was undone: the rows it moved (`moved`, by kind) go back to `restored_id`."""

    organization_id: uuid.UUID
    merge_id: uuid.UUID
    survivor_id: uuid.UUID
    restored_id: uuid.UUID
    moved: Mapping[str, Sequence[str]]
    at: datetime
