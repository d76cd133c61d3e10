"""Operational-store table of the operations centre: the recommendations a store's diagnosis
made, what was done about them and when, so that a later period shows whether they worked."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Date, Index, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from newretail.core.database import Base, IdMixin, TenantMixin, UtcDateTime, references


class RecommendationKind(StrEnum):
    """What a recommendation proposes (docs/diagnosis.md, "Recommendations")."""

    STOCK_TRANSFER = "stock_transfer"  # a stock-out: move units from the nearest location
    INTERESTED_CAMPAIGN = "interested_campaign"  # conversion: interested, not bought
    LAPSED_CAMPAIGN = "lapsed_campaign"  # traffic: the store's lapsed buyers
    BUYERS_CAMPAIGN = "buyers_campaign"  # order value: the store's recent buyers
    CHECK_COUNTER = "check_counter"  # data quality: no commerce action


class RecommendationState(StrEnum):
    PROPOSED = "proposed"
    ACTED = "acted"
    DISMISSED = "dismissed"


class DiagnosisRecommendation(IdMixin, TenantMixin, Base):
    """One recommendation of a store's diagnosis of a period against a base period: the
    factor and cause it answers (in money), what it proposes, and what became of it."""

    __tablename__ = "diagnosis_recommendation"
    __table_args__ = (
        UniqueConstraint(
            "organization_id",
            "store_id",
            "first_day",
            "last_day",
            "base_first_day",
            "base_last_day",
            "kind",
            name="uq_diagnosis_recommendation_period_kind",
        ),
        Index("ix_diagnosis_recommendation_store", "organization_id", "store_id", "last_day"),
    )
    organization_index = False  # both indexes start with it

    store_id: Mapped[uuid.UUID] = references("store", index=False)
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    base_first_day: Mapped[date] = mapped_column(Date)
    base_last_day: Mapped[date] = mapped_column(Date)
    factor: Mapped[str] = mapped_column(String(20))  # visitors, conversion, order_value
    # what explains it: a dimension of the search (stock_out, sku, category, hour), the
    # factor itself (no value explains it), or counter_silence (data quality)
    cause: Mapped[str] = mapped_column(String(20))
    cause_key: Mapped[str | None] = mapped_column(String(64), nullable=True)
    cause_label: Mapped[str | None] = mapped_column(String(200), nullable=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))  # the cause's, in money
    factor_amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))  # the factor's part then
    kind: Mapped[str] = mapped_column(String(30))
    state: Mapped[str] = mapped_column(String(10), default=RecommendationState.PROPOSED)
    # what the action needs (SKU, quantity, source location; the audience's rules) and the
    # base period's figures (visitors, buyers, GMV) a later period is compared with
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # the objects acting created: [{"type": "audience" | "campaign" | "stock_transfer",
    # "id": ..., "name": ...}]
    created_objects: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    acted_by: Mapped[str | None] = mapped_column(String(254), nullable=True)
    acted_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class DeliveryState(StrEnum):
    SENDING = "sending"  # claimed by a server; an interrupted send is retried after a while
    SENT = "sent"
    FAILED = "failed"  # the SMTP server refused it; retried up to MAX_ATTEMPTS


class ReportDelivery(IdMixin, TenantMixin, Base):
    """One weekly store report e-mailed by the server's schedule to one store manager: claimed
    before it is sent, so two servers never send it twice."""

    __tablename__ = "diagnosis_report_delivery"
    __table_args__ = (
        UniqueConstraint(
            "organization_id",
            "store_id",
            "week_first",
            "email",
            name="uq_diagnosis_report_delivery_week_email",
        ),
    )
    organization_index = False  # the unique key starts with it

    store_id: Mapped[uuid.UUID] = references("store")
    week_first: Mapped[date] = mapped_column(Date)  # the report's Monday (store's local days)
    email: Mapped[str] = mapped_column(String(254))
    locale: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(10), default=DeliveryState.SENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
