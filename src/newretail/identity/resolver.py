"""The collector's hot path: identifiers -> profile and canonical member, in batches.

`IdentityResolver.resolve_batch` finds each identifier's home profile (creating profiles for
unknown identifiers, profiles.py), stores links between identifiers seen together, and joins
their members when the rules allow (merging.py), in the order the links arrived. It keeps an
in-process cache (org_cache.py: identifier -> home profile, member -> canonical member, links
already stored) so that known identifiers need no database round trip. Merges and undos made
through this resolver update the cache at once; another process sees them after `cache_ttl`
seconds (default 30) or on restart. Its own transactions and the warehouse moves after them
are in graph_commits.py.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy.orm import Session, sessionmaker

from newretail.core import domain_events
from newretail.core.database import scope_session, utcnow
from newretail.identity.graph_commits import commit_graph
from newretail.identity.inserts import insert_new_pairs, pair, pair_row
from newretail.identity.keys import canonical_members
from newretail.identity.merging import GraphSession
from newretail.identity.models import IdentityLink, IdentityMerge, MergeReason
from newretail.identity.operator_merges import AUTO_ACTOR, OperatorMerge, OperatorUndo
from newretail.identity.org_cache import OrgCache, OrgCaches
from newretail.identity.organization_rules import load_rules
from newretail.identity.profiles import load_or_create_profiles
from newretail.identity.rules import Rules
from newretail.identity.warehouse_moves import WarehouseMover, record_pending_moves
from newretail.members.errors import InvalidIdentifier
from newretail.warehouse.connection import Warehouse

log = logging.getLogger(__name__)
T = TypeVar("T")
Work = Callable[[Session], tuple[T, GraphSession]]


@dataclass(frozen=True)
class Resolved:
    profile_id: uuid.UUID  # home member of the event's first-listed identifier (never changes)
    member_id: uuid.UUID  # the canonical (surviving) member now


class IdentityResolver:
    """One per process (container): resolves identifiers to members and merges them."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        warehouse: Warehouse,
        *,
        cache_ttl: float = 30.0,
        max_cache_entries: int = 2_000_000,
    ) -> None:
        self.sessions = sessions
        self.warehouse = warehouse
        self.caches = OrgCaches(sessions, cache_ttl, max_cache_entries)
        self._write_lock = threading.RLock()
        self.mover = WarehouseMover(sessions, warehouse, self._write_lock)

    # ------------------------------------------------------------ cache
    def invalidate(self, organization_id: uuid.UUID | None = None) -> None:
        """Forget cached identifiers, members and rules (of one organisation or all)."""
        self.caches.invalidate(organization_id)

    def _session(self, organization_id: uuid.UUID) -> Session:
        return scope_session(self.sessions(), organization_id)

    def known_types(self, organization_id: uuid.UUID) -> frozenset[str]:
        """Identifier types the organisation accepts: built-in and custom."""
        return self.caches.get(organization_id).rules.known_types()

    def rules(self, organization_id: uuid.UUID) -> Rules:
        """The organisation's identifier rules (cached)."""
        return self.caches.get(organization_id).rules

    @property
    def epoch(self) -> int:
        """Grows with every merge, undo and invalidation in this resolver (the collector
        re-resolves a batch when it moved while the batch was being resolved, and drops
        its cache of resolved identities)."""
        return self.caches.epoch

    # ------------------------------------------------------------ hot path
    def resolve_batch(
        self,
        organization_id: uuid.UUID,
        items: Sequence[Sequence[tuple[str, str]]],
        at: datetime,
    ) -> list[Resolved | None]:
        """Resolve each event's identifiers (normalised, in priority order) to its member."""
        cache = self.caches.get(organization_id)
        types = cache.rules.types
        keyed_items: list[list[tuple[str, str]]] = []
        missing: set[tuple[str, str]] = set()
        # local copies: another thread may reset the shared cache meanwhile
        home_of: dict[tuple[str, str], uuid.UUID] = {}
        homes = cache.homes
        for identifiers in items:
            keys: list[tuple[str, str]] = []
            for key in identifiers:
                if key[0] not in types:
                    raise InvalidIdentifier(f"unknown identifier type {key[0]}", field="type")
                if key not in keys:
                    keys.append(key)
                    home = homes.get(key)
                    if home is None:
                        missing.add(key)
                    else:
                        home_of[key] = home
            keyed_items.append(keys)
        fresh: set[uuid.UUID] = set()
        if missing:
            with self._session(organization_id) as session:
                fresh, created = load_or_create_profiles(
                    session, organization_id, cache.secret, missing, at
                )
                session.commit()
            cache.homes.update(created)
            cache.canonical.update({home: home for home in fresh})
            home_of.update(created)
        new_links: dict[tuple[uuid.UUID, uuid.UUID], None] = {}  # in order of arrival
        known_links = cache.links
        for keys in keyed_items:
            if len(keys) > 1:
                first = home_of[keys[0]]
                for key in keys[1:]:
                    other = home_of[key]
                    if other != first:
                        link = pair(first, other)
                        if link not in known_links:
                            new_links[link] = None
        merged: dict[uuid.UUID, uuid.UUID] = {}
        if new_links:
            merged = self._link(organization_id, cache, list(new_links), fresh, at)
        canonical = cache.canonical
        member_of: dict[uuid.UUID, uuid.UUID] = {}
        unknown: set[uuid.UUID] = set()
        for keys in keyed_items:
            if keys:
                home = home_of[keys[0]]
                found = merged.get(home) or canonical.get(home)
                if found is None:
                    unknown.add(home)
                else:
                    member_of[home] = found
        if unknown:
            member_of.update(self._load_canonical(organization_id, cache, unknown))
        return [
            Resolved(home_of[keys[0]], member_of[home_of[keys[0]]]) if keys else None
            for keys in keyed_items
        ]

    def _load_canonical(
        self, organization_id: uuid.UUID, cache: OrgCache, members: Iterable[uuid.UUID]
    ) -> dict[uuid.UUID, uuid.UUID]:
        ids = set(members)
        with self._session(organization_id) as session:
            found = canonical_members(session, organization_id, ids)
            session.commit()
        for member_id in ids:  # deleted meanwhile: keep the profile id
            found.setdefault(member_id, member_id)
        cache.canonical.update(found)
        return found

    def _link(
        self,
        organization_id: uuid.UUID,
        cache: OrgCache,
        links: list[tuple[uuid.UUID, uuid.UUID]],
        fresh: set[uuid.UUID],
        at: datetime,
    ) -> dict[uuid.UUID, uuid.UUID]:
        """Store new links and merge what the rules allow; returns the touched canonicals."""

        def work(session: Session) -> tuple[dict[uuid.UUID, uuid.UUID], GraphSession]:
            now = utcnow()
            session.execute(
                insert_new_pairs(session, IdentityLink),
                [
                    pair_row(organization_id, a, b, now, manual=False, blocked=False)
                    for a, b in links
                ],
            )
            graph = GraphSession(session, organization_id, cache.rules, at, fresh)
            graph.load({m for link in links for m in link})
            graph.settle(MergeReason.AUTO_LINK, AUTO_ACTOR, links)
            return graph.root_of, graph

        canonical = self._write(organization_id, work)
        cache.links.update(links)
        return canonical

    # ------------------------------------------------------------ own transactions
    def _write(self, organization_id: uuid.UUID, work: Work[T]) -> T:
        """Run `work` in this resolver's own transaction (graph_commits.py), then move
        warehouse events.

        Lock order: this resolver's write lock, then the operational store, then (after the
        commit) the warehouse lock. Nothing holding the warehouse lock waits for the
        operational store, so requests that read the store and then the warehouse cannot
        deadlock with merges or with the event loader. The epoch grows between the commit
        and the warehouse update: the loader re-resolves a batch if it moved meanwhile."""
        with self._write_lock:  # merges of this process reach the warehouse in commit order
            committed = commit_graph(lambda: self._session(organization_id), work)
            graph = committed.graph
            self._remember(organization_id, graph)
            try:
                self._run_warehouse(committed.statements)
            except Exception:
                log.exception("moving events of a merge failed; repairing from the store")
                self.mover.repair(organization_id, set(graph.root_of))
                self.invalidate(organization_id)
                self.mover.clear_pending(organization_id, committed.pending)
                raise
            self.mover.clear_pending(organization_id, committed.pending)
            return committed.result

    def _run_warehouse(self, statements: list[str]) -> None:
        self.mover.run(statements)

    def _remember(self, organization_id: uuid.UUID, graph: GraphSession) -> None:
        """After a commit: cache the new canonical members and links, move the epoch."""
        moved = bool(graph.merges or graph.undone)
        self.caches.remember(organization_id, graph.canonical_map(), graph.edges, moved=moved)

    def repair_pending_moves(self, older_than_seconds: float = 60.0) -> int:
        """Move the warehouse events of merges and undos committed at least this long ago
        whose warehouse update never finished (the process died in between); returns the
        profiles repaired."""
        repaired = self.mover.repair_pending_moves(older_than_seconds)
        for organization_id in repaired:
            self.invalidate(organization_id)
        return sum(repaired.values())

    # ------------------------------------------------------------ operators' merges
    def merge_members(
        self,
        organization_id: uuid.UUID,
        member_id: uuid.UUID,
        other_member_id: uuid.UUID,
        *,
        actor: str,
        force: bool = False,
        session: Session | None = None,
    ) -> IdentityMerge:
        """Merge two members by hand: in the caller's `session` when given (the caller
        commits, then the warehouse events follow and the cache learns the new members), else
        in this resolver's own transaction (jobs, tests)."""
        rules = self._operator_rules(session, organization_id)
        work = OperatorMerge(
            organization_id, rules, member_id, other_member_id, actor, force, utcnow()
        )
        return self._operator_write(session, organization_id, work)

    def undo_merge(
        self,
        organization_id: uuid.UUID,
        merge_id: uuid.UUID,
        *,
        actor: str,
        session: Session | None = None,
    ) -> IdentityMerge:
        """Undo a merge: in the caller's `session` when given (the caller commits, then the
        warehouse events follow and the cache learns the restored members), else in this
        resolver's own transaction (jobs, tests)."""
        rules = self._operator_rules(session, organization_id)
        work = OperatorUndo(organization_id, rules, merge_id, actor, utcnow())
        return self._operator_write(session, organization_id, work)

    def _operator_rules(self, session: Session | None, organization_id: uuid.UUID) -> Rules:
        """The identifier rules an operator's merge or undo follows: read in the caller's
        session when there is one, else the cached ones."""
        if session is None:
            return self.rules(organization_id)
        return load_rules(session, organization_id)

    def _operator_write(
        self, session: Session | None, organization_id: uuid.UUID, work: Work[T]
    ) -> T:
        if session is None:
            return self._write(organization_id, work)
        return self._in_callers_transaction(session, organization_id, work)

    def _in_callers_transaction(
        self, session: Session, organization_id: uuid.UUID, work: Work[T]
    ) -> T:
        """Run `work` and write the graph's members and pending moves in the caller's
        transaction; after its commit, move the warehouse events from the committed members
        and teach the cache."""
        result, graph = work(session)
        graph.write_members()
        session.flush()
        moved = graph.moved_profiles()
        pending = record_pending_moves(session, organization_id, moved)

        def follow() -> None:
            self._remember(organization_id, graph)
            with self._write_lock:  # after this process's merges in flight
                self.mover.repair(organization_id, set(moved))
            self.mover.clear_pending(organization_id, pending)

        if moved or graph.merges or graph.undone:
            domain_events.after_commit(session, follow)
        return result

    def after_commit_invalidate(self, session: Session, organization_id: uuid.UUID) -> None:
        """Forget the organisation's cache once the caller's transaction commits (its
        identifier rules changed)."""
        domain_events.after_commit(session, lambda: self.invalidate(organization_id))
