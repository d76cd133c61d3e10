"""What a request hands to the pipeline: its checked events, as objects or already encoded
column by column ("a part", the form the spool, the stream and the loader share), and the
events refused with their reason."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import chain
from typing import Any

import orjson

from newretail.events.validation import CheckedEvent

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
# Events as logged, column by column ("a part"): organisation, message id, type, ts (µs),
# received at (µs), brand, store, channel, identifiers (JSON text of [[type, value], …]),
# anonymous id, amount (text), properties (JSON text). A spool record is a JSON list of parts.
Columns = list[list[Any]]
WIDTH = 12


@dataclass
class Rejected:
    """An event refused by validation, stored aside with its reason."""

    index: int
    field: str
    reason: str
    payload: Any
    message_id: str | None = None
    event_type: str | None = None


@dataclass
class Encoded:
    """Events checked in a checker process: their message ids and their part (JSON)."""

    message_ids: list[str]
    part: bytes


@dataclass
class Submission:
    """A request's checked events, either as objects or already encoded as a part."""

    organization_id: uuid.UUID
    source_id: uuid.UUID | None
    api: str
    received_at: datetime
    events: list[CheckedEvent]
    rejected: list[Rejected]
    encoded: Encoded | None = None
    future: Future[tuple[int, int]] = field(default_factory=Future)

    @property
    def message_ids(self) -> list[str]:
        if self.encoded is not None:
            return self.encoded.message_ids
        return [event.message_id for event in self.events]

    def part(self, keep: list[int] | None) -> bytes:
        """Its events as a part (only those at the positions in `keep`, if given)."""
        if self.encoded is not None:
            if keep is None:
                return self.encoded.part
            return orjson.dumps(select_columns(orjson.loads(self.encoded.part), keep))
        events = self.events if keep is None else [self.events[i] for i in keep]
        return encode_part(str(self.organization_id), micros(self.received_at), events)


def micros(moment: datetime) -> int:
    """Microseconds since the Unix epoch."""
    return (moment - EPOCH) // MICROSECOND


def encode_part(org: str, received_us: int, events: Sequence[CheckedEvent]) -> bytes:
    """Accepted events as a part (see Columns), in JSON."""
    return orjson.dumps(
        [
            [org] * len(events),
            [e.message_id for e in events],
            [e.type for e in events],
            [micros(e.ts) for e in events],
            [received_us] * len(events),
            [e.brand_id for e in events],
            [e.store_id for e in events],
            [e.channel for e in events],
            [orjson.dumps(e.identifiers).decode() for e in events],
            [e.anonymous_id for e in events],
            [None if e.amount is None else str(e.amount) for e in events],
            [e.properties for e in events],
        ]
    )


def concat_parts(parts: list[Columns]) -> Columns:
    """One part of several."""
    if len(parts) == 1:
        return parts[0]
    if not parts:
        return [[] for _ in range(WIDTH)]
    return [list(chain.from_iterable(part[i] for part in parts)) for i in range(WIDTH)]


def record_parts(record: list[Any]) -> list[Columns]:
    """The parts of a spool record; a record of the previous release is a list of rows."""
    if not record or not isinstance(record[0][0], str):
        return record
    columns = [list(column) for column in zip(*record, strict=True)]
    columns[8] = [orjson.dumps(identifiers).decode() for identifiers in columns[8]]
    return [columns]


def select_columns(columns: Columns, keep: list[int]) -> Columns:
    return [[column[i] for i in keep] for column in columns]
