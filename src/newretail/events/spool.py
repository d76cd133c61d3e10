"""The embedded pipeline's durable log: accepted events are appended and fsynced here before a
request is answered; the loader moves them to the warehouse in large batches.

Files `spool/<sequence>.log` hold records: 4-byte length, 4-byte CRC32, then the JSON of a list
of parts (events column by column, see submission.Columns). A record cut short by a crash (length
or CRC wrong) was never acknowledged and is ignored; one cut short by a full disk is cut off
the file at once, so that the records after it stay readable. A file is deleted once every
record in it is in the warehouse.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

HEADER = struct.Struct("<II")
SEGMENT_BYTES = 64 * 1024 * 1024


class Spool:
    """Append-only segments in one folder (one writer)."""

    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        existing = self.segments()
        self.sequence = (existing[-1] + 1) if existing else 1
        self._file: Any = None
        self._size = 0

    def segments(self) -> list[int]:
        """Sequence numbers of the segment files present, oldest first."""
        return sorted(int(p.stem) for p in self.folder.glob("*.log") if p.stem.isdigit())

    def path(self, sequence: int) -> Path:
        return self.folder / f"{sequence:012d}.log"

    def append(self, payload: bytes) -> int:
        """Write one record (the JSON of a list of parts) and fsync it; returns the segment it
        is in."""
        if self._file is None or self._size >= SEGMENT_BYTES:
            self._rotate()
        data = memoryview(HEADER.pack(len(payload), zlib.crc32(payload)) + payload)
        try:
            written = 0
            while written < len(data):  # a raw write may store less than asked
                written += self._file.write(data[written:])
            os.fsync(self._file.fileno())
        except OSError:
            self._undo()
            raise
        self._size += len(data)
        return self.sequence

    def _undo(self) -> None:
        """After a failed append (the disk full): cut the segment back to its last whole
        record, so that the records appended once space is back stay readable (a reader stops
        at the first torn record), and reopen it at the next append."""
        file, self._file = self._file, None
        try:
            os.ftruncate(file.fileno(), self._size)
            os.fsync(file.fileno())
        except OSError:  # a segment that cannot be cut back is left: the next append rotates
            self.sequence += 1
            self._size = 0
        finally:
            file.close()

    def _rotate(self) -> None:
        if self._file is not None:
            self._file.close()
            self.sequence += 1
        self._file = self.path(self.sequence).open("ab", buffering=0)
        self._size = self._file.tell()
        directory = os.open(self.folder, os.O_RDONLY)  # make the new file's name durable
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def delete_before(self, sequence: int) -> None:
        """Remove the segments older than `sequence` (all loaded)."""
        for old in self.segments():
            if old < sequence:
                self.path(old).unlink(missing_ok=True)

    def read(self, sequence: int) -> Iterator[list[Any]]:
        """The intact records of a segment, in order (a torn tail is skipped)."""
        data = self.path(sequence).read_bytes()
        offset = 0
        while offset + HEADER.size <= len(data):
            length, crc = HEADER.unpack_from(data, offset)
            start = offset + HEADER.size
            payload = data[start : start + length]
            if len(payload) < length or zlib.crc32(payload) != crc:
                return
            yield orjson.loads(payload)
            offset = start + length
