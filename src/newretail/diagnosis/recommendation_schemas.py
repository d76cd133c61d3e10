"""Pydantic reads of a store's recommendations (money as decimal strings, ISO days): each
with its sentence in the reader's language, what it created with links to the console, and
the earlier ones with their factor's part then and now."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from pydantic import BaseModel, Field

from newretail.core.i18n import Translate
from newretail.core.localtime import local_day
from newretail.core.money import yuan
from newretail.diagnosis.cause_schemas import value_label
from newretail.diagnosis.decomposition import Factor
from newretail.diagnosis.models import DiagnosisRecommendation, RecommendationKind
from newretail.diagnosis.recommendation_flows import PERMISSION_OF, StoreRecommendations
from newretail.diagnosis.schemas import PartsRead, PeriodRead, period_read
from newretail.diagnosis.service import Period
from newretail.tenancy.permissions import Principal

Kind = RecommendationKind


class CreatedRead(BaseModel):
    """An object acting created, with its console page."""

    type: str = Field(description="audience, campaign or stock_transfer")
    type_label: str
    id: str = Field(description="The audience's or campaign's id, the transfer's reference")
    name: str
    url: str


class RecommendationRead(BaseModel):
    """One recommendation: the factor and cause it answers in money, the sentence, what
    acting needs and did."""

    id: uuid.UUID
    kind: str
    kind_label: str
    text: str
    factor: str
    factor_label: str
    cause: str = Field(
        description=(
            "stock_out, sku, category, hour, traffic_source, campaign, factor or counter_silence"
        )
    )
    cause_key: str | None
    cause_label: str | None
    amount: Decimal = Field(description="The cause's amount (the factor's part without one)")
    factor_amount: Decimal = Field(description="The factor's part in the period")
    period: PeriodRead
    base_period: PeriodRead
    state: str = Field(description="proposed, acted or dismissed")
    state_label: str
    permission: str = Field(description="The permission acting or dismissing needs")
    can_act: bool
    detail: dict[str, Any]
    created: list[CreatedRead]
    acted_by: str | None
    acted_at: datetime | None


class EarlierRead(BaseModel):
    """An earlier recommendation, its factor's part then and now (against its base period)."""

    recommendation: RecommendationRead
    factor_then: Decimal
    factor_now: Decimal
    text: str = Field(description='"conversion -¥2,156.00 → -¥12.00 after the transfer on …"')


class StoreRecommendationsRead(BaseModel):
    """A store's recommendations for a period and its earlier ones (docs/diagnosis.md)."""

    store_code: str | None
    store_name: str | None
    time_zone: str
    period: PeriodRead
    base_period: PeriodRead
    change: Decimal
    parts: PartsRead
    weakest_factor: str | None
    weakest_label: str | None
    recommendations: list[RecommendationRead]
    earlier: list[EarlierRead]


def console_url(created: dict[str, Any]) -> str:
    """The console page of an object a recommendation created."""
    if created["type"] == "audience":
        return f"/console/audiences/{created['id']}"
    if created["type"] == "campaign":
        return f"/console/marketing/campaigns/{created['id']}"
    query = urlencode({"location_id": created.get("location_id", ""), "reference": created["id"]})
    return f"/console/stock/movements?{query}"


def _period(first: date, last: date) -> PeriodRead:
    return period_read(Period(first, last))


def sentence(row: DiagnosisRecommendation, store_name: str, t: Translate) -> str:
    """What the recommendation proposes, in `t`'s language."""
    detail = row.detail
    factor = t(f"diagnosis.factor.{row.factor}")
    amount = yuan(row.amount)
    kind = Kind(row.kind)
    if kind is Kind.CHECK_COUNTER:
        return t(
            "diagnosis.rec.check_counter",
            store=store_name,
            days=", ".join(detail.get("days", [])),
            amount=yuan(row.amount, signed=True),
        )
    if kind is Kind.STOCK_TRANSFER:
        source = detail.get("source")
        values = {
            "sku": row.cause_label or detail.get("sku_label") or row.cause_key,
            "store": store_name,
            "factor": factor,
            "amount": amount,
            "days": len(detail.get("stock_out_days", [])),
        }
        if source is None:
            return t("diagnosis.rec.stock_transfer.no_source", **values)
        if detail.get("quantity") is None:
            return t("diagnosis.rec.stock_transfer.no_quantity", source=source["name"], **values)
        return t(
            "diagnosis.rec.stock_transfer",
            source=source["name"],
            quantity=detail["quantity"],
            **values,
        )
    label = row.cause_label
    if label and row.cause_key:  # a traffic source or a channel type in `t`'s language
        label = value_label(row.cause, row.cause_key, label, t)
    cause = t("diagnosis.rec.cause", label=label) if label else ""
    return t(
        f"diagnosis.rec.{kind}",
        store=store_name,
        first=row.first_day.isoformat(),
        last=row.last_day.isoformat(),
        holdout=detail.get("holdout_percent", 0),
        factor=factor,
        amount=amount,
        cause=cause,
    )


def recommendation_read(
    row: DiagnosisRecommendation, store_name: str, principal: Principal, t: Translate
) -> RecommendationRead:
    permission = PERMISSION_OF[Kind(row.kind)]
    return RecommendationRead(
        id=row.id,
        kind=row.kind,
        kind_label=t(f"diagnosis.rec.kind.{row.kind}"),
        text=sentence(row, store_name, t),
        factor=row.factor,
        factor_label=t(f"diagnosis.factor.{row.factor}"),
        cause=row.cause,
        cause_key=row.cause_key,
        cause_label=row.cause_label,
        amount=row.amount,
        factor_amount=row.factor_amount,
        period=_period(row.first_day, row.last_day),
        base_period=_period(row.base_first_day, row.base_last_day),
        state=row.state,
        state_label=t(f"diagnosis.rec.state.{row.state}"),
        permission=permission,
        can_act=row.state == "proposed" and principal.can(permission),
        detail=row.detail,
        created=[
            CreatedRead(
                type=c["type"],
                type_label=t(f"diagnosis.rec.object.type.{c['type']}"),
                id=c["id"],
                name=c["name"],
                url=console_url(c),
            )
            for c in row.created_objects
        ],
        acted_by=row.acted_by,
        acted_at=row.acted_at,
    )


def memory_text(row: DiagnosisRecommendation, now: Decimal, zone: str, t: Translate) -> str:
    """ "conversion -¥2,156.00 → -¥12.00 after the transfer on 2026-11-15" (local day)."""
    day = local_day(row.acted_at, zone).isoformat() if row.acted_at else "—"
    if row.state == "acted":
        outcome = t(
            "diagnosis.rec.outcome.acted", action=t(f"diagnosis.rec.action.{row.kind}"), day=day
        )
    else:
        outcome = t("diagnosis.rec.outcome.dismissed", day=day)
    return t(
        "diagnosis.rec.memory",
        factor=t(f"diagnosis.factor.{row.factor}"),
        then=yuan(row.factor_amount, signed=True),
        now=yuan(now, signed=True),
        outcome=outcome,
    )


def store_recommendations_read(
    found: StoreRecommendations, principal: Principal, t: Translate
) -> StoreRecommendationsRead:
    """A store's recommendations with names, labels and sentences in `t`'s language."""
    diagnosis = found.diagnosis
    store = diagnosis.store
    name = store.name or store.code or ""
    split = diagnosis.decomposition
    weakest = found.weakest
    return StoreRecommendationsRead(
        store_code=store.code,
        store_name=store.name,
        time_zone=diagnosis.time_zone,
        period=period_read(diagnosis.period),
        base_period=period_read(diagnosis.base_period),
        change=split.change,
        parts=PartsRead(
            visitors=split.parts[Factor.VISITORS],
            conversion=split.parts[Factor.CONVERSION],
            order_value=split.parts[Factor.ORDER_VALUE],
        ),
        weakest_factor=None if weakest is None else str(weakest),
        weakest_label=None if weakest is None else t(f"diagnosis.factor.{weakest}"),
        recommendations=[recommendation_read(r, name, principal, t) for r in found.current],
        earlier=[
            EarlierRead(
                recommendation=recommendation_read(e.recommendation, name, principal, t),
                factor_then=e.recommendation.factor_amount,
                factor_now=e.now,
                text=memory_text(e.recommendation, e.now, diagnosis.time_zone, t),
            )
            for e in found.earlier
        ],
    )
