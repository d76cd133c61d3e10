"""Pydantic read of a brand's diagnosis (money as decimal strings, ISO dates, instants with
their offset): the brand's change split into stores × factors, its days, the stores that
explain each factor, its stores by peer tier and the data-quality findings in words."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel

from newretail.core.i18n import Translate
from newretail.core.localtime import to_local
from newretail.diagnosis.brand_view import BrandDiagnosis
from newretail.diagnosis.cause_schemas import (
    CauseRead,
    DataQualityRead,
    organisation_causes_read,
)
from newretail.diagnosis.peer_schemas import StorePeerRead, store_peer_read
from newretail.diagnosis.schemas import (
    OrganisationChangeRead,
    PeriodRead,
    StoreChangeRead,
    day_runs,
    gmv_change_read,
    period_read,
)
from newretail.events.service import OutboxDelay


class BrandRead(BaseModel):
    code: str
    name: str


class DayRead(BaseModel):
    """A local day's GMV, visitors and buyers (the brand's stores summed)."""

    day: date
    gmv: Decimal
    visitors: int
    buyers: int


class QualityRead(BaseModel):
    """Something that makes the brand's figures unreliable: a store's flag (store None: the
    whole diagnosis, e.g. a late outbox)."""

    issue: str
    period: str | None
    store_code: str | None
    store_name: str | None
    days: list[date]
    waiting: int | None = None  # late_outbox: facts not yet in the warehouse
    oldest: datetime | None = None  # late_outbox: when the oldest was written
    text: str


class BrandDiagnosisRead(BaseModel):
    """A brand's GMV change between a base period and a comparison period
    (docs/diagnosis.md, "A brand's page")."""

    brand: BrandRead
    time_zone: str
    period: PeriodRead
    base_period: PeriodRead
    total: OrganisationChangeRead  # the brand's: the sum of its stores'
    stores: list[StoreChangeRead]  # stores × factors, the largest change first
    days: list[DayRead]
    causes: list[CauseRead]  # the stores explaining each factor, the largest first
    counter_silences: list[DataQualityRead]
    tier_period: PeriodRead
    min_peers: int
    tiers: list[StorePeerRead]  # the brand's stores, highest tier first
    data_quality: list[QualityRead]


def late_outbox_text(delay: OutboxDelay, time_zone: str, t: Translate) -> str | None:
    """The warning that facts are overdue in the warehouse (None: none are), the oldest's
    time local to `time_zone`."""
    if not delay.waiting:
        return None
    oldest = "—" if delay.oldest is None else f"{to_local(delay.oldest, time_zone):%Y-%m-%d %H:%M}"
    return t("diagnosis.flag.late_outbox", count=delay.waiting, oldest=oldest)


def quality_read(found: BrandDiagnosis, t: Translate) -> list[QualityRead]:
    """The late outbox first (it concerns every figure), then each store's flags, by store
    name."""
    quality: list[QualityRead] = []
    delay = found.late_outbox
    zone = found.change.time_zone
    late = late_outbox_text(delay, zone, t)
    if late is not None:
        quality.append(
            QualityRead(
                issue="late_outbox",
                period=None,
                store_code=None,
                store_name=None,
                days=[],
                waiting=delay.waiting,
                oldest=None if delay.oldest is None else to_local(delay.oldest, zone),
                text=late,
            )
        )
    names = {str(c.store.id): c.store for c in found.change.stores if c.store.id}
    change = gmv_change_read(found.change, t)
    for store in sorted(change.stores, key=lambda s: s.store_name):
        key = str(store.store_id) if store.store_id else None
        for flag in store.flags:
            quality.append(
                QualityRead(
                    issue=flag.issue,
                    period=flag.period,
                    store_code=store.store_code,
                    store_name=store.store_name,
                    days=[],
                    text=f"{store.store_name}: {flag.text}",
                )
            )
        missing = found.days_without_events.get(key or "")
        if missing:
            ref = names[key or ""]
            quality.append(
                QualityRead(
                    issue="days_without_events",
                    period="comparison",
                    store_code=ref.code,
                    store_name=ref.name,
                    days=list(missing),
                    text=f"{ref.name}: "
                    + t("diagnosis.flag.days_without_events", days=day_runs(missing)),
                )
            )
    return quality


def brand_diagnosis_read(found: BrandDiagnosis, t: Translate) -> BrandDiagnosisRead:
    """The brand's diagnosis with names, labels and texts in `t`'s language."""
    change = gmv_change_read(found.change, t)
    why = organisation_causes_read(found.causes, t)
    return BrandDiagnosisRead(
        brand=BrandRead(code=found.brand.code, name=found.brand.name),
        time_zone=change.time_zone,
        period=change.period,
        base_period=change.base_period,
        total=change.organisation,
        stores=change.stores,
        days=[
            DayRead(day=day, gmv=figures.gmv, visitors=figures.visitors, buyers=figures.buyers)
            for day, figures in found.days
        ],
        causes=why.causes,
        counter_silences=why.data_quality,
        tier_period=period_read(found.peer_report.period),
        min_peers=found.peer_report.config.min_peers,
        tiers=[store_peer_read(s, found.peer_report, t) for s in found.tiers],
        data_quality=quality_read(found, t),
    )
