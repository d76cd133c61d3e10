"""One store's diagnosis (the console's store page): its GMV in a period against a comparison
period split into visitors, conversion and order value, its daily GMV over the period, and its
peer tier over the 30 local days up to the period's last day (docs/diagnosis.md, "A store's
page")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.orm import Session

from newretail.core.localtime import today
from newretail.diagnosis import metrics, peers
from newretail.diagnosis.decomposition import Decomposition, PeriodTotals, decompose
from newretail.diagnosis.metrics import Metrics
from newretail.diagnosis.peers import PeerReport, StorePeers
from newretail.diagnosis.service import Period, StoreRef, check_periods, store_ref
from newretail.diagnosis.tiers import TierConfig
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.permissions import Permission, Principal
from newretail.warehouse.connection import Warehouse


@dataclass(frozen=True)
class StoreDiagnosis:
    """A store's change between two periods, its days, and its tier (None: not tiered, e.g.
    a warehouse)."""

    time_zone: str
    store: StoreRef
    store_time_zone: str
    period: Period
    base_period: Period
    base: Metrics
    comparison: Metrics
    decomposition: Decomposition
    days: list[tuple[date, Metrics]]  # every local day of the period, in order
    peers: StorePeers | None
    peer_report: PeerReport


def store_diagnosis(
    session: Session,
    principal: Principal,
    warehouse: Warehouse,
    code: str,
    first: date | None = None,
    last: date | None = None,
    base_first: date | None = None,
    base_last: date | None = None,
    config: TierConfig | None = None,
) -> StoreDiagnosis:
    """A store's GMV in the period (default: the last 7 complete local days) against the base
    period (default: as many days before) split by factor, its daily GMV, and its peer tier
    over the 30 local days up to the period's last day."""
    principal.require(Permission.READ)
    store = tenancy_service.visible_store(session, principal, code)
    zone = tenancy_service.organisation_zone(session, principal.organization_id)
    yesterday = today(zone) - timedelta(days=1)
    period, base_period = check_periods(first, last, base_first, base_last, yesterday)
    key = str(store.id)
    found: dict[str, list[metrics.StoreDay]] = {}
    with warehouse.lock:
        con = warehouse.connection()
        for name, each in (("base", base_period), ("comparison", period)):
            found[name] = metrics.store_day_rows(
                metrics.store_day_table(
                    con,
                    str(principal.organization_id),
                    each.first,
                    each.last,
                    zone,
                    store_zones={key: store.time_zone},
                    stores=[key],
                )
            )
    base, comparison = metrics.total(found["base"]), metrics.total(found["comparison"])
    daily = {row.day: row.metrics for row in found["comparison"]}
    days = [
        (day, daily.get(day, Metrics()))
        for day in (period.first + timedelta(days=n) for n in range(period.days))
    ]
    report = peers.peer_tiers(session, principal, warehouse, config, period.last)
    mine = next((s for s in report.stores if s.store.id == store.id), None)
    return StoreDiagnosis(
        time_zone=zone,
        store=store_ref(store),
        store_time_zone=store.time_zone,
        period=period,
        base_period=base_period,
        base=base,
        comparison=comparison,
        decomposition=decompose(
            PeriodTotals(base.visitors, base.buyers, base.gmv),
            PeriodTotals(comparison.visitors, comparison.buyers, comparison.gmv),
        ),
        days=days,
        peers=mine,
        peer_report=report,
    )
