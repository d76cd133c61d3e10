"""Merges and undos inside one transaction, on the groups a `LoadedComponent` holds.

`settle` joins the loaded groups that links connect when the rules allow, and records a
conflict for every link a rule refuses. It never takes a member apart: a link is applied to
the members as they stand, so a conflicting identifier (a new account with the phone of an
existing member) leaves the existing member with everything it has and is listed for review.
Only an operator's undo (`undo`) splits a member. The caller commits, then the warehouse
events follow (warehouse_moves.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast

from sqlalchemy import Table, bindparam, delete, select

from newretail.core import domain_events
from newretail.core.database import NO_SYNC
from newretail.identity.component import LoadedComponent
from newretail.identity.graph import ConstrainedUnionFind, Edge, settle_links
from newretail.identity.inserts import insert_new_pairs, pair_row
from newretail.identity.manual_links import separate
from newretail.identity.merge_events import MembersMerged, MergeUndone, MovedAudit
from newretail.identity.models import (
    ConflictKind,
    ConflictStatus,
    IdentityConflict,
    IdentityMerge,
    MergeReason,
)
from newretail.identity.warehouse_moves import warehouse_sql
from newretail.members.profile_graph import Member

Link = tuple[uuid.UUID, uuid.UUID]


@dataclass(eq=False)
class GraphSession(LoadedComponent):
    """The loaded groups, merged and separated in the caller's transaction."""

    member_map: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict, init=False)  # by member
    profile_map: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict, init=False)  # by profile
    merges: list[IdentityMerge] = field(default_factory=list, init=False)
    conflicts: int = field(default=0, init=False)
    changed_members: set[uuid.UUID] = field(default_factory=set, init=False)  # to write
    undone: int = field(default=0, init=False)

    # ------------------------------------------------------------ settling links
    def settle(self, reason: MergeReason, actor: str, arrived: Sequence[Link] = ()) -> None:
        """Join the groups that links connect by the one rule (graph.py: operators' links,
        then links stored earlier, then `arrived` in order; the first link wins); record the
        conflicts. Existing members only grow: a refused link changes nothing but its record."""
        forest = ConstrainedUnionFind(
            self.rules,
            {member_id: self.profile_summary(member_id) for member_id in self.root_of},
            [(a, b) for a, b in self.separated if a in self.root_of and b in self.root_of],
        )
        for root, group in self.groups.items():  # the members as they stand
            for member_id in group:
                forest.join(root, member_id)
        links = [
            Edge(a, b, manual)
            for (a, b), manual in self.edges.items()
            if a in self.root_of and b in self.root_of
        ]
        refused: set[Link] = set()
        for edge, violation in settle_links(forest, links, self.key, arrived):
            if violation.kind != ConflictKind.SEPARATED:
                refused.add((edge.a, edge.b))
                self._record_conflict(
                    edge.a, edge.b, violation.kind, violation.identifier_type, violation.detail
                )
        joined: dict[uuid.UUID, list[uuid.UUID]] = {}
        for root in self.groups:
            joined.setdefault(forest.find(root), []).append(root)
        for group_roots in joined.values():
            if len(group_roots) > 1:
                survivor, *losers = sorted(group_roots, key=self.survivor_key)
                for loser in sorted(losers, key=self.key):
                    self.merge(survivor, loser, reason, actor)
        self._drop_settled_conflicts(refused)

    def _drop_settled_conflicts(self, refused: set[Link]) -> None:
        """Open conflicts whose link is no longer refused (both sides are one member now)."""
        members = sorted(self.root_of)
        for start in range(0, len(members), 500):
            chunk = members[start : start + 500]
            for conflict_id, status, a, b in self.session.execute(
                select(  # by (organization_id, member_a): the unique index
                    IdentityConflict.id,
                    IdentityConflict.status,
                    IdentityConflict.member_a,
                    IdentityConflict.member_b,
                ).where(IdentityConflict.member_a.in_(chunk))
            ):
                if status == ConflictStatus.OPEN and b in self.root_of and (a, b) not in refused:
                    self.session.execute(
                        delete(IdentityConflict).where(IdentityConflict.id == conflict_id),
                        execution_options=NO_SYNC,
                    )

    def _record_conflict(
        self, a: uuid.UUID, b: uuid.UUID, kind: str, identifier_type: str | None, detail: str
    ) -> None:
        row = pair_row(
            self.organization_id,
            a,
            b,
            self.at,
            kind=kind,
            identifier_type=identifier_type,
            status=ConflictStatus.OPEN,
            detail=detail[:300],
        )
        stored = self.session.execute(insert_new_pairs(self.session, IdentityConflict).values(row))
        self.conflicts += stored.rowcount or 0  # type: ignore[attr-defined]

    # ------------------------------------------------------------ merge and undo
    def merge(
        self, survivor: uuid.UUID, loser: uuid.UUID, reason: MergeReason, actor: str
    ) -> IdentityMerge:
        """Merge the loser's group into the survivor's (both canonical members)."""
        side = set(self.groups[loser])
        record = IdentityMerge(
            id=uuid.uuid4(),
            organization_id=self.organization_id,
            survivor_id=survivor,
            loser_id=loser,
            reason=reason,
            actor=actor,
            merged_at=self.at,
        )
        moved = MovedAudit()
        if not side <= self.fresh:  # profiles created in this batch have no history yet
            event = MembersMerged(
                self.organization_id, record.id, survivor, tuple(sorted(side)), self.at, moved
            )
            domain_events.publish(self.session, event)
        # the audit lists coupons until marketing's handler moves (and records) them
        record.moved = {"coupons": [], **moved.ids, "profiles": sorted(str(m) for m in side)}
        self.changed_members |= side
        self.session.add(record)
        self.parent[loser] = survivor
        for member_id in side:
            self.root_of[member_id] = survivor
            self.member_map[member_id] = survivor
        self.groups[survivor] |= side
        del self.groups[loser]
        self.merges.append(record)
        return record

    def undo(self, record: IdentityMerge, actor: str) -> None:
        """Undo one merge (an operator's decision): the loser's side becomes its own member
        again and the two sides are separated."""
        survivor, loser = record.survivor_id, record.loser_id
        side = self.descendants(loser)
        rest = self.groups[survivor] - side
        self.changed_members |= side
        event = MergeUndone(
            self.organization_id, record.id, survivor, loser, dict(record.moved or {}), self.at
        )
        domain_events.publish(self.session, event)
        record.undone_at = self.at
        record.undone_by = actor
        self.undone += 1
        separate(self, side, rest, survivor, loser)
        self.parent[loser] = None
        for member_id in side:
            self.root_of[member_id] = loser
            self.profile_map[member_id] = loser
        self.groups[loser] = side
        self.groups[survivor] = rest

    def write_members(self) -> None:
        """Store the changed members' parent and canonical member (one executemany)."""
        if not self.changed_members:
            return
        table = cast(Table, Member.__table__)
        statement = (
            table.update()
            .where(table.c.id == bindparam("member"))
            .where(table.c.organization_id == self.organization_id)
            .values(merged_into_id=bindparam("parent"), canonical_id=bindparam("root"))
        )
        self.session.execute(
            statement,
            [
                {
                    "member": m,
                    "parent": self.parent.get(m),
                    "root": None if self.root_of[m] == m else self.root_of[m],
                }
                for m in sorted(self.changed_members)
            ],
        )
        self.changed_members.clear()

    # ------------------------------------------------------------ warehouse
    def moved_profiles(self) -> list[uuid.UUID]:
        """Profiles whose warehouse events must follow this transaction's changes."""
        by_profile, by_member = self._warehouse_moves()
        return sorted(set(by_profile) | set(by_member))

    def _warehouse_moves(self) -> tuple[dict[uuid.UUID, uuid.UUID], dict[uuid.UUID, uuid.UUID]]:
        by_profile = {
            p: self.root_of[p] for p in self.profile_map if self.root_of.get(p) is not None
        }
        by_member = {m: self.root_of[m] for m in self.member_map if self.root_of[m] != m}
        return by_profile, by_member

    def warehouse_statements(self) -> list[str]:
        """Re-attribute events to the canonical members after this transaction's changes."""
        by_profile, by_member = self._warehouse_moves()
        statements = warehouse_sql(self.organization_id, "profile_id", by_profile)
        statements += warehouse_sql(self.organization_id, "member_id", by_member)
        return statements
