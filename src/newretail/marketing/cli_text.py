"""How the marketing commands print for a person (without --json): money in yuan with two
decimals, days and validity in the organisation's local time, tables that fit an 80-column
terminal (one row per stage, days in a short form)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from newretail.core.cli import out, table
from newretail.core.localtime import format_local_span, format_local_time
from newretail.core.money import yuan


def days(first: date | str, last: date | str) -> str:
    """A stage's local days, short: `2026-11-11`, `2026-10-20 – 10-31` in one year,
    `2026-12-20 – 2027-01-05` across two."""
    first, last = date.fromisoformat(str(first)), date.fromisoformat(str(last))
    if first == last:
        return first.isoformat()
    if first.year == last.year:
        return f"{first.isoformat()} – {last.isoformat()[5:]}"
    return f"{first.isoformat()} – {last.isoformat()}"


def _spent(stage: dict[str, Any]) -> tuple[int, int, Decimal] | None:
    """A stage's coupons issued and redeemed and its discount given: its own budget's
    counters, else the sum of its stores' (each change spends one store's); None without a
    budget (nothing counted)."""
    budgets = stage["budgets"]
    whole = [b for b in budgets if b["store_id"] is None]
    counted = whole or budgets
    if not counted:
        return None
    return (
        sum(int(b["issued"]) for b in counted),
        sum(int(b["redeemed"]) for b in counted),
        sum((Decimal(str(b["discounted"])) for b in counted), Decimal("0")),
    )


def print_campaigns(rows: list[dict[str, Any]]) -> None:
    """One table per campaign (its name and state as the title), one row per stage."""
    if not rows:
        out.print("No campaigns.")
    for campaign in rows:
        lines = []
        for stage in campaign["stages"]:
            spent = _spent(stage)
            counts = ["—", "—", "—"] if spent is None else [spent[0], spent[1], yuan(spent[2])]
            lines.append([stage["name"], days(stage["first_day"], stage["last_day"]), *counts])
        title = f"{campaign['name']} · {campaign['state']} · days in {campaign['time_zone']}"
        table(title, ["stage", "local days", "issued", "redeemed", "discount given"], lines)


def _local(moment: str | None, zone_name: str) -> str:
    return format_local_time(datetime.fromisoformat(moment), zone_name) if moment else "—"


def print_coupon(title: str, row: dict[str, Any], zone_name: str) -> None:
    """A coupon as a two-column table: its offer, campaign, state, validity as a person reads
    it (whole local days, the last inclusive), the order that used it and the discount."""
    valid = format_local_span(
        datetime.fromisoformat(row["valid_from"]),
        datetime.fromisoformat(row["valid_until"]),
        zone_name,
    )
    campaign = " · ".join(n for n in (row["campaign_name"], row["stage_name"]) if n)
    fields = [
        ("offer", f"{row['offer_name'] or '—'} ({row['offer_code'] or '—'})"),
        ("campaign", campaign or "—"),
        ("state", row["state"]),
        ("valid", valid),
        ("member", row["member_id"] or "—"),
        ("used by order", row["order_ref"] or "—"),
        ("redeemed at", _local(row["redeemed_at"], zone_name)),
        ("discount given", yuan(row["discount"])),
    ]
    table(f"{title} · times in {zone_name}", ["field", "value"], [list(f) for f in fields])
