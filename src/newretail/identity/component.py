"""The groups around some members, loaded and locked in one transaction.

A group is a canonical member with the profiles merged into it. `LoadedComponent.load`
locks the canonical rows first (`SELECT … FOR UPDATE` on PostgreSQL; SQLite serialises
writers), reads their profiles, identifiers and links, and follows links to neighbouring
groups (up to `COMPONENT_LIMIT` profiles). Merges and undos on what is loaded live in
merging.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from newretail.core.errors import NotFound
from newretail.identity.keys import UNSCOPED, canonical_members, chunks, keyed, keyed_rows
from newretail.identity.models import IdentityLink
from newretail.identity.rules import GroupSummary, Rules
from newretail.members.profile_graph import Member, MemberIdentifier

COMPONENT_LIMIT = 5000  # profiles loaded around one link; beyond it neighbours are not followed


@dataclass(eq=False)
class LoadedComponent:
    """Profiles, groups, identifiers and links around some members (one transaction)."""

    session: Session
    organization_id: uuid.UUID
    rules: Rules
    at: datetime
    fresh: set[uuid.UUID] = field(default_factory=set)  # created in this batch: nothing to move
    parent: dict[uuid.UUID, uuid.UUID | None] = field(default_factory=dict, init=False)
    root_of: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict, init=False)
    groups: dict[uuid.UUID, set[uuid.UUID]] = field(default_factory=dict, init=False)
    anonymous: dict[uuid.UUID, bool] = field(default_factory=dict, init=False)
    joined: dict[uuid.UUID, datetime] = field(default_factory=dict, init=False)
    identifiers: dict[uuid.UUID, dict[str, set[str]]] = field(default_factory=dict, init=False)
    edges: dict[tuple[uuid.UUID, uuid.UUID], bool] = field(default_factory=dict, init=False)
    separated: set[tuple[uuid.UUID, uuid.UUID]] = field(default_factory=set, init=False)

    def load(self, members: Iterable[uuid.UUID]) -> None:
        """Load (and lock) the groups of these members and of every linked group."""
        pending = set(members) - set(self.root_of)
        for _ in range(10_000):
            if not pending or len(self.root_of) >= COMPONENT_LIMIT:
                return
            roots = canonical_members(self.session, self.organization_id, pending)
            if pending - set(roots):
                raise NotFound("member not found", field="member_id")
            candidates = set(roots.values()) - set(self.groups)
            if not candidates:
                return
            self.session.execute(
                select(Member.id)
                .where(keyed(Member, self.organization_id, Member.id, sorted(candidates)))
                .order_by(Member.id)
                .with_for_update(),
                execution_options=UNSCOPED,
            )
            # a root may have been merged meanwhile
            after = canonical_members(self.session, self.organization_id, candidates)
            confirmed = {r for r in candidates if after.get(r) == r}
            moved_on = {after[r] for r in candidates if r in after and after[r] != r}
            loaded = self._load_groups(confirmed)
            far = self._load_links(loaded)
            pending = (pending | moved_on | far) - set(self.root_of)

    def _load_groups(self, roots: set[uuid.UUID]) -> set[uuid.UUID]:
        loaded: set[uuid.UUID] = set()
        columns = (
            Member.id,
            Member.merged_into_id,
            Member.canonical_id,
            Member.anonymous,
            Member.joined_at,
        )
        for column in (Member.id, Member.canonical_id):  # two index lookups, not an OR
            for member_id, merged_into, canonical, anonymous, joined in keyed_rows(
                self.session, self.organization_id, columns, column, roots
            ):
                if member_id in self.root_of:
                    continue
                root = canonical or member_id
                self.parent[member_id] = merged_into
                self.root_of[member_id] = root
                self.groups.setdefault(root, set()).add(member_id)
                self.anonymous[member_id] = anonymous
                self.joined[member_id] = joined
                self.identifiers.setdefault(member_id, {})
                loaded.add(member_id)
        held = (
            MemberIdentifier.member_id,
            MemberIdentifier.identifier_type,
            MemberIdentifier.value_hash,
        )
        for member_id, kind, value_hash in keyed_rows(
            self.session, self.organization_id, held, MemberIdentifier.member_id, loaded
        ):
            self.identifiers[member_id].setdefault(kind, set()).add(value_hash)
        return loaded

    def _load_links(self, members: set[uuid.UUID]) -> set[uuid.UUID]:
        """Links touching these members; returns the far ends not loaded yet."""
        far: set[uuid.UUID] = set()
        columns = (
            IdentityLink.member_a,
            IdentityLink.member_b,
            IdentityLink.manual,
            IdentityLink.blocked,
        )
        rows: list[Any] = []
        for chunk in chunks(sorted(members)):  # (organization_id, member_a) leads the index
            rows += self.session.execute(select(*columns).where(IdentityLink.member_a.in_(chunk)))
        rows += keyed_rows(
            self.session, self.organization_id, columns, IdentityLink.member_b, members
        )
        for a, b, manual, blocked in rows:
            if blocked:
                self.separated.add((a, b))
            else:
                self.edges[(a, b)] = manual
                far.update((a, b))
        return far

    # ------------------------------------------------------------ what a group holds
    def summary(self, root: uuid.UUID) -> GroupSummary:
        """What the group of this canonical member holds."""
        summary = GroupSummary()
        for member_id in self.groups[root]:
            summary = summary.union(self.profile_summary(member_id))
        return summary

    def profile_summary(self, member_id: uuid.UUID) -> GroupSummary:
        """What one profile holds: itself and its identifiers."""
        summary = GroupSummary(profiles=1, known=not self.anonymous[member_id])
        for kind, hashes in self.identifiers[member_id].items():
            for value_hash in hashes:
                summary.add(kind, value_hash)
        return summary

    def key(self, member_id: uuid.UUID) -> str:
        """A profile's place in a fixed order: its smallest keyed identifier, else its id."""
        keys = [f"{k}:{h}" for k, hashes in self.identifiers[member_id].items() for h in hashes]
        return min(keys) if keys else f"~{member_id}"

    def survivor_key(self, member_id: uuid.UUID) -> tuple[bool, datetime, str]:
        """Known before anonymous, then the older, then the smaller id."""
        return (self.anonymous[member_id], self.joined[member_id], str(member_id))

    def descendants(self, member_id: uuid.UUID) -> set[uuid.UUID]:
        """The member and every profile merged (directly or not) into it."""
        root = self.root_of[member_id]
        children: dict[uuid.UUID, list[uuid.UUID]] = {}
        for m in self.groups[root]:
            up = self.parent.get(m)
            if up is not None:
                children.setdefault(up, []).append(m)
        found, stack = {member_id}, [member_id]
        while stack:
            for child in children.get(stack.pop(), []):
                found.add(child)
                stack.append(child)
        return found

    def canonical_map(self) -> dict[uuid.UUID, uuid.UUID]:
        """Every loaded profile's canonical member as it stands in this transaction."""
        return dict(self.root_of)
