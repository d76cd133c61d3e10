"""The scale-out event pipeline: collectors publish to NATS JetStream, loaders fill the warehouse.

With `NEWRETAIL_EVENT_STREAM_URL` set (for example `nats://127.0.0.1:4222`), a server's writer
thread still takes every waiting request and drops the message ids it saw in the window, but
instead of a local spool it publishes the accepted events to a JetStream stream (file storage)
and answers once JetStream has acknowledged them: an acknowledged event is durable in the
stream. Any number of servers may publish. `newretail events loader` processes share one
durable pull consumer: each fetches a batch of messages, resolves identities (OneID), inserts
into the warehouse in one transaction and only then acknowledges the messages. A loader that
dies before acknowledging leaves its messages to be delivered again after `ack_wait`; the
warehouse's unique index on (organisation, message id) drops what was already stored, so each
event is stored once however often it is published or delivered. The warehouse must therefore
be PostgreSQL (a DuckDB file admits one process).

Messages are JSON lists of parts (see submission.Columns), at most the server's `max_payload`.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

import nats
import orjson
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import AckPolicy, ConsumerConfig, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from newretail.core.errors import Unavailable
from newretail.events.submission import Columns, concat_parts

log = logging.getLogger(__name__)
T = TypeVar("T")
SUBJECT = "events"  # under the stream's name: "<stream>.events"
CONSUMER = "warehouse-loader"
PUBLISH_TIMEOUT = 10.0


@dataclass
class LoadReport:
    messages: int = 0
    events: int = 0
    stored: int = 0  # new rows; the rest were already in the warehouse


class EventStream:
    """A NATS connection on its own event-loop thread, usable from plain threads."""

    def __init__(self, url: str, name: str, ack_wait: float = 30.0):
        self.url = url
        self.name = name
        self.subject = f"{name}.{SUBJECT}"
        self.ack_wait = ack_wait
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="event-stream", daemon=True
        )
        self._thread.start()
        self._nc: Any = None
        self._js: Any = None
        self._pull: Any = None
        try:
            self._call(self._connect())
        except BaseException:
            self._stop_loop()
            raise

    def _call(self, coroutine: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    async def _connect(self) -> None:
        self._nc = await nats.connect(self.url, connect_timeout=5, max_reconnect_attempts=-1)
        self._js = self._nc.jetstream()
        try:
            await self._js.stream_info(self.name)
        except NotFoundError:
            await self._js.add_stream(
                StreamConfig(name=self.name, subjects=[self.subject], storage=StorageType.FILE)
            )

    # ------------------------------------------------------------------ publishing
    def publish(self, parts: list[bytes]) -> None:
        """Publish the parts (as few messages as fit) and wait until JetStream stored them;
        Unavailable at once while the connection to NATS is down (it reconnects by itself)."""
        if not self._nc.is_connected:
            raise Unavailable(
                f"NATS does not answer at {self.url}; nothing was acknowledged: send again"
            )
        self._call(self._publish(parts), timeout=PUBLISH_TIMEOUT * 2)

    async def _publish(self, parts: list[bytes]) -> None:
        limit = self._nc.max_payload - 1024
        messages: list[list[bytes]] = [[]]
        size = 2
        for part in parts:
            if messages[-1] and size + len(part) + 1 > limit:
                messages.append([])
                size = 2
            messages[-1].append(part)
            size += len(part) + 1
        acks = [
            self._js.publish(self.subject, b"[" + b",".join(m) + b"]", timeout=PUBLISH_TIMEOUT)
            for m in messages
        ]
        await asyncio.gather(*acks)

    # ------------------------------------------------------------------ loading
    def load(
        self, load: Callable[[Columns], int], batch: int = 200, wait: float = 1.0
    ) -> LoadReport:
        """Fetch up to `batch` messages (waiting at most `wait` s), load their events with
        `load` (returns the rows stored) and acknowledge them; an empty report when none came."""
        messages = self._call(self._fetch(batch, wait), timeout=wait + 30)
        report = LoadReport(messages=len(messages))
        if not messages:
            return report
        columns = concat_parts([part for m in messages for part in orjson.loads(m.data)])
        report.events = len(columns[1])
        try:
            report.stored = load(columns)
        except Exception:
            self._call(_settle(messages, ack=False))  # delivered again later
            raise
        self._call(_settle(messages, ack=True))
        return report

    async def _fetch(self, batch: int, wait: float) -> list[Any]:
        if self._pull is None:
            config = ConsumerConfig(
                durable_name=CONSUMER,
                ack_policy=AckPolicy.EXPLICIT,
                ack_wait=self.ack_wait,
                max_ack_pending=-1,
            )
            self._pull = await self._js.pull_subscribe(
                self.subject, durable=CONSUMER, stream=self.name, config=config
            )
        try:
            return list(await self._pull.fetch(batch, timeout=wait))
        except NatsTimeout:
            return []

    def pending(self, timeout: float = 30.0) -> int:
        """Messages not yet acknowledged by a loader."""
        return int(self._call(self._pending(), timeout=timeout))

    async def _pending(self) -> int:
        try:
            info = await self._js.consumer_info(self.name, CONSUMER)
        except NotFoundError:
            return int((await self._js.stream_info(self.name)).state.messages)
        return int(info.num_pending + info.num_ack_pending)

    def delete(self) -> None:
        """Remove the stream and its consumer (tests and resets)."""
        self._call(self._js.delete_stream(self.name))

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        try:
            if self._nc is not None:
                self._call(self._nc.close())
        finally:
            self._stop_loop()

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()


async def _settle(messages: list[Any], ack: bool) -> None:
    await asyncio.gather(*(m.ack() if ack else m.nak(delay=1.0) for m in messages))
