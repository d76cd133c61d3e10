"""Merges and undos inside one transaction: the loaded component, the moves and the audit.

A `GraphSession` loads the groups (canonical member + merged profiles) around some members,
locking their canonical rows first (`SELECT … FOR UPDATE` on PostgreSQL; SQLite serialises
writers), follows links to neighbouring groups, and brings each touched component to its
canonical partition (graph.py): plain merges when groups only need joining, otherwise the
component's merges are undone and redone in canonical order. The caller commits, then runs
`warehouse_statements()` under the warehouse lock (never the other way round).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from newretail.core.database import utcnow
from newretail.core.errors import NotFound
from newretail.identity.graph import Edge, canonical_partition
from newretail.identity.history import (
    MOVED_TABLES,
    NO_SYNC,
    move_history,
    recompute_balances,
    restore_history,
    warehouse_sql,
)
from newretail.identity.keys import UNSCOPED, keyed
from newretail.identity.models import (
    ConflictKind,
    IdentityConflict,
    IdentityLink,
    IdentityMerge,
    IdentityPendingMove,
    MergeReason,
)
from newretail.identity.rules import GroupSummary, Rules
from newretail.members.models import Member, MemberIdentifier

COMPONENT_LIMIT = 5000  # profiles loaded around one link; beyond it neighbours are not followed
REBUILD_ACTOR = "oneid (rebuild)"


def dialect_insert(session: Session, model: Any) -> Any:
    """INSERT with ON CONFLICT support for the session's database."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


def pair(a: uuid.UUID, b: uuid.UUID) -> tuple[uuid.UUID, uuid.UUID]:
    """A link's key: the smaller member id first."""
    return (a, b) if a < b else (b, a)


class GraphSession:
    """The groups around some members, loaded and locked in one transaction."""

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
        self.member_map: dict[uuid.UUID, uuid.UUID] = {}  # events by member_id
        self.profile_map: dict[uuid.UUID, uuid.UUID] = {}  # events by profile_id
        self.merges: list[IdentityMerge] = []
        self.conflicts = 0
        self.changed_members: set[uuid.UUID] = set()  # written by write_members()
        self.undone = 0

    # ------------------------------------------------------------ loading
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
        if rows:
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
        for start in range(0, len(ordered), 500):
            chunk = ordered[start : start + 500]
            columns = (
                IdentityLink.member_a,
                IdentityLink.member_b,
                IdentityLink.manual,
                IdentityLink.blocked,
            )
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

    # ------------------------------------------------------------ state
    def summary(self, root: uuid.UUID) -> GroupSummary:
        """What the group of this canonical member holds."""
        summary = GroupSummary()
        for member_id in self.groups[root]:
            summary = summary.union(self._profile_summary(member_id))
        return summary

    def _profile_summary(self, member_id: uuid.UUID) -> GroupSummary:
        summary = GroupSummary(profiles=1, known=not self.anonymous[member_id])
        for kind, hashes in self.identifiers[member_id].items():
            for value_hash in hashes:
                summary.add(kind, value_hash)
        return summary

    def _key(self, member_id: uuid.UUID) -> str:
        """A profile's place in the canonical order: its smallest identifier, else its id."""
        keys = [f"{k}:{h}" for k, hashes in self.identifiers[member_id].items() for h in hashes]
        return min(keys) if keys else f"~{member_id}"

    def _survivor_key(self, member_id: uuid.UUID) -> tuple[bool, datetime, str]:
        """Known before anonymous, then the older, then the smaller id."""
        return (self.anonymous[member_id], self.joined[member_id], str(member_id))

    def components(self) -> list[set[uuid.UUID]]:
        """Loaded groups joined by links, as sets of canonical members."""
        parent = {root: root for root in self.groups}

        def find(x: uuid.UUID) -> uuid.UUID:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for a, b in self.edges:
            if a in self.root_of and b in self.root_of:
                ra, rb = find(self.root_of[a]), find(self.root_of[b])
                if ra != rb:
                    parent[ra] = rb
        found: dict[uuid.UUID, set[uuid.UUID]] = {}
        for root in self.groups:
            found.setdefault(find(root), set()).add(root)
        return list(found.values())

    # ------------------------------------------------------------ resolving
    def settle(self, reason: MergeReason, actor: str) -> None:
        """Bring every loaded component to its canonical partition; record conflicts."""
        refused: set[tuple[uuid.UUID, uuid.UUID]] = set()
        for component in self.components():
            if len(component) > 1:
                refused |= self._settle_component(component, reason, actor)
        self._drop_stale_conflicts(refused)

    def _drop_stale_conflicts(self, refused: set[tuple[uuid.UUID, uuid.UUID]]) -> None:
        """Open conflicts whose link is no longer refused (a later link settled it) go."""
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
                if status == "open" and b in self.root_of and (a, b) not in refused:
                    self.session.execute(
                        delete(IdentityConflict).where(IdentityConflict.id == conflict_id),
                        execution_options=NO_SYNC,
                    )

    def _settle_component(
        self, roots: set[uuid.UUID], reason: MergeReason, actor: str
    ) -> set[tuple[uuid.UUID, uuid.UUID]]:
        profiles = {m for root in roots for m in self.groups[root]}
        edges = [
            Edge(a, b, manual)
            for (a, b), manual in self.edges.items()
            if a in profiles and b in profiles
        ]
        partition = canonical_partition(
            self.rules,
            {m: self._profile_summary(m) for m in profiles},
            {m: self._key(m) for m in profiles},
            edges,
            [(a, b) for a, b in self.separated if a in profiles and b in profiles],
        )
        refused: set[tuple[uuid.UUID, uuid.UUID]] = set()
        for edge, violation in partition.refused:
            if violation.kind != ConflictKind.SEPARATED:
                refused.add(pair(edge.a, edge.b))
                self._record_conflict(
                    edge.a, edge.b, violation.kind, violation.identifier_type, violation.detail
                )
        target = partition.groups()
        current = {frozenset(self.groups[root]) for root in roots}
        if target == current:
            return refused
        if not all(any(group <= t for t in target) for group in current):
            self._undo_component(roots)
        for group in target:
            group_roots = sorted({self.root_of[m] for m in group}, key=self._survivor_key)
            survivor, losers = group_roots[0], group_roots[1:]
            for loser in sorted(losers, key=self._key):
                self.merge(survivor, loser, reason, actor)
        return refused

    def _undo_component(self, roots: set[uuid.UUID]) -> None:
        profiles = [m for root in roots for m in self.groups[root]]
        roots_profiles = set(profiles)
        merges: list[IdentityMerge] = []
        for start in range(0, len(profiles), 500):
            merges.extend(
                self.session.scalars(
                    select(IdentityMerge).where(
                        IdentityMerge.survivor_id.in_(profiles[start : start + 500]),
                        IdentityMerge.undone_at.is_(None),
                    )
                )
            )
        merges.extend(
            m
            for m in self.merges
            if m.undone_at is None and m.survivor_id in roots_profiles and m not in merges
        )
        while merges:
            ready = [
                m
                for m in merges
                if self.parent.get(m.survivor_id) is None
                and self.parent.get(m.loser_id) == m.survivor_id
            ]
            if not ready:
                raise RuntimeError("identity merges do not form a forest")
            for merge in ready:
                self.undo(merge, REBUILD_ACTOR, block=False)
                merges.remove(merge)

    def _record_conflict(
        self, a: uuid.UUID, b: uuid.UUID, kind: str, identifier_type: str | None, detail: str
    ) -> None:
        first, second = pair(a, b)
        statement = (
            dialect_insert(self.session, IdentityConflict)
            .values(
                id=uuid.uuid4(),
                created_at=self.at,
                organization_id=self.organization_id,
                kind=kind,
                identifier_type=identifier_type,
                member_a=first,
                member_b=second,
                status="open",
                detail=detail[:300],
            )
            .on_conflict_do_nothing(index_elements=["organization_id", "member_a", "member_b"])
        )
        self.conflicts += self.session.execute(statement).rowcount or 0  # type: ignore[attr-defined]

    # ------------------------------------------------------------ merge and undo
    def merge(
        self, survivor: uuid.UUID, loser: uuid.UUID, reason: MergeReason, actor: str
    ) -> IdentityMerge:
        """Merge the loser's group into the survivor's (both canonical members)."""
        side = set(self.groups[loser])
        if side <= self.fresh:
            moved: dict[str, list[str]] = {key: [] for key in [*MOVED_TABLES, "consents"]}
            moved["coupons"] = []
        else:
            moved = move_history(self.session, self.organization_id, survivor, side, self.at)
        moved["profiles"] = sorted(str(m) for m in side)
        self.changed_members |= side
        record = IdentityMerge(
            id=uuid.uuid4(),
            organization_id=self.organization_id,
            survivor_id=survivor,
            loser_id=loser,
            reason=reason,
            actor=actor,
            merged_at=self.at,
            moved=moved,
        )
        self.session.add(record)
        self.parent[loser] = survivor
        for member_id in side:
            self.root_of[member_id] = survivor
            self.member_map[member_id] = survivor
        self.groups[survivor] |= side
        del self.groups[loser]
        self.merges.append(record)
        return record

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

    def undo(self, record: IdentityMerge, actor: str, *, block: bool) -> None:
        """Undo one merge: the loser's side becomes its own member again."""
        survivor, loser = record.survivor_id, record.loser_id
        side = self.descendants(loser)
        rest = self.groups[survivor] - side
        self.changed_members |= side
        moved = record.moved or {}
        if any(moved.get(key) for key in [*MOVED_TABLES, "consents"]):
            restore_history(self.session, self.organization_id, loser, moved)
            recompute_balances(self.session, self.organization_id, [survivor, loser])
        record.undone_at = self.at
        record.undone_by = actor
        self.undone += 1
        if block:
            self._separate(side, rest, survivor, loser)
        self.parent[loser] = None
        for member_id in side:
            self.root_of[member_id] = loser
            self.profile_map[member_id] = loser
        self.groups[loser] = side
        self.groups[survivor] = rest

    def _separate(
        self, side: set[uuid.UUID], rest: set[uuid.UUID], survivor: uuid.UUID, loser: uuid.UUID
    ) -> None:
        """Links across an undone merge no longer merge (an operator's decision)."""
        crossing = [
            (a, b)
            for (a, b) in self.edges
            if (a in side and b in rest) or (a in rest and b in side)
        ]
        for a, b in crossing:
            self.session.execute(
                update(IdentityLink)
                .where(and_(IdentityLink.member_a == a, IdentityLink.member_b == b))
                .values(blocked=True, manual=False),
                execution_options=NO_SYNC,
            )
            del self.edges[(a, b)]
            self.separated.add((a, b))
        first, second = pair(survivor, loser)
        if (first, second) not in self.separated:
            self.session.execute(
                dialect_insert(self.session, IdentityLink)
                .values(
                    id=uuid.uuid4(),
                    created_at=self.at,
                    organization_id=self.organization_id,
                    member_a=first,
                    member_b=second,
                    manual=False,
                    blocked=True,
                )
                .on_conflict_do_nothing(index_elements=["organization_id", "member_a", "member_b"])
            )
            self.separated.add((first, second))

    def link_manually(self, a: uuid.UUID, b: uuid.UUID) -> None:
        """An operator's link between two groups: lifts separations between them and pins the
        links inside them."""
        left, right = self.groups[self.root_of[a]], self.groups[self.root_of[b]]
        lifted = [
            (x, y)
            for (x, y) in self.separated
            if (x in left and y in right) or (x in right and y in left)
        ]
        for x, y in lifted:
            self.separated.discard((x, y))
            self.session.execute(
                update(IdentityLink)
                .where(and_(IdentityLink.member_a == x, IdentityLink.member_b == y))
                .values(blocked=False),
                execution_options=NO_SYNC,
            )
            self.edges[(x, y)] = False
        # the operator approves both members as they are: their links are pinned (applied
        # first, without the bounds), so a later automatic link cannot take them apart
        inside = left | right
        pinned = [e for e, manual in self.edges.items() if not manual and set(e) <= inside]
        for x, y in pinned:
            self.session.execute(
                update(IdentityLink)
                .where(and_(IdentityLink.member_a == x, IdentityLink.member_b == y))
                .values(manual=True),
                execution_options=NO_SYNC,
            )
            self.edges[(x, y)] = True
        first, second = pair(self.root_of[a], self.root_of[b])
        statement = dialect_insert(self.session, IdentityLink).values(
            id=uuid.uuid4(),
            created_at=self.at,
            organization_id=self.organization_id,
            member_a=first,
            member_b=second,
            manual=True,
            blocked=False,
        )
        self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["organization_id", "member_a", "member_b"],
                set_={"manual": True, "blocked": False},
            )
        )
        self.separated.discard((first, second))
        self.edges[(first, second)] = True

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

    def record_pending_moves(self) -> list[uuid.UUID]:
        """Record, in this transaction, the profiles whose warehouse events must move; the
        caller deletes the rows (ids returned) once the warehouse is updated."""
        by_profile, by_member = self._warehouse_moves()
        now = utcnow()
        ids = {member_id: uuid.uuid4() for member_id in sorted(set(by_profile) | set(by_member))}
        if ids:
            self.session.execute(
                insert(IdentityPendingMove),
                [
                    {
                        "id": row_id,
                        "created_at": now,
                        "organization_id": self.organization_id,
                        "member_id": member_id,
                    }
                    for member_id, row_id in ids.items()
                ],
            )
        return list(ids.values())

    def canonical_map(self) -> dict[uuid.UUID, uuid.UUID]:
        """Every loaded profile's canonical member after this transaction."""
        return dict(self.root_of)
