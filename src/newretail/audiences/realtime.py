"""The realtime membership index: "is member M in audience X" in microseconds, in process.

Each refreshed audience's members are held as a frozenset of member ids, keyed by
(organisation, audience) and tagged with the stored version they came from. A refresh in
this process swaps the set at once; other processes load the new version when they see it
(`ensure`). Memory is about 100 bytes per member id.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from typing import Any

from newretail.audiences import queries

_Key = tuple[str, str]


@dataclass(frozen=True)
class _Entry:
    version: str
    members: frozenset[str]


class MembershipIndex:
    """Audience members in memory; lookups take no lock (entries are replaced whole)."""

    def __init__(self) -> None:
        self._entries: dict[_Key, _Entry] = {}
        self._lock = threading.Lock()

    def contains(self, organization_id: str, audience_id: str, member_id: str) -> bool:
        """Whether the member is in the loaded version of the audience (False: not loaded)."""
        entry = self._entries.get((organization_id, audience_id))
        return entry is not None and member_id in entry.members

    def version(self, organization_id: str, audience_id: str) -> str | None:
        entry = self._entries.get((organization_id, audience_id))
        return None if entry is None else entry.version

    def put(
        self, organization_id: str, audience_id: str, version: str, members: frozenset[str]
    ) -> None:
        with self._lock:
            self._entries[(organization_id, audience_id)] = _Entry(version, members)

    def drop(self, organization_id: str, audience_id: str) -> None:
        with self._lock:
            self._entries.pop((organization_id, audience_id), None)

    def forget(self, organization_id: str, member_ids: set[str]) -> None:
        """Take erased members out of every loaded audience of the organisation."""
        with self._lock:
            for key, entry in list(self._entries.items()):
                if key[0] == organization_id and entry.members & member_ids:
                    self._entries[key] = _Entry(entry.version, entry.members - member_ids)

    def load(self, con: Any, organization_id: str, audience_id: str, version: str) -> None:
        """Read one stored version from the warehouse into the index."""
        ids = queries.stored_members(con, organization_id, audience_id, version).member_id
        members = frozenset(str(m) for m in ids.to_pyarrow().to_pylist())
        self.put(organization_id, audience_id, version, members)

    def ensure(self, con: Any, organization_id: str, audience_id: str, version: str) -> None:
        """Load the version unless it is the one held."""
        if self.version(organization_id, audience_id) != version:
            self.load(con, organization_id, audience_id, version)


_indexes: weakref.WeakKeyDictionary[Any, MembershipIndex] = weakref.WeakKeyDictionary()
_indexes_lock = threading.Lock()


def index_for(warehouse: Any) -> MembershipIndex:
    """The process's index for one warehouse (one per Warehouse object)."""
    with _indexes_lock:
        index = _indexes.get(warehouse)
        if index is None:
            index = MembershipIndex()
            _indexes[warehouse] = index
        return index
