"""The CSV import toolkit every importer shares: the reader, the rejected-row record, the
report and the progress bar.

Rows are numbered as a spreadsheet shows them (the header is row 1). A rejected row never
stops the others; each rejection names the row, the column at fault and the reason, and the
command prints them all (or returns them as JSON).
"""

from __future__ import annotations

import csv
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO, TypeVar

from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from newretail.core.cli import err, stderr_progress, table
from newretail.core.database import session_scope
from newretail.core.errors import InvalidInput

Advance = Callable[[int], None]
"""Moves the progress bar on by the number of rows just handled."""

Row = tuple[int, dict[str, str]]
"""(row number as a spreadsheet shows it, cells by column name, stripped)."""

ENCODING = "utf-8-sig"  # spreadsheets save UTF-8 with a byte-order mark
T = TypeVar("T")


def no_progress(rows: int) -> None:
    """The progress callback of an import nobody watches."""


@dataclass(frozen=True)
class RejectedRow:
    """One row the import refused: its number, the column at fault and the reason."""

    row: int
    field: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        """The rejection as JSON."""
        return {"row": self.row, "field": self.field, "reason": self.reason}


class RowError(Exception):
    """Raised while a row is read: the column at fault and the reason."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason

    def at(self, row: int) -> RejectedRow:
        """The rejection of row `row`."""
        return RejectedRow(row, self.field, self.reason)

    @classmethod
    def of_payload(cls, exc: ValidationError, whole: str = "row") -> RowError:
        """A row whose payload its schema refused: the first error's field (`whole` when the
        error is about no one field) and message."""
        first = exc.errors()[0]
        location = first.get("loc", ())
        return cls(str(location[0]) if location else whole, first["msg"])


@dataclass
class ImportReport:
    """How many rows were read and accepted, and every rejected row."""

    rows: int = 0
    accepted: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)

    def reject(self, row: int, field: str, reason: str) -> None:
        """Record one refused row."""
        self.rejected.append(RejectedRow(row, field, reason))

    def rejected_in_order(self) -> list[dict[str, Any]]:
        """The rejected rows as JSON, by row number (batches may find them out of order)."""
        return [r.as_dict() for r in sorted(self.rejected, key=lambda r: r.row)]

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON."""
        return {"rows": self.rows, "accepted": self.accepted, "rejected": self.rejected_in_order()}


def open_csv(path: Path) -> TextIO:
    """The file opened as the reader expects it (UTF-8 with or without a BOM)."""
    return path.open(newline="", encoding=ENCODING)


def read_rows(handle: TextIO, required: Sequence[str] = ()) -> Iterator[Row]:
    """Each data row with stripped column names and cells; a file without one of the
    `required` columns is refused (field `header`) before any row is read."""
    reader = csv.DictReader(handle)
    header = [(name or "").strip() for name in reader.fieldnames or []]
    missing = [column for column in required if column not in header]
    if missing:
        raise InvalidInput(f"missing columns: {', '.join(missing)}", field="header")
    for number, values in enumerate(reader, start=2):
        yield number, {k.strip(): (v or "").strip() for k, v in values.items() if k}


def read_file(path: Path, required: Sequence[str] = ()) -> Iterator[Row]:
    """`read_rows` of a file on disk, closed when the rows are exhausted."""
    with open_csv(path) as handle:
        yield from read_rows(handle, required)


def count_rows(path: Path) -> int:
    """Data rows in the file (CSV records, so quoted line breaks count once): the progress
    bar's total."""
    with open_csv(path) as handle:
        return max(sum(1 for _ in csv.reader(handle)) - 1, 0)


def required(row: dict[str, str], column: str) -> str:
    """The cell of `column`; an empty one is refused."""
    value = row.get(column, "")
    if not value:
        raise RowError(column, "is required")
    return value


def _converted(row: dict[str, str], column: str, convert: Callable[[str], T], kind: str) -> T:
    """The required cell of `column` through `convert`; refused as "is not `kind`"."""
    try:
        return convert(required(row, column))
    except (ValueError, ArithmeticError) as exc:  # decimal.InvalidOperation is arithmetic
        raise RowError(column, f"is not {kind}") from exc


def whole_number(row: dict[str, str], column: str, maximum: int) -> int:
    """A required count between 1 and `maximum`."""
    value = _converted(row, column, int, "a whole number")
    if value < 1:
        raise RowError(column, "must be at least 1")
    if value > maximum:
        raise RowError(column, f"must be at most {maximum}")
    return value


def decimal_amount(row: dict[str, str], column: str, limit: Decimal) -> Decimal:
    """A required decimal amount, 0 or more and below `limit` (the caller rounds it)."""
    value = _converted(row, column, Decimal, "a decimal amount")
    if not value.is_finite():
        raise RowError(column, "is not a decimal amount")
    if value < 0:
        raise RowError(column, "must be 0 or more")
    if value >= limit:
        raise RowError(column, f"must be less than {limit}")
    return value


def in_batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of at most `size` items (one transaction each)."""
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


BatchImport = Callable[[Session, list[Row], ImportReport], None]
"""Imports one batch of rows in the session given, counting each row in the report."""


def import_in_batches(
    sessions: sessionmaker[Session],
    organization_id: uuid.UUID,
    path: Path,
    columns: Sequence[str],
    size: int,
    import_batch: BatchImport,
) -> ImportReport:
    """The file's rows (with the `columns` it must have), `size` at a time, each batch
    imported and committed in its own transaction; the report of every row."""
    report = ImportReport()
    for batch in in_batches(read_file(path, columns), size):
        with session_scope(sessions, organization_id) as session:
            import_batch(session, batch, report)
    return report


@contextmanager
def progress_bar(label: str, total: int, quiet: bool = False) -> Iterator[Advance]:
    """A progress bar on standard error for `total` rows; yields the advance callback.
    `quiet` (--json) hides it unless standard error is a terminal."""
    with stderr_progress(label, hidden=quiet and not err.is_terminal, time_left=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda rows: bar.advance(task, rows)


def print_rejected(rejected: Sequence[RejectedRow]) -> None:
    """The rejected rows as a table (nothing when every row was accepted)."""
    if rejected:
        table(
            "Rejected rows",
            ["row", "field", "reason"],
            [[r.row, r.field, r.reason] for r in sorted(rejected, key=lambda r: r.row)],
        )
