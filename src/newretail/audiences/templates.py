"""Ready-made audiences for the common O2O scenarios, as rule trees with parameters."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from newretail.core.errors import InvalidInput, NotFound
from newretail.databank.config import DatabankConfig

VISIT_EVENTS = ["store_visit", "counter_approach", "screen_exposure"]


@dataclass(frozen=True)
class TemplateParameters:
    as_of: date
    brand_id: str | None = None
    start: date | None = None
    end: date | None = None
    days: int | None = None
    config: DatabankConfig = field(default_factory=DatabankConfig)


@dataclass(frozen=True)
class Template:
    key: str
    name: str
    description: str
    parameters: tuple[str, ...]
    build: Callable[[TemplateParameters], dict[str, Any]]


def _brand(p: TemplateParameters) -> dict[str, Any]:
    return {} if p.brand_id is None else {"brand_id": p.brand_id}


def _presale(p: TemplateParameters) -> dict[str, Any]:
    start = p.start or p.as_of - timedelta(days=20)
    end = p.end or p.as_of
    if end < start:
        raise InvalidInput("end must not be before start", field="end")
    window = {"from": start.isoformat(), "to": end.isoformat()}
    return {
        "all": [
            {"type": "behaviour", "events": ["add_to_cart"], "window": window, **_brand(p)},
            {"type": "did_not", "events": ["purchase"], "window": window, **_brand(p)},
        ]
    }


def _popup(p: TemplateParameters) -> dict[str, Any]:
    return {
        "all": [
            {
                "type": "behaviour",
                "events": VISIT_EVENTS,
                "channel": ["popup"],
                "window": {"days": p.days or 90},
                **_brand(p),
            },
            {"type": "did_not", "events": list(p.config.purchase_events), **_brand(p)},
        ]
    }


def _lapsed(p: TemplateParameters) -> dict[str, Any]:
    return {"all": [{"type": "recency", "bucket": "90_365", **_brand(p)}]}


def _interested(p: TemplateParameters) -> dict[str, Any]:
    return {
        "all": [
            {
                "type": "behaviour",
                "events": list(p.config.interest_events),
                "window": {"days": p.days or 15},
                **_brand(p),
            },
            {"type": "did_not", "events": list(p.config.purchase_events), **_brand(p)},
        ]
    }


TEMPLATES = {
    t.key: t
    for t in (
        Template(
            "presale_cart_no_purchase",
            "Added to cart during the pre-sale and did not buy",
            "add_to_cart between start and end, and no purchase in those days",
            ("brand_id", "start", "end"),
            _presale,
        ),
        Template(
            "popup_visitors_never_bought",
            "Pop-up visitors who never purchased",
            "visited a pop-up store (visit, counter approach or screen) in the last `days` "
            "days (default 90) and never purchased",
            ("brand_id", "days"),
            _popup,
        ),
        Template(
            "lapsed_buyers",
            "Lapsed buyers (90–365 days)",
            "last purchase 90 to 364 days ago",
            ("brand_id",),
            _lapsed,
        ),
        Template(
            "interested_never_bought",
            "Interested in the last 15 days, never bought",
            "an interest event (the Data Bank's I events) in the last `days` days "
            "(default 15) and never a purchase",
            ("brand_id", "days"),
            _interested,
        ),
    )
}


def get_template(key: str) -> Template:
    template = TEMPLATES.get(key)
    if template is None:
        raise NotFound("template not found", field="template")
    return template
