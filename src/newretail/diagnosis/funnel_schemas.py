"""Pydantic reads of the funnels API (docs/diagnosis.md, "Funnels")."""

from __future__ import annotations

from pydantic import BaseModel

from newretail.core.i18n import Translate
from newretail.diagnosis.funnels import Funnel
from newretail.diagnosis.schemas import PeriodRead, period_read


class FunnelStepRead(BaseModel):
    """The people who reached a step, and the share of the previous required step's."""

    step: str
    label: str
    event_types: list[str]
    where: str  # online or offline
    optional: bool
    people: int
    from_previous: float | None
    from_first: float | None


class FunnelRead(BaseModel):
    kind: str
    kind_label: str
    time_zone: str
    period: PeriodRead
    window_days: int
    store_code: str | None
    store_name: str | None
    entered: int
    converted: int
    conversion: float | None  # converted ÷ entered
    steps: list[FunnelStepRead]


def funnel_read(found: Funnel, t: Translate) -> FunnelRead:
    """The funnel with its labels in `t`'s language."""
    return FunnelRead(
        kind=found.kind,
        kind_label=t(f"diagnosis.funnel.kind.{found.kind}"),
        time_zone=found.time_zone,
        period=period_read(found.period),
        window_days=found.window_days,
        store_code=None if found.store is None else found.store.code,
        store_name=None if found.store is None else found.store.name,
        entered=found.entered,
        converted=found.converted,
        conversion=None if not found.entered else found.converted / found.entered,
        steps=[
            FunnelStepRead(
                step=s.step.key,
                label=t(f"diagnosis.funnel.step.{s.step.key}"),
                event_types=list(s.step.types),
                where=s.step.where,
                optional=s.step.optional,
                people=s.people,
                from_previous=s.from_previous,
                from_first=s.from_first,
            )
            for s in found.steps
        ],
    )
