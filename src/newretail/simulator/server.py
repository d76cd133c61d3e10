"""The app under uvicorn on a free 127.0.0.1 port in a thread, for in-process simulations.

The simulator is a client of the public HTTP API, an entrypoint like the CLI: it may start
the whole app (newretail.main); no domain imports it."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import uvicorn
from sqlalchemy import func, select

from newretail.bootstrap import Container
from newretail.core.database import scope_session, session_scope
from newretail.core.errors import Unavailable
from newretail.events.models import OutboxMessage
from newretail.main import create_app

START_SECONDS = 60
BACKLOG_SECONDS = 600


def wait_until_up(
    url: str, seconds: float = START_SECONDS, alive: threading.Thread | None = None
) -> None:
    """Wait until `url`/healthz answers 200 (or the server thread died, or time ran out)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline or (alive is not None and not alive.is_alive()):
            raise Unavailable(f"the server did not answer {url}/healthz", field="url")
        time.sleep(0.05)


@contextmanager
def local_server(container: Container) -> Iterator[str]:
    """Serve the app on the container's stores; yields its base URL, stops it on exit.

    The server opens the warehouse, so the caller's process must be the only one holding an
    embedded DuckDB file; the lifespan closes the container when the server stops. Its relay
    publishes any outbox backlog before the URL is handed out, and the run's purchases before
    it stops (each wait at most BACKLOG_SECONDS).
    """
    container.warehouse.connection()  # fail here, clearly, when another process holds it
    app = create_app(container=container)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [listener]}, name="simulator-server", daemon=True
    )
    thread.start()
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, alive=thread)
        relaying = container.settings.outbox_relay_seconds > 0
        if relaying:  # a backlog first, so the relay and the collector do not contend
            wait_for_outbox(container, BACKLOG_SECONDS)
        yield url
        if relaying:
            wait_for_outbox(container, BACKLOG_SECONDS)
    finally:
        server.should_exit = True
        thread.join(timeout=60)
        listener.close()


def wait_for_outbox(container: Container, seconds: float) -> bool:
    """Wait (at most `seconds`) until a server's relay has published the whole outbox."""
    deadline = time.monotonic() + seconds
    while True:
        with session_scope(container.sessions) as session:
            waiting = scope_session(session, None).scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.published_at.is_(None))
            )
        if not waiting:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(1)
