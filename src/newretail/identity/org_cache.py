"""The resolver's in-process cache, one per organisation.

Per organisation: the identifier secret and rules, identifier -> home profile, profile ->
canonical member, links already stored. Homes and links never change (except when a member
is deleted: invalidate then). After `ttl` seconds the rules are re-read and the canonical
members forgotten, so merges by other processes are seen. The epoch grows with every
invalidation and every merge or undo this process commits: callers' caches of resolved
identities are stale then.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from newretail.core.database import scope_session
from newretail.identity.organization_rules import load_rules
from newretail.identity.rules import Rules
from newretail.members.identifiers import member_settings


@dataclass
class OrgCache:
    secret: bytes
    rules: Rules
    loaded_at: float
    homes: dict[tuple[str, str], uuid.UUID] = field(default_factory=dict)
    canonical: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)
    links: set[tuple[uuid.UUID, uuid.UUID]] = field(default_factory=set)

    def size(self) -> int:
        return len(self.homes) + len(self.canonical) + len(self.links)

    def clear(self) -> None:
        self.homes.clear()
        self.canonical.clear()
        self.links.clear()


class OrgCaches:
    """The caches of every organisation a resolver has seen, and the epoch."""

    def __init__(self, sessions: sessionmaker[Session], ttl: float, max_entries: int) -> None:
        self.sessions = sessions
        self.ttl = ttl
        self.max_entries = max_entries
        self._orgs: dict[uuid.UUID, OrgCache] = {}
        self._lock = threading.Lock()
        self.epoch = 0

    def get(self, organization_id: uuid.UUID) -> OrgCache:
        """The organisation's cache; after `ttl` the rules are re-read and the canonical
        members forgotten (merges by other processes). Homes and links never change."""
        cache = self._orgs.get(organization_id)
        now = time.monotonic()
        if cache is not None and now - cache.loaded_at < self.ttl:
            if cache.size() > self.max_entries:
                cache.clear()
            return cache
        with scope_session(self.sessions(), organization_id) as session:
            secret = member_settings(session, organization_id).identifier_secret
            rules = load_rules(session, organization_id)
            session.commit()
        if cache is not None:
            cache.rules, cache.loaded_at, cache.canonical = rules, now, {}
            return cache
        cache = OrgCache(secret=secret, rules=rules, loaded_at=now)
        with self._lock:
            self._orgs[organization_id] = cache
        return cache

    def invalidate(self, organization_id: uuid.UUID | None = None) -> None:
        """Forget cached identifiers, members and rules (of one organisation or all)."""
        with self._lock:
            if organization_id is None:
                self._orgs.clear()
            else:
                self._orgs.pop(organization_id, None)
            self.epoch += 1  # callers' caches of resolved identities are stale too

    def remember(
        self,
        organization_id: uuid.UUID,
        canonical: Mapping[uuid.UUID, uuid.UUID],
        links: Iterable[tuple[uuid.UUID, uuid.UUID]],
        *,
        moved: bool,
    ) -> None:
        """After a commit: cache the new canonical members and links; move the epoch when
        members were merged or taken apart."""
        cache = self._orgs.get(organization_id)
        if cache is not None:
            cache.canonical.update(canonical)
            cache.links.update(links)
        if moved:
            with self._lock:
                self.epoch += 1
