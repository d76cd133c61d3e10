"""Checker processes: large ingestion bodies are parsed and checked outside the server process.

One server process keeps what must be single (the dedupe window, the group commit to the spool,
OneID and the embedded warehouse, which one process owns), but checking events is pure work on
the request body. A body of at least `OFFLOAD_BYTES` goes over a Unix socket to one of
`settings.checker_processes` child processes (events.checker_process); it answers
with the message ids, the refused events and the rows already encoded as the spool stores them,
so the server's writer appends them as they are. Small requests (single events) are checked in
the server, where the round trip would cost more than the checks.

The children start at the first large body (until they answer, bodies are checked in the
server), read the catalogue from the operational store with their own 30 s caches (dropped
with the server's after a change made through it), and end when the server's end of their
socket closes (the server stopped or died). A child that dies is
replaced at the next large body after `RESTART_SECONDS`; the requests it held are checked in
the server instead, so a request never fails because of a child.

Frames both ways: 8 bytes (lengths of the two parts, little-endian), a JSON header, a body.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import os
import socket
import struct
import subprocess
import sys
import time
import uuid
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from newretail.core.errors import NewRetailError
from newretail.core.settings import Settings
from newretail.events.checker import Checker, SourceRef
from newretail.events.intake import IngestionRequest, parse
from newretail.events.submission import Encoded, Rejected, Submission, encode_part, micros

log = logging.getLogger(__name__)
FRAME = struct.Struct("<II")
OFFLOAD_BYTES = 4096
RESTART_SECONDS = 5.0
SETTINGS_ENV = "NEWRETAIL_CHECKER_SETTINGS"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class RemoteError(NewRetailError):
    """A request refused by a checker process, answered as the server would have.

    The code and status are the remote error's, carried as given (the checker raised a
    NewRetailError subclass with its own stable code); no code is chosen here.
    """

    def __init__(self, problem: dict[str, Any], status: int):
        super().__init__(problem["message"], field=problem.get("field"))
        self.code = problem["code"]
        self.status_code = status


class _Child:
    """One checker process and the requests sent to it, answered in order."""

    def __init__(self, process: subprocess.Popen[bytes], sock: socket.socket):
        self.process = process
        self.sock = sock
        self.waiting: collections.deque[asyncio.Future[tuple[dict[str, Any], bytes]]] = (
            collections.deque()
        )
        self.writer: asyncio.StreamWriter | None = None
        self.alive = True

    async def connect(self) -> None:
        reader, self.writer = await asyncio.open_unix_connection(sock=self.sock)
        asyncio.get_running_loop().create_task(self._read(reader))

    async def _read(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                head_length, body_length = FRAME.unpack(await reader.readexactly(FRAME.size))
                head = orjson.loads(await reader.readexactly(head_length))
                body = await reader.readexactly(body_length)
                future = self.waiting.popleft()
                if not future.done():
                    future.set_result((head, body))
        except (asyncio.IncompleteReadError, ConnectionError, IndexError):
            pass
        finally:
            self.alive = False
            for future in self.waiting:
                if not future.done():
                    future.set_exception(ConnectionError("the checker process ended"))
            self.waiting.clear()

    def send(
        self, head: dict[str, Any], body: bytes
    ) -> asyncio.Future[tuple[dict[str, Any], bytes]]:
        assert self.writer is not None
        encoded = orjson.dumps(head)
        self.writer.write(FRAME.pack(len(encoded), len(body)) + encoded + body)
        future: asyncio.Future[tuple[dict[str, Any], bytes]] = (
            asyncio.get_running_loop().create_future()
        )
        self.waiting.append(future)
        return future

    def close(self) -> None:
        self.alive = False
        if self.writer is not None:
            self.writer.close()
        self.sock.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class CheckerPool:
    """The server's side: starts the children lazily and spreads large bodies over them."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.size = settings.checker_processes
        self._children: list[_Child] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self.restart_seconds = RESTART_SECONDS
        self._started_at = -RESTART_SECONDS
        self.offloaded = 0  # requests checked by a child (for tests and metrics)
        self.generation = 0  # grows when the server's catalogue caches are dropped

    async def parse(self, checker: Checker, request: IngestionRequest) -> Submission:
        """The checked submission of a request, from a child when the body is large."""
        child = await self._child() if len(request.raw) >= OFFLOAD_BYTES else None
        if child is not None:
            source = request.source
            head = {
                "organization_id": str(source.organization_id),
                "source_id": None if source.source_id is None else str(source.source_id),
                "store_id": None if source.store_id is None else str(source.store_id),
                "path": request.path,
                "encoding": request.encoding.decode("latin-1"),
                "received_at": micros(request.received_at),
                "generation": self.generation,
            }
            try:
                answer, rows = await child.send(head, request.raw)
            except ConnectionError:
                log.warning("a checker process ended; checking in the server")
            else:
                if answer.get("fallback"):
                    return parse(checker, request)
                self.offloaded += 1
                if "error" in answer:
                    raise RemoteError(answer["error"], answer["status"])
                return Submission(
                    organization_id=source.organization_id,
                    source_id=source.source_id,
                    api=answer["api"],
                    received_at=request.received_at,
                    events=[],
                    rejected=[Rejected(**r) for r in answer["rejected"]],
                    encoded=Encoded(answer["message_ids"], rows),
                )
        return parse(checker, request)

    async def _child(self) -> _Child | None:
        """The least busy live child; starts the missing ones (None while none can answer)."""
        if self.size == 0:
            return None
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a new event loop (tests): its streams start anew
            self.stop()
            self._loop = loop
        live = [child for child in self._children if child.alive]
        if len(live) < self.size and time.monotonic() - self._started_at >= self.restart_seconds:
            self._started_at = time.monotonic()
            for dead in [child for child in self._children if not child.alive]:
                dead.close()
            self._children = live
            for _ in range(self.size - len(live)):
                child = _spawn(self.settings)
                await child.connect()
                self._children.append(child)
            return None  # they are importing; this request is checked here
        if not live:
            return None
        return min(live, key=lambda child: len(child.waiting))

    def stop(self) -> None:
        """End the children (they exit when their socket closes)."""
        children, self._children = self._children, []
        for child in children:
            child.close()


def _spawn(settings: Settings) -> _Child:
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    env = {
        **os.environ,
        SETTINGS_ENV: settings.model_dump_json(exclude={"secret_key"}),
    }
    try:
        process = subprocess.Popen(  # noqa: S603 (this interpreter, this module)
            [sys.executable, "-m", "newretail.events.checker_process", str(theirs.fileno())],
            pass_fds=(theirs.fileno(),),
            env=env,
            stdin=subprocess.DEVNULL,
        )
    finally:
        theirs.close()
    ours.setblocking(False)
    return _Child(process, ours)


# ---------------------------------------------------------------------- the child's side
def answer_frame(
    checker: Checker, head: dict[str, Any], raw: bytes
) -> tuple[dict[str, Any], bytes]:
    """The answer of a checker process to one frame: its header and the encoded rows."""
    source = SourceRef(
        uuid.UUID(head["organization_id"]),
        None if head["source_id"] is None else uuid.UUID(head["source_id"]),
        None if head["store_id"] is None else uuid.UUID(head["store_id"]),
    )
    request = IngestionRequest(
        source,
        head["path"],
        head["encoding"].encode("latin-1"),
        raw,
        EPOCH + timedelta(microseconds=head["received_at"]),
    )
    try:
        submission = parse(checker, request)
    except NewRetailError as exc:
        return {"error": exc.as_problem(), "status": exc.status_code}, b""
    org = head["organization_id"]
    rows = encode_part(org, head["received_at"], submission.events)
    answer = {
        "api": submission.api,
        "message_ids": [event.message_id for event in submission.events],
        "rejected": [asdict(r) for r in submission.rejected],
    }
    return answer, rows


def read_exactly(sock: socket.socket, size: int) -> bytes | None:
    """`size` bytes from the socket, or None when it closed first."""
    chunks, remaining = [], size
    while remaining:
        chunk = sock.recv(min(remaining, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)
