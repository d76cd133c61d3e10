"""A real HTTP receiver of webhooks on a localhost port, in a thread: counts each webhook-id,
answers what the test tells it, and can be down (its port closed) and up again."""

from __future__ import annotations

import socket
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    body: str
    headers: dict[str, str]


@dataclass(frozen=True)
class Reply:
    status: int = 204
    headers: dict[str, str] = field(default_factory=dict)


class _Server(ThreadingHTTPServer):
    allow_reuse_address = True  # up again on the same port at once after down()
    daemon_threads = True
    # as a real receiver's listen backlog: the default 5 overflowed with 20 sends in flight
    # (2 senders x 10 workers) on a loaded machine, and a refused connection is a failed
    # attempt put off to the next retry (a full run lost a batch of 10 that way)
    request_queue_size = 128


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Receiver:
    """`url` answers POSTs with `reply(received)` (204 by default) while it is up."""

    def __init__(self, reply: Callable[[Received], Reply] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hooks"
        self.reply = reply or (lambda _received: Reply())
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def counts(self) -> Counter[str]:
        """Requests per webhook-id."""
        with self._lock:
            return Counter(r.headers["webhook-id"] for r in self.received)

    def up(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                got = Received(
                    self.rfile.read(length).decode(),
                    {k.lower(): v for k, v in self.headers.items()},
                )
                with receiver._lock:
                    receiver.received.append(got)
                answer = receiver.reply(got)
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                return

        self._server = _Server(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def down(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
