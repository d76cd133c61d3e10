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
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from newretail.core.errors import NotFound
from newretail.identity.keys import UNSCOPED, keyed
from newretail.identity.models import IdentityLink
from newretail.identity.rules import GroupSummary, Rules
from newretail.members.profile_graph import Member, MemberIdentifier

COMPONENT_LIMIT = 5000  # profiles loaded around one link; beyond it neighbours are not followed


def dialect_insert(session: Session, model: Any) -> Any:
    """INSERT with ON CONFLICT support for the session's database."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


def pair(a: uuid.UUID, b: uuid.UUID) -> tuple[uuid.UUID, uuid.UUID]:
    """A link's key: the smaller member id first."""
    return (a, b) if a < b else (b, a)


class LoadedComponent:
    """Profiles, groups, identifiers and links around some members (one transaction)."""

    def __init__(
        self,
        session: Session,
        organization_id: uuid.UUID,
        rules: Rules,
        at: datetime,
        fresh: Iterable[uuid.UUID] = (),
    ) -> None:
        self.session = session
        self.organization_id = organization_id
        self.rules = rules
        self.at = at
        self.fresh = set(fresh)  # profiles created in this batch: nothing to move
        self.parent: dict[uuid.UUID, uuid.UUID | None] = {}
        self.root_of: dict[uuid.UUID, uuid.UUID] = {}
        self.groups: dict[uuid.UUID, set[uuid.UUID]] = {}
        self.anonymous: dict[uuid.UUID, bool] = {}
        self.joined: dict[uuid.UUID, datetime] = {}
        self.identifiers: dict[uuid.UUID, dict[str, set[str]]] = {}
        self.edges: dict[tuple[uuid.UUID, uuid.UUID], bool] = {}  # pair -> manual
        self.separated: set[tuple[uuid.UUID, uuid.UUID]] = set()

    def _roots(self, members: Iterable[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
        ids = list(members)
        found: dict[uuid.UUID, uuid.UUID] = {}
        for start in range(0, len(ids), 500):
            for member_id, canonical_id in self.session.execute(
                select(Member.id, Member.canonical_id).where(
                    keyed(Member, self.organization_id, Member.id, ids[start : start + 500])
                ),
                execution_options=UNSCOPED,
            ):
                found[member_id] = canonical_id or member_id
        return found

    def load(self, members: Iterable[uuid.UUID]) -> None:
        """Load (and lock) the groups of these members and of every linked group."""
        pending = set(members) - set(self.root_of)
        for _ in range(10_000):
            if not pending or len(self.root_of) >= COMPONENT_LIMIT:
                return
            roots = self._roots(pending)
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
            after = self._roots(candidates)  # a root may have been merged meanwhile
            confirmed = {r for r in candidates if after.get(r) == r}
            moved_on = {after[r] for r in candidates if r in after and after[r] != r}
            loaded = self._load_groups(confirmed)
            far = self._load_links(loaded)
            pending = (pending | moved_on | far) - set(self.root_of)

    def _load_groups(self, roots: set[uuid.UUID]) -> set[uuid.UUID]:
        if not roots:
            return set()
        loaded: set[uuid.UUID] = set()
        ordered = sorted(roots)
        columns = (
            Member.id,
            Member.merged_into_id,
            Member.canonical_id,
            Member.anonymous,
            Member.joined_at,
        )
        rows: list[Any] = []
        for start in range(0, len(ordered), 500):
            chunk = ordered[start : start + 500]
            for column in (Member.id, Member.canonical_id):  # two index lookups, not an OR
                rows.extend(
                    self.session.execute(
                        select(*columns).where(keyed(Member, self.organization_id, column, chunk)),
                        execution_options=UNSCOPED,
                    )
                )
        for member_id, merged_into, canonical, anonymous, joined in rows:
            root = canonical or member_id
            if member_id in self.root_of:
                continue
            self.parent[member_id] = merged_into
            self.root_of[member_id] = root
            self.groups.setdefault(root, set()).add(member_id)
            self.anonymous[member_id] = anonymous
            self.joined[member_id] = joined
            self.identifiers.setdefault(member_id, {})
            loaded.add(member_id)
        members = sorted(loaded)
        for start in range(0, len(members), 500):
            for member_id, kind, value_hash in self.session.execute(
                select(
                    MemberIdentifier.member_id,
                    MemberIdentifier.identifier_type,
                    MemberIdentifier.value_hash,
                ).where(
                    keyed(
                        MemberIdentifier,
                        self.organization_id,
                        MemberIdentifier.member_id,
                        members[start : start + 500],
                    )
                ),
                execution_options=UNSCOPED,
            ):
                self.identifiers[member_id].setdefault(kind, set()).add(value_hash)
        return loaded

    def _load_links(self, members: set[uuid.UUID]) -> set[uuid.UUID]:
        """Links touching these members; returns the far ends not loaded yet."""
        far: set[uuid.UUID] = set()
        ordered = sorted(members)
        columns = (
            IdentityLink.member_a,
            IdentityLink.member_b,
            IdentityLink.manual,
            IdentityLink.blocked,
        )
        for start in range(0, len(ordered), 500):
            chunk = ordered[start : start + 500]
            rows = list(  # (organization_id, member_a) leads the unique index
                self.session.execute(select(*columns).where(IdentityLink.member_a.in_(chunk)))
            )
            rows += self.session.execute(
                select(*columns).where(
                    keyed(IdentityLink, self.organization_id, IdentityLink.member_b, chunk)
                ),
                execution_options=UNSCOPED,
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
