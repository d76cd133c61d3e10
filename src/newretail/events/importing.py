"""Offline data return: a CSV of touchpoints from stores, counters and devices, sent through
the collector (so it is validated, deduplicated and tied to members like any event).

Columns: `type`, `ts` (ISO 8601 with offset), `store_code` or `store_id`, optional
`message_id` (default: a hash of the row, so importing a file twice stores it once),
`brand_code`/`brand_id`, `channel`, `amount`, identifier columns (`phone`, `member_card`,
`email`, `account_id`, `device_id`, `anonymous_id`, `wechat_unionid`, `payment_id`) — phone
and card match existing members through their hashes — and properties as `prop_<name>`
columns or one `properties` JSON column. Rows are numbered as a spreadsheet shows them.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newretail.events.validation import BUILT_IN_IDENTIFIERS

BATCH = 500
Sender = Callable[[list[dict[str, Any]]], dict[str, Any]]


@dataclass(frozen=True)
class RejectedRow:
    row: int
    field: str
    reason: str


@dataclass
class EventImportReport:
    rows: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON."""
        return {
            "rows": self.rows,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": [
                {"row": r.row, "field": r.field, "reason": r.reason} for r in self.rejected
            ],
        }


def count_rows(path: Path) -> int:
    """Data rows in the file (for the progress bar)."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return max(sum(1 for _ in handle) - 1, 0)


def to_event(
    values: dict[str, str], stores: dict[str, str], brands: dict[str, str]
) -> dict[str, Any] | tuple[str, str]:
    """The native event of one CSV row, or (column, reason)."""
    cells = {k.strip(): (v or "").strip() for k, v in values.items() if k}
    event: dict[str, Any] = {"type": cells.get("type", ""), "ts": cells.get("ts", "")}
    if code := cells.get("store_code"):
        if code not in stores:
            return "store_code", f"no store with code {code!r}"
        event["store_id"] = stores[code]
    elif cells.get("store_id"):
        event["store_id"] = cells["store_id"]
    if code := cells.get("brand_code"):
        if code not in brands:
            return "brand_code", f"no brand with code {code!r}"
        event["brand_id"] = brands[code]
    elif cells.get("brand_id"):
        event["brand_id"] = cells["brand_id"]
    for name in ("channel", "amount"):
        if cells.get(name):
            event[name] = cells[name]
    identifiers = {k: v for k, v in cells.items() if k in BUILT_IN_IDENTIFIERS and v}
    if identifiers:
        event["identifiers"] = identifiers
    properties: dict[str, Any] = {}
    if cells.get("properties"):
        try:
            loaded = json.loads(cells["properties"])
        except json.JSONDecodeError:
            return "properties", "must be a JSON object"
        if not isinstance(loaded, dict):
            return "properties", "must be a JSON object"
        properties.update(loaded)
    for key, value in cells.items():
        if key.startswith("prop_") and value:
            properties[key.removeprefix("prop_")] = _scalar(value)
    if properties:
        event["properties"] = properties
    digest = hashlib.sha256(json.dumps(cells, sort_keys=True).encode()).hexdigest()[:40]
    event["message_id"] = cells.get("message_id") or f"csv:{digest}"
    return event


def _column(field_path: str) -> str:
    """`events[3].identifiers.phone` → `phone`, `events[3].properties.sku` → `prop_sku`."""
    column = field_path.split("]", 1)[-1].lstrip(".") or "row"
    if column.startswith("identifiers."):
        return column.removeprefix("identifiers.")
    if column.startswith("properties."):
        return "prop_" + column.removeprefix("properties.")
    return column


def _scalar(value: str) -> Any:
    """Numbers and booleans in `prop_` columns keep their type."""
    lowered = value.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            continue
    return value


def _rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        yield from enumerate(csv.DictReader(handle), start=2)


def import_events(
    path: Path,
    send: Sender,
    stores: dict[str, str],
    brands: dict[str, str],
    advance: Callable[[int], None] = lambda n: None,
) -> EventImportReport:
    """Send the file's rows through the collector in batches; report every refused row."""
    report = EventImportReport()
    pending: list[tuple[int, dict[str, Any]]] = []

    def flush() -> None:
        if not pending:
            return
        answer = send([event for _, event in pending])
        report.accepted += answer["accepted"]
        report.duplicates += answer["duplicates"]
        for failure in answer["failed"]:
            row = pending[failure["index"]][0]
            column = _column(failure["field"])
            report.rejected.append(RejectedRow(row, column, failure["reason"]))
        advance(len(pending))
        pending.clear()

    for number, values in _rows(path):
        report.rows += 1
        event = to_event(values, stores, brands)
        if isinstance(event, tuple):
            report.rejected.append(RejectedRow(number, event[0], event[1]))
            advance(1)
            continue
        pending.append((number, event))
        if len(pending) >= BATCH:
            flush()
    flush()
    report.rejected.sort(key=lambda r: r.row)
    return report
