"""A queue read in batches: the pipeline's writer groups the waiting submissions into one
commit, its loader gathers spool records for one warehouse load."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

Item = TypeVar("Item")
POLL_SECONDS = 0.05


def batches(
    source: queue.SimpleQueue[Item | None],
    size: Callable[[Item], int],
    limit: int,
    *,
    linger: float = 0.0,
    hurry: threading.Event | None = None,
) -> Iterator[list[Item]]:
    """Batches of the items put on `source`, until a None ends it (the batch it ends is still
    given). A batch starts with the next item, waiting for it, and takes more while its size is
    under `limit`: those already waiting, then for up to `linger` seconds those that arrive
    (not once `hurry` is set)."""
    while True:
        first = source.get()
        if first is None:
            return
        batch, total = [first], size(first)
        deadline = time.monotonic() + linger
        while total < limit:
            try:
                more = source.get_nowait()
            except queue.Empty:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or (hurry is not None and hurry.is_set()):
                    break
                try:
                    more = source.get(timeout=min(remaining, POLL_SECONDS))
                except queue.Empty:
                    continue
            if more is None:
                yield batch
                return
            batch.append(more)
            total += size(more)
        yield batch
