"""Plumbing a member's erasure shares across domains: which rows' free text (a JSON payload,
a key) mentions one of the erased member's ids, identifiers or identifier hashes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, cast, false, or_
from sqlalchemy.sql import ColumnElement


@dataclass(frozen=True)
class Traces:
    """What identifies an erased member in free text: their profiles' ids (as text) and
    their identifiers (normalised values and keyed hashes)."""

    needles: tuple[str, ...]

    @classmethod
    def of(cls, values: Iterable[Any]) -> Traces:
        found = {str(v).strip().lower() for v in values if v is not None and str(v).strip()}
        return cls(tuple(sorted(found)))

    def found_in(self, text: str | None) -> bool:
        """Whether the text holds one of the traces (case-insensitive)."""
        lowered = (text or "").lower()
        return any(needle in lowered for needle in self.needles)


def mentions(column: Any, traces: Traces) -> ColumnElement[bool]:
    """The rows whose column, read as text, holds one of the traces."""
    if not traces.needles:
        return false()
    text = cast(column, String)
    return or_(*(text.contains(needle, autoescape=True) for needle in traces.needles))
