"""Insight of an audience: its stored members by city, gender, age band, tier, preferred
channel and AIPL stage (of one brand), with small cells hidden under the privacy floor."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from newretail.audiences import privacy, queries, references
from newretail.audiences import rules as r
from newretail.audiences.compile_scope import compile_scope
from newretail.audiences.crowd_settings import min_crowd_size
from newretail.audiences.models import Audience
from newretail.audiences.service import audience_row
from newretail.audiences.tables import open_warehouse
from newretail.core.errors import NotFound
from newretail.tenancy.models import Brand
from newretail.tenancy.permissions import Permission, Principal
from newretail.warehouse.connection import Warehouse


def insight_cells(rows: list[dict[str, Any]], floor: int) -> dict[str, Any]:
    """Cells above the floor; the small ones hidden together (and more, until the hidden
    total is itself at least the floor, so no subtraction gives a small cell away)."""
    ordered = sorted(
        ((row["value"], int(row["members"])) for row in rows),
        key=lambda cell: (-cell[1], "" if cell[0] is None else str(cell[0])),
    )
    visible = [c for c in ordered if not privacy.below_floor(c[1], floor)]
    hidden = [c for c in ordered if privacy.below_floor(c[1], floor)]
    while hidden and 0 < sum(c[1] for c in hidden) < floor and visible:
        hidden.append(visible.pop())
    total = sum(c[1] for c in hidden)
    return {
        "cells": [{"value": value, "members": count} for value, count in visible],
        "suppressed": {"cells": len(hidden), "members": privacy.shown(total, floor)},
    }


def brands_by_name(session: Session) -> list[Brand]:
    """The organisation's brands, by name (the insight page's brand selector)."""
    return list(session.scalars(select(Brand).order_by(Brand.name, Brand.code)))


def default_brand(session: Session, audience: Audience) -> str | None:
    """The brand whose AIPL stages an audience's insight shows unless one is chosen: the
    first brand its rules name, else the first brand by name."""
    for located in r.conditions(r.parse_rules(audience.rules)):
        brand = getattr(located.condition, "brand_id", None)
        if brand is not None:
            return str(brand)
    brands = brands_by_name(session)
    return str(brands[0].id) if brands else None


def insight(
    session: Session,
    principal: Principal,
    warehouse: Warehouse,
    audience_id: uuid.UUID,
    brand_id: str | None = None,
) -> dict[str, Any]:
    """The stored members by city, gender, age band, tier, preferred channel and AIPL stage
    of one brand (by id, code or name; default: the brand the rules name, else the first
    brand by name)."""
    principal.require(Permission.READ)
    audience = audience_row(session, audience_id)
    floor = min_crowd_size(session)
    scope = compile_scope(session, principal, audience.as_of)
    if brand_id is not None and brand_id not in scope.brands:
        found = references.resolve_named(session, "brand", brand_id)  # by code or name
        if found.value is None or found.value not in scope.brands:
            raise NotFound("brand not found", field="brand_id")
        brand_id = found.value
    brand = brand_id or default_brand(session, audience)
    refreshed = audience.version is not None and audience.size is not None
    report: dict[str, Any] = {
        "audience_id": audience.id,
        "as_of": audience.as_of,
        "size": privacy.shown(audience.size, floor),
        "refreshed": refreshed,
        "suppressed": refreshed and privacy.below_floor(audience.size or 0, floor),
        "min_crowd_size": floor,
        "brand_id": brand,
        "dimensions": {},
    }
    if report["suppressed"] or not refreshed or audience.version is None:
        return report
    with open_warehouse(warehouse) as con:
        members = queries.stored_members(
            con, scope.organization_id, str(audience.id), audience.version
        )
        for dimension in queries.INSIGHT_DIMENSIONS:
            rows = queries.insight_rows(con, members, scope.context, dimension, brand)
            report["dimensions"][dimension] = insight_cells(rows.to_pyarrow().to_pylist(), floor)
    return report
