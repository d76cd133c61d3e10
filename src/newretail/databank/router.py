"""REST API of the Data Bank: stages, flows, FAST, trends, breakdowns, snapshots, lists."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from newretail.core.limits import DEFAULT_MAX_RANGE_DAYS, most_weeks
from newretail.databank import backfills, schemas, service
from newretail.databank.config import DatabankConfig
from newretail.tenancy.dependencies import (
    BulkLimit,
    ContainerDep,
    CurrentPrincipal,
    Offset,
    SessionDep,
)

router = APIRouter(prefix="/api/v1/databank", tags=["databank"])

SPAN = f"at most {DEFAULT_MAX_RANGE_DAYS} days from `from` by default (NEWRETAIL_MAX_RANGE_DAYS)"
# a synchronous snapshot run holds the warehouse: longer ranges are a backfill job
SYNC_SNAPSHOT_DAYS = 14

BrandFilter = Annotated[str | None, Query(description="Only this brand", max_length=64)]
FromDay = Annotated[
    schemas.Day, Query(alias="from", description=f"First day ({schemas.DAY_RANGE})")
]
ToDay = Annotated[
    schemas.Day, Query(alias="to", description=f"Last day ({schemas.DAY_RANGE}; {SPAN})")
]


def _reader(
    session: SessionDep, principal: CurrentPrincipal, container: ContainerDep
) -> service.Reader:
    return service.Reader(
        session, principal, container.warehouse, container.settings.max_range_days
    )


ReaderDep = Annotated[service.Reader, Depends(_reader)]


@router.get("/settings", response_model=DatabankConfig)
def read_settings(session: SessionDep, principal: CurrentPrincipal) -> object:
    """The event→stage mapping and windows of the organisation."""
    return service.get_config(session, principal)


@router.put("/settings", response_model=DatabankConfig)
def replace_settings(
    session: SessionDep, principal: CurrentPrincipal, body: DatabankConfig
) -> object:
    """Replace the event→stage mapping and windows (later snapshots use them)."""
    return service.update_config(session, principal, body)


@router.post("/snapshots", response_model=list[schemas.SnapshotRunRead], status_code=201)
def run_snapshots(
    session: SessionDep,
    principal: CurrentPrincipal,
    container: ContainerDep,
    body: schemas.SnapshotCreate,
) -> object:
    """Materialise the AIPL snapshot of a day (or of `date` … `end`, at most 14 days: a longer
    period is a backfill, POST /api/v1/databank/backfills, with progress)."""
    return service.run_snapshots(
        session, principal, container.warehouse, body, most_days=SYNC_SNAPSHOT_DAYS
    )


@router.post("/backfills", response_model=schemas.BackfillRead, status_code=202)
def start_backfill(
    principal: CurrentPrincipal, container: ContainerDep, body: schemas.BackfillCreate
) -> object:
    """Materialise the missing snapshots of a period in the server (poll its progress)."""
    backfill = backfills.runner(container.warehouse).start(
        container.sessions,
        container.warehouse,
        principal,
        body.from_date,
        body.to_date,
        recompute=body.recompute,
    )
    return backfill.as_dict()


@router.get("/backfills/{backfill_id}", response_model=schemas.BackfillRead)
def read_backfill(principal: CurrentPrincipal, container: ContainerDep, backfill_id: str) -> object:
    """A backfill's progress: days done of the total, and its status."""
    return backfills.runner(container.warehouse).find(principal, backfill_id).as_dict()


@router.get("/stages", response_model=schemas.StagesRead)
def read_stages(
    reader: ReaderDep,
    on: Annotated[
        schemas.Day,
        Query(alias="date", description=f"The organisation's local day ({schemas.DAY_RANGE})"),
    ],
    brand_id: BrandFilter = None,
) -> object:
    """Members in each AIPL stage per brand on a date."""
    return reader.stage_counts(on, brand_id)


@router.get("/flows", response_model=schemas.FlowsRead)
def read_flows(
    reader: ReaderDep, start: FromDay, end: ToDay, brand_id: BrandFilter = None
) -> object:
    """Stage flows between two dates: stayed, moved, churned and new, per brand."""
    return reader.flows(start, end, brand_id)


@router.get("/fast", response_model=list[schemas.FastWeek])
def read_fast(
    reader: ReaderDep,
    end: Annotated[
        schemas.Day, Query(description=f"Last day of the last week ({schemas.DAY_RANGE})")
    ],
    weeks: Annotated[
        int,
        Query(ge=1, le=most_weeks(DEFAULT_MAX_RANGE_DAYS), description="Weeks (7 days each)"),
    ] = 8,
    brand_id: BrandFilter = None,
) -> object:
    """FAST brand health per week: fertility, advancing, superiority, thriving."""
    return reader.fast(end, weeks, brand_id)


@router.get("/trends", response_model=list[schemas.TrendDay])
def read_trends(
    reader: ReaderDep, start: FromDay, end: ToDay, brand_id: BrandFilter = None
) -> object:
    """Members per stage per day from the materialised snapshots."""
    return reader.trends(start, end, brand_id)


@router.get("/breakdowns", response_model=list[schemas.BreakdownRow])
def read_breakdown(
    reader: ReaderDep,
    on: Annotated[schemas.Day, Query(alias="date", description=schemas.DAY_RANGE)],
    dimension: Annotated[str, Query(description="channel, store_id, city or category")],
    brand_id: BrandFilter = None,
) -> object:
    """Members per stage by a dimension of the touchpoint that earned the stage."""
    return reader.breakdown(on, dimension, brand_id)


@router.post("/member-lists", response_model=schemas.MemberListRead, status_code=201)
def create_member_list(
    session: SessionDep,
    principal: CurrentPrincipal,
    container: ContainerDep,
    body: schemas.MemberListCreate,
) -> object:
    """Save the members of one flow cell as a static list."""
    return service.save_member_list(session, principal, container.warehouse, body)


@router.get("/member-lists/{list_id}", response_model=schemas.MemberListRead)
def read_member_list(
    session: SessionDep,
    principal: CurrentPrincipal,
    container: ContainerDep,
    list_id: str,
    limit: BulkLimit = 1000,
    offset: Offset = 0,
) -> Any:
    """A saved member list with a page of its member ids."""
    return service.member_list(session, principal, container.warehouse, list_id, limit, offset)
