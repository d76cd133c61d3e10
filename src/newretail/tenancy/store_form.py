"""HTML form values <-> API payloads for the console's store form."""

from __future__ import annotations

import re
from typing import Any

from newretail.console.forms import FormError
from newretail.core.localtime import DEFAULT_ZONE
from newretail.tenancy.models import Store

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN = re.compile(r"^(\d{2}:\d{2})\s*-\s*(\d{2}:\d{2})$")
OPTIONAL_TEXT = ("brand_id", "city", "district", "address", "category")
STORE_FIELDS = (
    "code",
    "name",
    "channel_type",
    "status",
    "time_zone",
    *OPTIONAL_TEXT,
    "latitude",
    "longitude",
    "opening_hours",
)


def blank_store() -> dict[str, str]:
    values = dict.fromkeys(STORE_FIELDS, "")
    values.update(channel_type="store", status="active", time_zone=DEFAULT_ZONE)
    return values


def store_values(store: Store) -> dict[str, str]:
    """A store as the strings its form shows."""
    values = {
        name: "" if getattr(store, name) is None else str(getattr(store, name))
        for name in STORE_FIELDS
        if name != "opening_hours"
    }
    values["opening_hours"] = format_hours(store.opening_hours)
    return values


def format_hours(hours: dict[str, list[Any]]) -> str:
    lines = []
    for day in DAYS:
        for opens, closes in hours.get(day, []):
            lines.append(f"{day} {opens}-{closes}")
    return "\n".join(lines)


def parse_hours(text: str) -> dict[str, list[list[str]]]:
    """Lines such as `mon 10:00-22:00` (several lines per day are several spans)."""
    hours: dict[str, list[list[str]]] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        day, _, span = line.partition(" ")
        match = _SPAN.match(span.strip())
        if day.lower() not in DAYS or match is None:
            raise FormError(
                "opening_hours",
                f"line {number}: expected e.g. 'mon 10:00-22:00'",
                "form.hours_line",
                number=number,
            )
        hours.setdefault(day.lower(), []).append([match.group(1), match.group(2)])
    return hours


def _number(form: dict[str, str], name: str) -> float | None:
    raw = form.get(name, "").strip()
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError as exc:
        raise FormError(name, "must be a number", "form.not_a_number") from exc


def store_payload(form: dict[str, str], *, partial: bool) -> dict[str, Any]:
    """The JSON payload a form stands for (blank optional fields become null)."""
    payload: dict[str, Any] = {}
    for name in ("code", "name", "channel_type", "status", "time_zone"):
        value = form.get(name, "").strip()
        if value or not partial:
            payload[name] = value
    for name in OPTIONAL_TEXT:
        payload[name] = form.get(name, "").strip() or None
    payload["latitude"] = _number(form, "latitude")
    payload["longitude"] = _number(form, "longitude")
    payload["opening_hours"] = parse_hours(form.get("opening_hours", ""))
    return payload
