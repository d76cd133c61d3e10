"""The Data Bank's read models as a person may read them: every count of members through the
organisation's crowd floor (tenancy.crowd_floor), as audiences' counts are.

A count of 1 … floor−1 becomes None (the API's `null`, the console's "< N") and the row says
`suppressed: true`. A flow's parts (stayed, moved to each stage, churned) add up to its shown
start, so when one part is hidden every part is (`shown_together`); a ratio whose numerator
is hidden is hidden too (FAST's A and T).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from newretail.databank.config import STAGES
from newretail.tenancy.crowd_floor import below_floor, shown, shown_together

STAGE_NAMES = [s.value for s in STAGES]


def _stage_counts(row: Mapping[str, Any], floor: int) -> dict[str, Any]:
    counts = {s: shown(row.get(s, 0), floor) for s in STAGE_NAMES}
    hidden = any(below_floor(int(row.get(s, 0) or 0), floor) for s in STAGE_NAMES)
    return {**row, **counts, "suppressed": hidden}


def stage_row(row: Mapping[str, Any], floor: int) -> dict[str, Any]:
    """Members per stage of a brand (on a date, or a day of the trend)."""
    return _stage_counts(row, floor)


def breakdown_row(row: Mapping[str, Any], floor: int) -> dict[str, Any]:
    """One breakdown cell (a stage and a channel, store, city or category)."""
    members = int(row["members"])
    return {**row, "members": shown(members, floor), "suppressed": below_floor(members, floor)}


def flow(found: Mapping[str, Any], floor: int) -> dict[str, Any]:
    """A brand's flows: each start stage's start, and its parts shown together."""
    stages = []
    for cell in found["stages"]:
        targets = list(cell["moved"])
        parts = [cell["stayed"], *(cell["moved"][t] for t in targets), cell["churned"]]
        kept = shown_together(parts, floor)
        stages.append(
            {
                **cell,
                "start": shown(cell["start"], floor),
                "stayed": kept[0],
                "moved": dict(zip(targets, kept[1:-1], strict=True)),
                "churned": kept[-1],
                "suppressed": below_floor(cell["start"], floor) or (kept[0] is None and any(parts)),
            }
        )
    new = {stage: shown(count, floor) for stage, count in found["new"].items()}
    return {**found, "stages": stages, "new": new}


def fast_week(week: Mapping[str, Any], floor: int) -> dict[str, Any]:
    """A week of FAST: F, S and the members behind A and T through the floor."""
    counts = ("fertility", "advanced_members", "superiority", "thriving_members")
    hidden = [c for c in counts if week[c] is not None and below_floor(int(week[c]), floor)]
    shown_week = {**week, **{c: shown(week[c], floor) for c in counts}}
    if "advanced_members" in hidden or "fertility" in hidden:
        shown_week["advancing"] = None
    if "thriving_members" in hidden or "superiority" in hidden:
        shown_week["thriving"] = None
    return {**shown_week, "suppressed": bool(hidden)}
