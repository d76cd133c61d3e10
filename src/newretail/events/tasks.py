"""Background relay of the outbox inside the server process (it owns the embedded warehouse)."""

from __future__ import annotations

import logging
import threading

from newretail.bootstrap import Container
from newretail.events.outbox import relay_all

log = logging.getLogger(__name__)


class OutboxRelay:
    """Relays the outbox every `interval` seconds until stopped."""

    def __init__(self, container: Container, interval: float):
        self.container = container
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="outbox-relay", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                relay_all(self.container.sessions, self.container.warehouse)
            except Exception:  # keep relaying; the rows stay unpublished and are retried
                log.exception("outbox relay failed; retrying")
