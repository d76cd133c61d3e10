"""Recommendations of a store's diagnosis as use cases: recorded the first time a period's
diagnosis shows them (so each has an id to act on and is remembered), acted on through the
owning domains' services — an audience and a campaign draft (audiences, marketing), a stock
transfer (inventory) — or dismissed, and shown again beside a later period's figures
(docs/diagnosis.md, "Recommendations")."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from newretail.audiences import service as audiences_service
from newretail.audiences.schemas import AudienceCreate
from newretail.catalog import pricing
from newretail.core.database import NO_SYNC, insert_once, utcnow
from newretail.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from newretail.core.i18n import Translate
from newretail.core.localtime import today
from newretail.diagnosis import causes, recommendations
from newretail.diagnosis.causes import Cause, CauseKind, StoreCauses
from newretail.diagnosis.decomposition import Factor, PeriodTotals, decompose
from newretail.diagnosis.models import (
    DiagnosisRecommendation,
    RecommendationKind,
    RecommendationState,
)
from newretail.diagnosis.recommendations import Location, Proposal
from newretail.inventory import reads as inventory_reads
from newretail.inventory import schemas as inventory_schemas
from newretail.inventory import service as inventory_service
from newretail.marketing import campaigns
from newretail.marketing import schemas as marketing_schemas
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.models import Store, StoreStatus
from newretail.tenancy.permissions import Permission, Principal
from newretail.warehouse.connection import Warehouse

Kind = RecommendationKind
State = RecommendationState
EARLIER_SHOWN = 10
# acting needs the permission of what it creates
PERMISSION_OF = {
    Kind.STOCK_TRANSFER: Permission.MANAGE_STOCK,
    Kind.INTERESTED_CAMPAIGN: Permission.MANAGE_MARKETING,
    Kind.LAPSED_CAMPAIGN: Permission.MANAGE_MARKETING,
    Kind.BUYERS_CAMPAIGN: Permission.MANAGE_MARKETING,
    Kind.CHECK_COUNTER: Permission.EDIT_STORES,
}


@dataclass(frozen=True)
class Earlier:
    """A recommendation of an earlier period and its factor's part now, against the same
    base period as then (did it work)."""

    recommendation: DiagnosisRecommendation
    now: Decimal


@dataclass(frozen=True)
class StoreRecommendations:
    """A store's diagnosis of a period, its recommendations, and the earlier ones."""

    diagnosis: StoreCauses
    weakest: Factor | None
    current: list[DiagnosisRecommendation]
    earlier: list[Earlier]


# --- proposing ------------------------------------------------------------------------------


def _location(store: Store, available: int) -> Location:
    return Location(
        store.id, store.code, store.name, store.city, store.latitude, store.longitude, available
    )


def transfer_plan(
    session: Session, principal: Principal, store: Store
) -> Callable[[Cause], dict[str, Any]]:
    """For a stock-out cause: the SKU, the units its lost sales were worth at the store's
    price, and the nearest location with units available now (what inventory knows)."""

    def plan(cause: Cause) -> dict[str, Any]:
        sku_id = uuid.UUID(str(cause.key))
        levels = inventory_reads.list_levels(
            session, principal, inventory_reads.StockFilter(sku_id=sku_id), limit=5000
        )
        available = {level.location_id: level.available for level in levels}
        stores = tenancy_service.all_stores(
            session, principal, tenancy_service.StoreFilter(status=StoreStatus.ACTIVE)
        )
        price = pricing.sale_prices(
            session, [sku_id], store.id, store.channel_type, organization_id=store.organization_id
        ).get(sku_id)
        amount = price.amount if price is not None else None
        others = [_location(s, available[s.id]) for s in stores if s.id in available]
        # a rough need first (at the price, without a cap), then capped by the source
        wanted = recommendations.units_to_transfer(cause.amount, amount, 10**9) or 1
        source = recommendations.nearest_source(_location(store, 0), others, wanted)
        plan: dict[str, Any] = {
            "sku_id": str(sku_id),
            "sku_label": cause.label,
            "price": None if amount is None else str(amount),
        }
        if source is None:
            return {**plan, "quantity": None, "source": None}
        return {
            **plan,
            "quantity": recommendations.units_to_transfer(cause.amount, amount, source.available),
            "source": {
                "id": str(source.id),
                "code": source.code,
                "name": source.name,
                "city": source.city,
                "available": source.available,
            },
        }

    return plan


def _recorded(session: Session, store: Store, found: StoreCauses) -> list[DiagnosisRecommendation]:
    period, base = found.period, found.base_period
    return list(
        session.scalars(
            select(DiagnosisRecommendation)
            .where(
                DiagnosisRecommendation.store_id == store.id,
                DiagnosisRecommendation.first_day == period.first,
                DiagnosisRecommendation.last_day == period.last,
                DiagnosisRecommendation.base_first_day == base.first,
                DiagnosisRecommendation.base_last_day == base.last,
            )
            .order_by(DiagnosisRecommendation.created_at, DiagnosisRecommendation.kind)
        )
    )


def _record(
    session: Session, principal: Principal, store: Store, found: StoreCauses, proposal: Proposal
) -> DiagnosisRecommendation:
    row = DiagnosisRecommendation(
        organization_id=principal.organization_id,
        store_id=store.id,
        first_day=found.period.first,
        last_day=found.period.last,
        base_first_day=found.base_period.first,
        base_last_day=found.base_period.last,
        kind=proposal.kind,
        state=State.PROPOSED,
    )
    _fill(row, proposal)

    def twin() -> DiagnosisRecommendation | None:
        return next((r for r in _recorded(session, store, found) if r.kind == proposal.kind), None)

    return insert_once(session, row, twin)


def _fill(row: DiagnosisRecommendation, proposal: Proposal) -> None:
    row.factor, row.cause = proposal.factor, proposal.cause
    row.cause_key, row.cause_label = proposal.cause_key, proposal.cause_label
    row.amount, row.factor_amount = proposal.amount, proposal.factor_amount
    row.detail = proposal.detail


def store_recommendations(
    session: Session,
    principal: Principal,
    warehouse: Warehouse,
    store_reference: str,
    first: date | None = None,
    last: date | None = None,
    base_first: date | None = None,
    base_last: date | None = None,
    *,
    other_label: str = "other",
) -> StoreRecommendations:
    """A store's recommendations for a period (default: the last 7 complete local days)
    against a base period (default: the days just before), recorded the first time they are
    shown (a proposal still open follows the latest figures), and the store's earlier
    recommendations that were acted on or dismissed, each with its factor's part then and
    now."""
    found = causes.store_causes(
        session,
        principal,
        warehouse,
        store_reference,
        first,
        last,
        base_first,
        base_last,
        other_label=other_label,
    )
    store = tenancy_service.visible_store(session, principal, store_reference)
    proposals = recommendations.propose(found, transfer_plan(session, principal, store))
    recorded = {r.kind: r for r in _recorded(session, store, found)}
    for proposal in proposals:
        row = recorded.get(proposal.kind)
        if row is None:
            recorded[proposal.kind] = _record(session, principal, store, found, proposal)
        elif row.state == State.PROPOSED:
            _fill(row, proposal)
    session.flush()
    order = {p.kind: i for i, p in enumerate(proposals)}
    current = sorted(recorded.values(), key=lambda r: (order.get(Kind(r.kind), 99), r.kind))
    return StoreRecommendations(
        diagnosis=found,
        weakest=recommendations.weakest_factor(dict(found.decomposition.parts)),
        current=current,
        earlier=_earlier(session, store, found),
    )


def _earlier(session: Session, store: Store, found: StoreCauses) -> list[Earlier]:
    rows = session.scalars(
        select(DiagnosisRecommendation)
        .where(
            DiagnosisRecommendation.store_id == store.id,
            DiagnosisRecommendation.last_day < found.period.first,
            DiagnosisRecommendation.state != State.PROPOSED,
        )
        .order_by(
            DiagnosisRecommendation.last_day.desc(), DiagnosisRecommendation.created_at.desc()
        )
        .limit(EARLIER_SHOWN)
    )
    now = found.decomposition.comparison
    return [Earlier(row, factor_now(row, now)) for row in rows]


def factor_now(row: DiagnosisRecommendation, now: PeriodTotals) -> Decimal:
    """The recommendation's factor's part in the change from its base period to `now`."""
    base = row.detail["base"]
    then = PeriodTotals(int(base["visitors"]), int(base["buyers"]), Decimal(base["gmv"]))
    return decompose(then, now).parts[Factor(row.factor)]


# --- acting ---------------------------------------------------------------------------------


def recommendation_of(
    session: Session, principal: Principal, store_reference: str, recommendation_id: uuid.UUID
) -> tuple[Store, DiagnosisRecommendation]:
    """A recommendation of a store the principal may see (404 naming the field otherwise;
    another organisation's is not found: the session is scoped to the principal's)."""
    principal.require(Permission.READ)
    store = tenancy_service.visible_store(session, principal, store_reference)
    row = session.scalars(
        select(DiagnosisRecommendation).where(
            DiagnosisRecommendation.id == recommendation_id,
            DiagnosisRecommendation.store_id == store.id,
        )
    ).one_or_none()
    if row is None:
        raise NotFound("no such recommendation of this store", field="recommendation_id")
    return store, row


def _may_decide(principal: Principal) -> None:
    """Refused before any lookup unless the principal may act on some kind (a reader
    never learns which recommendations exist through a write)."""
    if not any(principal.can(p) for p in set(PERMISSION_OF.values())):
        raise Forbidden(f"the role {principal.role or principal.kind} may not act on this")


def _open(principal: Principal, row: DiagnosisRecommendation) -> None:
    principal.require(PERMISSION_OF[Kind(row.kind)])
    if row.state != State.PROPOSED:
        raise Conflict(f"the recommendation is {row.state} already", field="state")


def _names(t: Translate, store: Store, row: DiagnosisRecommendation) -> tuple[str, str]:
    period = f"{row.first_day.isoformat()} – {row.last_day.isoformat()}"
    name = t(f"diagnosis.rec.object.{row.kind}", store=store.name, period=period)
    return name[:200], t("diagnosis.rec.object.description", store=store.name, period=period)


def _campaign(
    session: Session,
    principal: Principal,
    store: Store,
    row: DiagnosisRecommendation,
    t: Translate,
) -> list[dict[str, Any]]:
    name, description = _names(t, store, row)
    audience = audiences_service.create_audience(
        session,
        principal,
        AudienceCreate(name=name, description=description, rules=row.detail["rules"]),
    )
    zone = tenancy_service.organisation_zone(session, principal.organization_id)
    start = today(zone) + timedelta(days=1)
    campaign = campaigns.create_campaign(
        session,
        principal,
        marketing_schemas.CampaignIn(
            name=name,
            brand_id=store.brand_id,
            description=description,
            holdout_percent=int(row.detail["holdout_percent"]),
            stages=[
                marketing_schemas.StageIn(
                    name=t("diagnosis.rec.object.stage"),
                    first_day=start,
                    last_day=start + timedelta(days=recommendations.CAMPAIGN_DAYS - 1),
                    audience_ids=[audience["id"]],
                )
            ],
        ),
    )
    return [
        {"type": "audience", "id": str(audience["id"]), "name": audience["name"]},
        {"type": "campaign", "id": str(campaign.id), "name": campaign.name},
    ]


def _transfer(
    session: Session,
    principal: Principal,
    store: Store,
    row: DiagnosisRecommendation,
    quantity: int | None,
    t: Translate,
) -> list[dict[str, Any]]:
    # planned again now: the stock available at this moment, in the actor's stores
    lost = Cause(CauseKind.BUSINESS, row.amount, key=row.cause_key, label=row.cause_label)
    detail = {**row.detail, **transfer_plan(session, principal, store)(lost)}
    row.detail = detail
    source = detail.get("source")
    if source is None:
        raise Conflict("no other location has the SKU available", field="source")
    units = quantity or detail.get("quantity")
    if units is None:
        raise InvalidInput("give the units to transfer (the SKU has no price)", field="quantity")
    label = detail.get("sku_label") or detail["sku_id"]
    change = inventory_service.transfer_stock(
        session,
        principal,
        inventory_schemas.TransferCreate(
            from_location_id=uuid.UUID(source["id"]),
            to_location_id=store.id,
            lines=[
                inventory_schemas.StockLineIn(sku_id=uuid.UUID(detail["sku_id"]), quantity=units)
            ],
            note=t("diagnosis.rec.object.transfer_note", period=row.last_day.isoformat())[:300],
        ),
    )
    return [
        {
            "type": "stock_transfer",
            "id": change.reference,
            "name": f"{units} × {label}",
            "location_id": str(store.id),
        }
    ]


def act(
    session: Session,
    principal: Principal,
    store_reference: str,
    recommendation_id: uuid.UUID,
    t: Translate,
    quantity: int | None = None,
) -> DiagnosisRecommendation:
    """Do what a recommendation proposes, through the owning domain's service: the audience
    and the campaign draft with its holdout, or the stock transfer (`quantity` overrides the
    proposed units), or nothing but the record (check the counter); then it is acted on, by
    whom and when, with references to what was created."""
    _may_decide(principal)
    store, row = recommendation_of(session, principal, store_reference, recommendation_id)
    _open(principal, row)
    kind = Kind(row.kind)
    if quantity is not None and kind is not Kind.STOCK_TRANSFER:
        raise InvalidInput("only a stock transfer takes a quantity", field="quantity")
    # claimed first: of two concurrent acts one creates, the other is refused; in a savepoint,
    # so that when creating fails the claim goes too (the recommendation stays proposed)
    with session.begin_nested():
        _decide(session, principal, row, State.ACTED)
        if kind is Kind.STOCK_TRANSFER:
            row.created_objects = _transfer(session, principal, store, row, quantity, t)
        elif kind in recommendations.CAMPAIGN_OF.values():
            row.created_objects = _campaign(session, principal, store, row, t)
        session.flush()
    return row


def dismiss(
    session: Session, principal: Principal, store_reference: str, recommendation_id: uuid.UUID
) -> DiagnosisRecommendation:
    """Decline a recommendation (by whom and when, remembered like an acted one)."""
    _may_decide(principal)
    _, row = recommendation_of(session, principal, store_reference, recommendation_id)
    _open(principal, row)
    return _decide(session, principal, row, State.DISMISSED)


def _decide(
    session: Session, principal: Principal, row: DiagnosisRecommendation, state: State
) -> DiagnosisRecommendation:
    """Move a proposed recommendation to `state` by a guarded update (never read-then-write:
    a concurrent decision that came first leaves nothing to update, a 409 naming `state`)."""
    decided = session.execute(
        update(DiagnosisRecommendation)
        .where(
            DiagnosisRecommendation.id == row.id,
            DiagnosisRecommendation.state == State.PROPOSED,
        )
        .values(state=state, acted_by=principal.actor, acted_at=utcnow())
        .execution_options(**NO_SYNC)
    )
    if decided.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("the recommendation was acted on or dismissed already", field="state")
    session.refresh(row)
    return row
