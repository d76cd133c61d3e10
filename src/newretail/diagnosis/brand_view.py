"""One brand's diagnosis (the console's brand page, the API, the CLI): its GMV in a period
against a comparison period split into stores × factors (`service.gmv_change` over the brand's
stores: each store decomposed on its own, the brand's parts their sums), its daily GMV, the
stores that explain each factor (`org_causes.organisation_causes` over the brand's stores),
its stores ranked by peer tier (`peers.peer_tiers`, each tiered among all its peers), and what
makes the figures unreliable (docs/diagnosis.md, "A brand's page")."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.orm import Session

from newretail.diagnosis import counters, metrics, org_causes, peers, service
from newretail.diagnosis.metrics import Metrics
from newretail.diagnosis.org_causes import OrganisationCauses
from newretail.diagnosis.peers import PeerReport, StorePeers
from newretail.diagnosis.service import GmvChange
from newretail.diagnosis.tiers import TierConfig
from newretail.events import service as events_service
from newretail.events.service import OutboxDelay
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.models import ChannelType, StoreStatus
from newretail.tenancy.permissions import Permission, Principal
from newretail.warehouse.connection import Warehouse

DEFAULT_OUTBOX_LATE = timedelta(minutes=15)


@dataclass(frozen=True)
class BrandRef:
    id: uuid.UUID
    code: str
    name: str


@dataclass(frozen=True)
class BrandDiagnosis:
    """A brand's change split into stores × factors, its days, the stores explaining each
    factor, its stores by peer tier, and the data-quality findings of the period."""

    brand: BrandRef
    change: GmvChange  # the brand's stores (a store manager's of them) only
    days: list[tuple[date, Metrics]]  # every local day of the period, in order
    causes: OrganisationCauses
    tiers: list[StorePeers]  # the brand's tiered stores, highest tier first
    peer_report: PeerReport
    # store id → days of the period on which nothing arrived from the store
    days_without_events: dict[str, tuple[date, ...]]
    late_outbox: OutboxDelay  # facts not yet in the warehouse (waiting 0: none)


def late_outbox(
    session: Session, principal: Principal, older_than: timedelta = DEFAULT_OUTBOX_LATE
) -> OutboxDelay:
    """The commerce facts whose events are overdue in the warehouse (the events domain's
    outbox): while any wait, every diagnosis may be missing them."""
    return events_service.late_outbox(session, principal, older_than)


def brand_diagnosis(
    session: Session,
    principal: Principal,
    warehouse: Warehouse,
    code: str,
    first: date | None = None,
    last: date | None = None,
    base_first: date | None = None,
    base_last: date | None = None,
    *,
    config: TierConfig | None = None,
    outbox_late: timedelta = DEFAULT_OUTBOX_LATE,
    no_store_label: str = "without a store",
) -> BrandDiagnosis:
    """The brand (by code) in the period (default: the last 7 complete local days) against
    the base (default: as many days before); a store manager sees their stores of it."""
    principal.require(Permission.READ)
    brand = tenancy_service.brand_by_code(session, code)
    filters = tenancy_service.StoreFilter(brand_id=brand.id)
    change = service.gmv_change(
        session, principal, warehouse, first, last, base_first, base_last, filters=filters
    )
    period = change.period
    stores = tenancy_service.all_stores(session, principal, filters)
    keys = [str(s.id) for s in stores]
    with warehouse.lock:
        rows = metrics.store_day_rows(
            metrics.store_day_table(
                warehouse.connection(),
                str(principal.organization_id),
                period.first,
                period.last,
                change.time_zone,
                store_zones={str(s.id): s.time_zone for s in stores},
                stores=keys,
            )
        )
    daily = metrics.totals_by(rows, lambda row: row.day)
    every_day = [period.first + timedelta(days=n) for n in range(period.days)]
    reporting = {
        str(c.store.id)
        for c in change.stores
        if c.store.id is not None and (c.base.store_days or c.comparison.store_days)
    }
    expected = [
        str(s.id)
        for s in stores
        if str(s.id) in reporting
        and s.status != StoreStatus.CLOSED
        and s.channel_type != ChannelType.WAREHOUSE
    ]
    why = org_causes.organisation_causes(
        session,
        principal,
        warehouse,
        period.first,
        period.last,
        change.base_period.first,
        change.base_period.last,
        no_store_label=no_store_label,
        brand_id=brand.id,
    )
    report = peers.peer_tiers(session, principal, warehouse, config, period.last)
    mine = {s.id for s in stores}
    return BrandDiagnosis(
        brand=BrandRef(brand.id, brand.code, brand.name),
        change=change,
        days=[(day, daily.get(day, Metrics())) for day in every_day],
        causes=why,
        tiers=[s for s in report.stores if s.store.id in mine],
        peer_report=report,
        days_without_events=counters.days_without_events(rows, expected, every_day),
        late_outbox=late_outbox(session, principal, outbox_late),
    )


def brands_by_id(session: Session) -> dict[str, BrandRef]:
    """The organisation's brands by id (pages link a brand's name to its page)."""
    return {
        str(b.id): BrandRef(b.id, b.code, b.name) for b in tenancy_service.brand_choices(session)
    }


def store_brands(session: Session, principal: Principal) -> dict[str, BrandRef]:
    """The brand of each of the principal's stores that has one, by store id."""
    brands = brands_by_id(session)
    stores = tenancy_service.all_stores(session, principal, tenancy_service.StoreFilter())
    return {
        str(s.id): brands[str(s.brand_id)]
        for s in stores
        if s.brand_id is not None and str(s.brand_id) in brands
    }
