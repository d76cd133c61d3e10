"""Data Bank use cases: settings, snapshot runs and the read models, scoped to one organisation.

Every warehouse query filters `organization_id = str(principal.organization_id)`; the brands
come from the operational store (events without a brand count for each of them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from newretail.core.database import utcnow
from newretail.core.limits import DEFAULT_MAX_RANGE_DAYS, check_span, check_weeks
from newretail.core.localtime import today
from newretail.databank import analytics, floored, snapshots
from newretail.databank import breakdowns as breakdown_rows
from newretail.databank.config import DatabankConfig
from newretail.databank.errors import InvalidDimension, InvalidPeriod, InvalidStage, UnknownBrand
from newretail.databank.models import DatabankSettings
from newretail.databank.queries import DIMENSIONS
from newretail.databank.schemas import MemberListCreate, SnapshotCreate
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.crowd_floor import min_crowd_size
from newretail.tenancy.models import Brand, Store
from newretail.tenancy.permissions import Permission, Principal
from newretail.warehouse.connection import Warehouse


@dataclass(frozen=True)
class Scope:
    """What every Data Bank query of one organisation needs."""

    organization_id: str
    brands: list[str]
    config: DatabankConfig

    def only(self, brand_id: str | None) -> list[str]:
        """The brands to report: all, or the one asked for (404 when not the org's)."""
        if brand_id is None:
            return self.brands
        if brand_id not in self.brands:
            raise UnknownBrand("brand not found", field="brand_id")
        return [brand_id]


def get_config(session: Session, principal: Principal) -> DatabankConfig:
    """The organisation's Data Bank settings (the defaults until changed)."""
    principal.require(Permission.READ)
    row = session.scalars(select(DatabankSettings)).one_or_none()
    if row is None:
        return DatabankConfig()
    return DatabankConfig.model_validate(row.config)


def update_config(session: Session, principal: Principal, data: DatabankConfig) -> DatabankConfig:
    """Replace the organisation's event→stage mapping and windows."""
    principal.require(Permission.MANAGE_MARKETING)
    row = session.scalars(select(DatabankSettings)).one_or_none()
    if row is None:
        row = DatabankSettings(organization_id=principal.organization_id, config={})
        session.add(row)
    row.config = data.model_dump(mode="json")
    row.updated_at = utcnow()
    session.flush()
    return data


def scope_of(session: Session, principal: Principal) -> Scope:
    """The principal's organisation, its brands and its settings."""
    principal.require(Permission.READ)
    brands = [str(b) for b in session.scalars(select(Brand.id).order_by(Brand.id))]
    config = get_config(session, principal).in_zone(
        tenancy_service.organisation_zone(session, principal.organization_id)
    )
    return Scope(str(principal.organization_id), brands, config)


def local_yesterday(session: Session, principal: Principal) -> date:
    """Yesterday in the organisation's time zone (the last complete local day)."""
    zone = tenancy_service.organisation_zone(session, principal.organization_id)
    return today(zone) - timedelta(days=1)


@contextmanager
def _warehouse(warehouse: Warehouse) -> Iterator[Any]:
    con = warehouse.connection()
    with warehouse.lock:
        yield con


def run_snapshots(
    session: Session,
    principal: Principal,
    warehouse: Warehouse,
    data: SnapshotCreate,
    on_day: Callable[[snapshots.SnapshotRun], None] | None = None,
    *,
    most_days: int | None = None,
) -> list[snapshots.SnapshotRun]:
    """Materialise the snapshot of a day, or backfill a range (first full, then incremental);
    at most `most_days` days when given (the API's synchronous run: longer is a backfill job)."""
    principal.require(Permission.MANAGE_MARKETING)
    if most_days is not None and data.end is not None:
        check_span(data.date, data.end, most_days, field="end")
    scope = scope_of(session, principal)
    with _warehouse(warehouse) as con:
        if data.end is None or data.end == data.date:
            run = snapshots.materialise(
                con, scope.organization_id, scope.brands, data.date, scope.config, data.mode
            )
            if on_day is not None:
                on_day(run)
            return [run]
        return snapshots.backfill(
            con, scope.organization_id, scope.brands, data.date, data.end, scope.config, on_day
        )


def snapshot_scope(session: Session, principal: Principal) -> Scope:
    """What materialising snapshots of the principal's organisation needs (brands, settings)."""
    principal.require(Permission.MANAGE_MARKETING)
    return scope_of(session, principal)


def materialise_day(warehouse: Warehouse, scope: Scope, on: date) -> snapshots.SnapshotRun:
    """Materialise one day (auto mode) outside any operational-store transaction."""
    with _warehouse(warehouse) as con:
        return snapshots.materialise(con, scope.organization_id, scope.brands, on, scope.config)


def save_member_list(
    session: Session, principal: Principal, warehouse: Warehouse, data: MemberListCreate
) -> dict[str, Any]:
    """Save one flow cell's members as a static list in the warehouse."""
    principal.require(Permission.MANAGE_MARKETING)
    if data.to_date <= data.from_date:
        raise InvalidPeriod("to_date must be after from_date", field="to_date")
    if data.from_stage is None and data.to_stage is None:
        raise InvalidStage("name a from_stage, a to_stage or both", field="from_stage")
    scope = scope_of(session, principal)
    scope.only(data.brand_id)
    cell = analytics.FlowCell(
        data.brand_id, data.from_date, data.to_date, data.from_stage, data.to_stage
    )
    with _warehouse(warehouse) as con:
        return analytics.save_member_list(
            con, scope.organization_id, scope.brands, cell, data.name, scope.config
        )


def member_list(
    session: Session,
    principal: Principal,
    warehouse: Warehouse,
    list_id: str,
    limit: int = 1000,
    offset: int = 0,
) -> dict[str, Any]:
    """A saved member list and a page of its member ids."""
    scope = scope_of(session, principal)
    with _warehouse(warehouse) as con:
        return analytics.member_list(con, scope.organization_id, list_id, limit, offset)


@dataclass(frozen=True)
class Reader:
    """The Data Bank's read models of the principal's organisation, from one warehouse: each
    of the brands asked for (all of the organisation's, or the one named; 404 when not its)."""

    session: Session
    principal: Principal
    warehouse: Warehouse
    max_range_days: int = DEFAULT_MAX_RANGE_DAYS  # Settings.max_range_days (core/limits.py)

    def _brand_rows(
        self, brand_id: str | None, read: Callable[[Any, Scope], Sequence[dict[str, Any]]]
    ) -> list[dict[str, Any]]:
        """The rows of a read model (`read(connection, scope)`, each with its `brand_id`) of
        the brands asked for."""
        scope = scope_of(self.session, self.principal)
        brands = set(scope.only(brand_id))
        with _warehouse(self.warehouse) as con:
            rows = read(con, scope)
        return [row for row in rows if row["brand_id"] in brands]

    def stage_counts(self, on: date, brand_id: str | None = None) -> dict[str, Any]:
        """Members per AIPL stage of each brand on a date."""
        scope = scope_of(self.session, self.principal)
        brands = scope.only(brand_id)
        with _warehouse(self.warehouse) as con:
            counts = analytics.stage_counts(
                con, scope.organization_id, scope.brands, on, scope.config
            )
        floor = min_crowd_size(self.session)
        return {
            "date": on,
            "min_crowd_size": floor,
            "brands": [
                floored.stage_row({"brand_id": b, **counts.get(b, {})}, floor) for b in brands
            ],
        }

    def flows(self, start: date, end: date, brand_id: str | None = None) -> dict[str, Any]:
        """Per brand and start stage: stayed, moved, churned; and new members, between two
        dates (at most `max_range_days` apart)."""
        check_span(start, end, self.max_range_days, field="to")

        def read(con: Any, scope: Scope) -> list[dict[str, Any]]:
            found = analytics.flows(
                con, scope.organization_id, scope.brands, start, end, scope.config
            )
            return [flow.as_dict() for flow in found]

        floor = min_crowd_size(self.session)
        return {
            "from_date": start,
            "to_date": end,
            "min_crowd_size": floor,
            "brands": [floored.flow(f, floor) for f in self._brand_rows(brand_id, read)],
        }

    def fast(self, end: date, weeks: int, brand_id: str | None = None) -> list[dict[str, Any]]:
        """FAST per brand for each of `weeks` weeks ending on `end` (within `max_range_days`)."""
        check_weeks(weeks, self.max_range_days, field="weeks")
        rows = self._brand_rows(
            brand_id,
            lambda con, scope: analytics.fast(
                con, scope.organization_id, scope.brands, end, weeks, scope.config
            ),
        )
        floor = min_crowd_size(self.session)
        return [floored.fast_week(row, floor) for row in rows]

    def trends(self, start: date, end: date, brand_id: str | None = None) -> list[dict[str, Any]]:
        """Members per stage per day (materialised snapshots), over at most `max_range_days`."""
        check_span(start, end, self.max_range_days, field="to")
        rows = self._brand_rows(
            brand_id, lambda con, scope: analytics.trends(con, scope.organization_id, start, end)
        )
        floor = min_crowd_size(self.session)
        return [floored.stage_row(row, floor) for row in rows]

    def breakdown(
        self, on: date, dimension: str, brand_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Members per stage by channel, store, city or category of the earning touchpoint."""
        return self.breakdowns(on, brand_id, (dimension,))[dimension]

    def breakdowns(
        self, on: date, brand_id: str | None = None, dimensions: Sequence[str] = DIMENSIONS
    ) -> dict[str, list[dict[str, Any]]]:
        """Each dimension's breakdown, from one warehouse query."""
        for dimension in dimensions:
            if dimension not in DIMENSIONS:
                raise InvalidDimension(
                    f"dimension is one of {', '.join(DIMENSIONS)}", field="dimension"
                )
        rows = self._brand_rows(
            brand_id,
            lambda con, scope: breakdown_rows.touchpoints(
                con, scope.organization_id, scope.brands, on, scope.config
            ),
        )
        cities = {str(i): c for i, c in self.session.execute(select(Store.id, Store.city))}
        floor = min_crowd_size(self.session)
        return {
            d: [floored.breakdown_row(r, floor) for r in breakdown_rows.roll_up(rows, d, cities)]
            for d in dimensions
        }
