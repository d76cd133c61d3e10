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

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from newretail.core.csvimport import Advance, ImportReport, no_progress, read_file
from newretail.events.validation import BUILT_IN_IDENTIFIERS

BATCH = 500
Sender = Callable[[list[dict[str, Any]]], dict[str, Any]]


@dataclass
class EventImportReport(ImportReport):
    """The toolkit's report, with the rows the collector already held."""

    duplicates: int = 0

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON."""
        return {
            "rows": self.rows,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": self.rejected_in_order(),
        }


def to_event(
    values: dict[str, str], stores: dict[str, str], brands: dict[str, str]
) -> dict[str, Any] | tuple[str, str]:
    """The native event of one CSV row, or (column, reason)."""
    cells = {k.strip(): (v or "").strip() for k, v in values.items() if k}
    event: dict[str, Any] = {"type": cells.get("type", ""), "ts": cells.get("ts", "")}
    for kind, ids_by_code in (("store", stores), ("brand", brands)):
        # a store or brand by its code (looked up) or by its id (as given)
        if code := cells.get(f"{kind}_code"):
            if code not in ids_by_code:
                return f"{kind}_code", f"no {kind} with code {code!r}"
            event[f"{kind}_id"] = ids_by_code[code]
        elif cells.get(f"{kind}_id"):
            event[f"{kind}_id"] = cells[f"{kind}_id"]
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


def import_events(
    path: Path,
    send: Sender,
    stores: dict[str, str],
    brands: dict[str, str],
    advance: Advance = no_progress,
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
            report.reject(row, column, failure["reason"])
        advance(len(pending))
        pending.clear()

    for number, values in read_file(path):
        report.rows += 1
        event = to_event(values, stores, brands)
        if isinstance(event, tuple):
            report.reject(number, event[0], event[1])
            advance(1)
            continue
        pending.append((number, event))
        if len(pending) >= BATCH:
            flush()
    flush()
    return report
