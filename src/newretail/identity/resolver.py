"""The collector's hot path: identifiers -> profile and canonical member, in batches.

`IdentityResolver.resolve_batch` hashes each identifier with the organisation's secret, finds
its home profile (creating profiles for unknown identifiers, one INSERT per batch), records
links between identifiers seen together, and merges their members when the rules allow
(graph.py, merging.py). It keeps an in-process cache (identifier -> home profile, member ->
canonical member, links already stored) so that known identifiers need no database round
trip. Merges and undos made through this resolver update the cache at once; another process
sees them after `cache_ttl` seconds (default 30) or on restart.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from newretail.core.database import scope_session, utcnow
from newretail.identity.errors import AlreadyMerged, MergeRefused, UndoRefused
from newretail.identity.history import warehouse_sql
from newretail.identity.keys import UNSCOPED, UNSCOPED_NO_SYNC, keyed
from newretail.identity.merging import GraphSession, dialect_insert, pair
from newretail.identity.models import (
    ConflictStatus,
    IdentityConflict,
    IdentityLink,
    IdentityMerge,
    IdentityPendingMove,
    IdentitySettings,
    IdentityType,
    MergeReason,
)
from newretail.identity.rules import KNOWN_TYPES, Rules, build_rules, check_union
from newretail.members.errors import InvalidIdentifier
from newretail.members.identifiers import identifier_hash, member_settings
from newretail.members.models import IdentifierType, Member, MemberIdentifier, MemberStatus
from newretail.warehouse.connection import Warehouse
from newretail.warehouse.sql import run_sql

log = logging.getLogger(__name__)
T = TypeVar("T")
AUTO_ACTOR = "oneid"
RETRIES = 5


@dataclass(frozen=True)
class Resolved:
    profile_id: uuid.UUID  # home member of the event's first-listed identifier (never changes)
    member_id: uuid.UUID  # the canonical (surviving) member now


@dataclass
class _OrgCache:
    secret: bytes
    rules: Rules
    loaded_at: float
    homes: dict[tuple[str, str], uuid.UUID] = field(default_factory=dict)
    canonical: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)
    links: set[tuple[uuid.UUID, uuid.UUID]] = field(default_factory=set)


def load_rules(session: Session, organization_id: uuid.UUID) -> Rules:
    """The organisation's effective identifier rules (built-in, overrides, custom types)."""
    overrides = [
        (t.name, t.unique_per_member, t.max_per_member)
        for t in session.scalars(
            select(IdentityType).where(IdentityType.organization_id == organization_id)
        )
    ]
    settings = session.scalar(
        select(IdentitySettings).where(IdentitySettings.organization_id == organization_id)
    )
    return build_rules(overrides, settings.max_group_size if settings else None)


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
        self.cache_ttl = cache_ttl
        self.max_cache_entries = max_cache_entries
        self._orgs: dict[uuid.UUID, _OrgCache] = {}
        self._lock = threading.Lock()
        self._write_lock = threading.RLock()
        self._epoch = 0

    # ------------------------------------------------------------ cache
    def invalidate(self, organization_id: uuid.UUID | None = None) -> None:
        """Forget cached identifiers, members and rules (of one organisation or all)."""
        with self._lock:
            if organization_id is None:
                self._orgs.clear()
            else:
                self._orgs.pop(organization_id, None)
            self._epoch += 1  # callers' caches of resolved identities are stale too

    def _cache(self, organization_id: uuid.UUID) -> _OrgCache:
        """The organisation's cache; after `cache_ttl` the rules are re-read and the canonical
        members forgotten (merges by other processes). Homes and links never change."""
        cache = self._orgs.get(organization_id)
        now = time.monotonic()
        if cache is not None and now - cache.loaded_at < self.cache_ttl:
            if len(cache.homes) + len(cache.canonical) + len(cache.links) > self.max_cache_entries:
                cache.homes.clear()
                cache.canonical.clear()
                cache.links.clear()
            return cache
        with self._session(organization_id) as session:
            secret = member_settings(session, organization_id).identifier_secret
            rules = load_rules(session, organization_id)
            session.commit()
        if cache is not None:
            cache.rules, cache.loaded_at, cache.canonical = rules, now, {}
            return cache
        cache = _OrgCache(secret=secret, rules=rules, loaded_at=now)
        with self._lock:
            self._orgs[organization_id] = cache
        return cache

    def _session(self, organization_id: uuid.UUID) -> Session:
        return scope_session(self.sessions(), organization_id)

    def known_types(self, organization_id: uuid.UUID) -> frozenset[str]:
        """Identifier types the organisation accepts: built-in and custom."""
        return self._cache(organization_id).rules.known_types()

    def rules(self, organization_id: uuid.UUID) -> Rules:
        """The organisation's identifier rules (cached)."""
        return self._cache(organization_id).rules

    # ------------------------------------------------------------ hot path
    def resolve_batch(
        self,
        organization_id: uuid.UUID,
        items: Sequence[Sequence[tuple[str, str]]],
        at: datetime,
    ) -> list[Resolved | None]:
        """Resolve each event's identifiers (normalised, in priority order) to its member."""
        cache = self._cache(organization_id)
        types = cache.rules.types
        keyed: list[list[tuple[str, str]]] = []
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
            keyed.append(keys)
        fresh: set[uuid.UUID] = set()
        if missing:
            fresh, created = self._load_or_create(organization_id, cache, missing, at)
            home_of.update(created)
        new_links: dict[tuple[uuid.UUID, uuid.UUID], None] = {}
        known_links = cache.links
        for keys in keyed:
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
        for keys in keyed:
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
            for keys in keyed
        ]

    def _load_canonical(
        self, organization_id: uuid.UUID, cache: _OrgCache, members: Iterable[uuid.UUID]
    ) -> dict[uuid.UUID, uuid.UUID]:
        ids = list(members)
        found: dict[uuid.UUID, uuid.UUID] = {}
        with self._session(organization_id) as session:
            for start in range(0, len(ids), 500):
                for member_id, canonical_id in session.execute(
                    select(Member.id, Member.canonical_id).where(
                        keyed(Member, organization_id, Member.id, ids[start : start + 500])
                    ),
                    execution_options=UNSCOPED,
                ):
                    found[member_id] = canonical_id or member_id
            session.commit()
        for member_id in ids:  # deleted meanwhile: keep the profile id
            found.setdefault(member_id, member_id)
        cache.canonical.update(found)
        return found

    def _load_or_create(
        self,
        organization_id: uuid.UUID,
        cache: _OrgCache,
        missing: set[tuple[str, str]],
        at: datetime,
    ) -> tuple[set[uuid.UUID], dict[tuple[str, str], uuid.UUID]]:
        """Find the home profiles of unseen identifiers; create the missing ones in bulk.

        Returns the profiles created here and the home of every identifier asked for."""
        hashes = {key: identifier_hash(cache.secret, key[0], key[1]) for key in missing}
        by_type: dict[str, list[str]] = {}
        for (kind, _value), value_hash in hashes.items():
            by_type.setdefault(kind, []).append(value_hash)
        owners: dict[tuple[str, str], uuid.UUID] = {}

        def read(session: Session, wanted: dict[str, list[str]]) -> None:
            for kind, values in wanted.items():
                for start in range(0, len(values), 500):
                    for value_hash, member_id in session.execute(
                        select(MemberIdentifier.value_hash, MemberIdentifier.member_id).where(
                            MemberIdentifier.identifier_type == kind,
                            MemberIdentifier.value_hash.in_(values[start : start + 500]),
                        )
                    ):
                        owners[(kind, value_hash)] = member_id

        fresh: set[uuid.UUID] = set()
        with self._session(organization_id) as session:
            read(session, by_type)
            unseen = [key for key in missing if (key[0], hashes[key]) not in owners]
            if unseen:
                created, stored = self._create_profiles(
                    session, organization_id, unseen, hashes, at
                )
                lost = {k: m for k, m in created.items() if (k[0], hashes[k]) not in stored}
                if lost:  # another writer created them first: use theirs, drop ours
                    retry: dict[str, list[str]] = {}
                    for key in lost:
                        retry.setdefault(key[0], []).append(hashes[key])
                    read(session, retry)
                    orphans = list(lost.values())
                    session.execute(
                        delete(Member).where(keyed(Member, organization_id, Member.id, orphans)),
                        execution_options=UNSCOPED_NO_SYNC,
                    )
                fresh = {member_id for key, member_id in created.items() if key not in lost}
                for key, member_id in created.items():
                    if key not in lost:
                        owners[(key[0], hashes[key])] = member_id
            session.commit()
        found = {key: owners[(key[0], hashes[key])] for key in missing}
        cache.homes.update(found)
        cache.canonical.update({home: home for home in fresh})
        return fresh, found

    def _create_profiles(
        self,
        session: Session,
        organization_id: uuid.UUID,
        keys: list[tuple[str, str]],
        hashes: dict[tuple[str, str], str],
        at: datetime,
    ) -> tuple[dict[tuple[str, str], uuid.UUID], set[tuple[str, str]]]:
        """One profile per unseen identifier; returns them and the (type, hash) rows stored.

        An identifier stored by another writer meanwhile is not stored here (ON CONFLICT DO
        NOTHING); its new profile is an orphan for the caller to delete.
        """
        now = utcnow()
        created = {key: uuid.uuid4() for key in keys}
        session.execute(
            insert(Member),
            [
                {
                    "id": member_id,
                    "organization_id": organization_id,
                    "created_at": now,
                    "status": MemberStatus.ACTIVE,
                    "joined_at": at,
                    "points_available": 0,
                    "points_locked": 0,
                    "anonymous": kind not in KNOWN_TYPES,
                    "phone": value if kind == IdentifierType.PHONE else None,
                    "email": value if kind == IdentifierType.EMAIL else None,
                }
                for (kind, value), member_id in created.items()
            ],
        )
        statement = (
            dialect_insert(session, MemberIdentifier)
            .on_conflict_do_nothing(
                index_elements=["organization_id", "identifier_type", "value_hash"]
            )
            .returning(MemberIdentifier.identifier_type, MemberIdentifier.value_hash)
        )
        rows = [
            {
                "id": uuid.uuid4(),
                "created_at": now,
                "organization_id": organization_id,
                "member_id": member_id,
                "identifier_type": kind,
                "value_hash": hashes[(kind, value)],
            }
            for (kind, value), member_id in created.items()
        ]
        stored: set[tuple[str, str]] = set()
        for start in range(0, len(rows), 1000):
            result = session.execute(statement, rows[start : start + 1000])
            stored.update((kind, value_hash) for kind, value_hash in result)
        return created, stored

    # ------------------------------------------------------------ links and merges
    def _write(
        self, organization_id: uuid.UUID, work: Callable[[Session], tuple[T, GraphSession]]
    ) -> T:
        """Run `work` in a transaction (with retries on deadlock), then move warehouse events.

        Lock order: this resolver's write lock, then the operational store, then (after the
        commit) the warehouse lock. Nothing holding the warehouse lock waits for the
        operational store, so requests that read the store and then the warehouse cannot
        deadlock with merges or with the event loader. The epoch grows between the commit
        and the warehouse update: the loader re-resolves a batch if it moved meanwhile."""
        with self._write_lock:  # merges of this process reach the warehouse in commit order
            for attempt in range(RETRIES):
                session = self._session(organization_id)
                try:
                    result, graph = work(session)
                    graph.write_members()
                    session.flush()
                    statements = graph.warehouse_statements()
                    pending = graph.record_pending_moves() if statements else []
                    session.commit()
                except (OperationalError, DBAPIError) as exc:
                    session.rollback()
                    if attempt == RETRIES - 1 or not _retryable(exc):
                        raise
                    continue
                except BaseException:
                    session.rollback()
                    raise
                finally:
                    session.close()
                break
            else:  # pragma: no cover - the loop returns or raises
                raise RuntimeError("unreachable")
            self._remember(organization_id, graph)
            if graph.merges or graph.undone:
                with self._lock:
                    self._epoch += 1
            try:
                self._run_warehouse(statements)
            except Exception:
                log.exception("moving events of a merge failed; repairing from the store")
                self._repair_warehouse(organization_id, set(graph.root_of))
                self._clear_pending(organization_id, pending)
                raise
            self._clear_pending(organization_id, pending)
            return result

    @property
    def epoch(self) -> int:
        """Grows with every merge, undo and invalidation in this resolver (the collector
        re-resolves a batch when it moved while the batch was being resolved, and drops
        its cache of resolved identifiers)."""
        return self._epoch

    def _remember(self, organization_id: uuid.UUID, graph: GraphSession) -> None:
        cache = self._orgs.get(organization_id)
        if cache is None:
            return
        cache.canonical.update(graph.canonical_map())
        cache.links.update(graph.edges)

    def _run_warehouse(self, statements: list[str]) -> None:
        if not statements:
            return
        con = self.warehouse.connection()
        with self.warehouse.lock:
            for statement in statements:
                run_sql(con, statement)

    def _repair_warehouse(self, organization_id: uuid.UUID, profiles: set[uuid.UUID]) -> None:
        """Point the profiles' warehouse events at their stored canonical member."""
        with self._session(organization_id) as session:
            stored = {
                member_id: canonical_id or member_id
                for member_id, canonical_id in session.execute(
                    select(Member.id, Member.canonical_id).where(Member.id.in_(list(profiles)))
                )
            }
        self._run_warehouse(
            warehouse_sql(organization_id, "profile_id", stored)
            + warehouse_sql(organization_id, "member_id", stored)
        )
        self.invalidate(organization_id)

    def _clear_pending(self, organization_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> None:
        """The warehouse follows these pending moves now: delete their rows."""
        if not ids:
            return
        with self._session(organization_id) as session:
            for start in range(0, len(ids), 500):
                session.execute(
                    delete(IdentityPendingMove).where(
                        keyed(
                            IdentityPendingMove,
                            organization_id,
                            IdentityPendingMove.id,
                            ids[start : start + 500],
                        )
                    ),
                    execution_options=UNSCOPED_NO_SYNC,
                )
            session.commit()

    def repair_pending_moves(self, older_than_seconds: float = 60.0) -> int:
        """Move the warehouse events of merges and undos committed at least this long ago
        whose warehouse update never finished (the process died in between); returns the
        profiles repaired. The delay leaves other processes' updates in flight alone."""
        cutoff = utcnow() - timedelta(seconds=older_than_seconds)
        with scope_session(self.sessions(), None) as session:
            rows = session.execute(
                select(
                    IdentityPendingMove.organization_id,
                    IdentityPendingMove.id,
                    IdentityPendingMove.member_id,
                ).where(IdentityPendingMove.created_at <= cutoff)
            ).all()
        by_organization: dict[uuid.UUID, list[tuple[uuid.UUID, uuid.UUID]]] = {}
        for organization_id, row_id, member_id in rows:
            by_organization.setdefault(organization_id, []).append((row_id, member_id))
        for organization_id, pending in by_organization.items():
            with self._write_lock:  # after this process's merges, in commit order
                self._repair_warehouse(organization_id, {member for _, member in pending})
                self._clear_pending(organization_id, [row for row, _ in pending])
            log.warning(
                "repaired the warehouse events of %d profiles after an unfinished merge",
                len(pending),
            )
        return len(rows)

    def _link(
        self,
        organization_id: uuid.UUID,
        cache: _OrgCache,
        links: list[tuple[uuid.UUID, uuid.UUID]],
        fresh: set[uuid.UUID],
        at: datetime,
    ) -> dict[uuid.UUID, uuid.UUID]:
        """Store new links and merge what the rules allow; returns the touched canonicals."""

        def work(session: Session) -> tuple[dict[uuid.UUID, uuid.UUID], GraphSession]:
            now = utcnow()
            statement = dialect_insert(session, IdentityLink).on_conflict_do_nothing(
                index_elements=["organization_id", "member_a", "member_b"]
            )
            session.execute(
                statement,
                [
                    {
                        "id": uuid.uuid4(),
                        "created_at": now,
                        "organization_id": organization_id,
                        "member_a": a,
                        "member_b": b,
                        "manual": False,
                        "blocked": False,
                    }
                    for a, b in links
                ],
            )
            graph = GraphSession(session, organization_id, cache.rules, at, fresh)
            graph.load({m for link in links for m in link})
            graph.settle(MergeReason.AUTO_LINK, AUTO_ACTOR)
            return graph.root_of, graph

        canonical = self._write(organization_id, work)
        cache.links.update(links)
        return canonical

    # ------------------------------------------------------------ operators
    def merge_members(
        self,
        organization_id: uuid.UUID,
        member_id: uuid.UUID,
        other_member_id: uuid.UUID,
        *,
        actor: str,
        force: bool = False,
    ) -> IdentityMerge:
        """Merge two members by hand; `force` lifts the maximums, never the unique rule."""
        rules = self._cache(organization_id).rules
        at = utcnow()

        def work(session: Session) -> tuple[IdentityMerge, GraphSession]:
            graph = GraphSession(session, organization_id, rules, at)
            graph.load([member_id, other_member_id])
            left, right = graph.root_of[member_id], graph.root_of[other_member_id]
            if left == right:
                raise AlreadyMerged("these members are already one member", field="member_id")
            violation = check_union(
                rules, graph.summary(left), graph.summary(right), bounds=not force
            )
            if violation is not None:
                raise MergeRefused(violation.detail, field="member_id")
            sides = sorted(graph.groups[left] | graph.groups[right])
            for conflict in session.scalars(  # the operator decided these
                select(IdentityConflict).where(
                    IdentityConflict.status == ConflictStatus.OPEN,
                    IdentityConflict.member_a.in_(sides),
                    IdentityConflict.member_b.in_(sides),
                )
            ):
                conflict.status = ConflictStatus.MERGED
                conflict.resolved_at = at
                conflict.resolved_by = actor
            graph.link_manually(left, right)
            graph.settle(MergeReason.MANUAL, actor)
            merged = [m for m in graph.merges if {m.survivor_id, m.loser_id} <= {left, right}]
            record = merged[-1] if merged else graph.merges[-1]
            return record, graph

        return self._write(organization_id, work)

    def undo_merge(
        self, organization_id: uuid.UUID, merge_id: uuid.UUID, *, actor: str
    ) -> IdentityMerge:
        """Undo a merge: both members come back with their events, orders and points."""
        rules = self._cache(organization_id).rules
        at = utcnow()

        def work(session: Session) -> tuple[IdentityMerge, GraphSession]:
            record = session.get(IdentityMerge, merge_id)
            if record is None:
                from newretail.core.errors import NotFound

                raise NotFound("merge not found", field="merge_id")
            if record.undone_at is not None:
                raise UndoRefused("this merge was already undone", field="merge_id")
            graph = GraphSession(session, organization_id, rules, at)
            graph.load([record.survivor_id, record.loser_id])
            if graph.parent.get(record.survivor_id) is not None:
                raise UndoRefused(
                    "the survivor was merged into another member since; undo that merge first",
                    field="merge_id",
                )
            if graph.parent.get(record.loser_id) != record.survivor_id:
                raise UndoRefused("the members of this merge changed since", field="merge_id")
            graph.undo(record, actor, block=True)
            graph.settle(MergeReason.AUTO_LINK, AUTO_ACTOR)
            return record, graph

        return self._write(organization_id, work)


def _retryable(exc: BaseException) -> bool:
    """Deadlocks and serialisation failures (PostgreSQL) and a busy SQLite are retried."""
    original: Any = getattr(exc, "orig", None)
    code = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    if code in {"40P01", "40001"}:
        return True
    return "database is locked" in str(exc)
