"""The dedupe window: the (organisation, message id) pairs received in the last
`dedupe_window_days`, so a resent event is answered as a duplicate and stored once.

On DuckDB the server is the only writer (it owns the file), so the window is exact; it is
rebuilt from the warehouse at start. On PostgreSQL, where several servers write, it only spares
the database the keys this process already stored: a unique index decides.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import timedelta

from newretail.core.database import utcnow
from newretail.warehouse.connection import EVENT_TABLE, Warehouse

Key = tuple[str, str]  # (organisation, message id)
PRUNE_SECONDS = 60


class DedupeWindow:
    """The keys received in the window, with the monotonic time each was received."""

    def __init__(self, length: timedelta):
        self.length = length
        self._seen: dict[Key, float] = {}
        self._last_prune = time.monotonic()

    def load(self, warehouse: Warehouse) -> None:
        """Fill the window from the events the warehouse received in it."""
        con = warehouse.connection()
        since = utcnow() - self.length
        with warehouse.lock:
            table = con.table(EVENT_TABLE)
            recent = (
                table.filter(table.received_at >= since)
                .select("organization_id", "message_id", "received_at")
                .to_pyarrow()
            )
        now_wall, now_mono = time.time(), time.monotonic()
        orgs = recent.column("organization_id").to_pylist()
        ids = recent.column("message_id").to_pylist()
        stamps = recent.column("received_at").to_pylist()
        for org, message_id, stamp in zip(orgs, ids, stamps, strict=True):
            self._seen[(org, message_id)] = now_mono - (now_wall - stamp.timestamp())

    def unseen(self, keys: Iterable[Key], taken: set[Key]) -> list[int]:
        """Positions of the keys neither in the window nor in `taken`; `taken` gains them (so
        a key repeated in one batch counts once)."""
        seen = self._seen
        positions = []
        for position, key in enumerate(keys):
            if key in seen or key in taken:
                continue
            taken.add(key)
            positions.append(position)
        return positions

    def add(self, keys: Iterable[Key]) -> None:
        """Remember keys as received now; forget, once a minute, those older than the window."""
        now = time.monotonic()
        for key in keys:
            self._seen[key] = now
        if now - self._last_prune < PRUNE_SECONDS:
            return
        self._last_prune = now
        horizon = now - self.length.total_seconds()
        self._seen = {key: at for key, at in self._seen.items() if at >= horizon}
