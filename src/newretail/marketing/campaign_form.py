"""The console's campaign planner: its fields ↔ the API's `CampaignIn`, and the one-click
Double 11 plan (pre-sale, main day, 30-day offline extension) the marketer then edits.

Stage fields are `stage_<i>_<field>` (a stage's store budgets `stage_<i>_store_<k>_<field>`);
rows left blank are not stages. The plan's rules (days in order, stages following each other,
distinct names) are checked here first, so the refusal names the field in the reader's
language; `CampaignIn` checks them again for the API."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from newretail.console.forms import FormError
from newretail.marketing.form_values import FieldOf, FormValues
from newretail.marketing.schemas import MAX_STAGES, BudgetRead, CampaignIn, CampaignRead, StageKind

STORE_ROWS = 2  # store budgets a stage row offers
LIMITS = ("issue_limit", "redeem_limit", "amount_limit")
STAGE_FIELDS = ("name", "kind", "first_day", "last_day", "reach")


def stage_rows(form: FormValues) -> list[int]:
    """The stage rows the marketer filled in (a name or a day), in order."""
    return [
        i
        for i in range(MAX_STAGES)
        if any(form.one(f"stage_{i}_{name}") for name in ("name", "first_day", "last_day"))
    ]


def _limits(form: FormValues, prefix: str) -> dict[str, str]:
    return {name: form.one(f"{prefix}_{name}") for name in LIMITS if form.one(f"{prefix}_{name}")}


def _stage(form: FormValues, i: int) -> dict[str, Any]:
    prefix = f"stage_{i}"
    store_budgets = []
    for k in range(STORE_ROWS):
        store = form.one(f"{prefix}_store_{k}_store_id")
        if store:
            store_budgets.append({"store_id": store, **_limits(form, f"{prefix}_store_{k}")})
    return {
        "name": form.one(f"{prefix}_name"),
        "kind": form.one(f"{prefix}_kind") or StageKind.OTHER,
        "first_day": form.one(f"{prefix}_first_day"),
        "last_day": form.one(f"{prefix}_last_day"),
        "channels": {
            "reach": form.one(f"{prefix}_reach") or "everywhere",
            "channel_types": form.many(f"{prefix}_channel_types"),
            "store_ids": form.many(f"{prefix}_store_ids"),
        },
        "audience_ids": form.many(f"{prefix}_audience_ids"),
        "offer_codes": form.many(f"{prefix}_offer_codes"),
        "budget": _limits(form, prefix),
        "store_budgets": store_budgets,
    }


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _check_plan(form: FormValues, rows: list[int]) -> None:
    """The plan's rules, refused under the field at fault (`marketing.plan.*` messages)."""
    if not rows:
        raise FormError.keyed("stage_0_name", "marketing.plan.no_stage")
    names: set[str] = set()
    before: tuple[int, date] | None = None
    for i in rows:
        name = form.one(f"stage_{i}_name")
        if name and name in names:
            raise FormError.keyed(f"stage_{i}_name", "marketing.plan.same_name")
        names.add(name)
        first, last = _day(form.one(f"stage_{i}_first_day")), _day(form.one(f"stage_{i}_last_day"))
        if first is None or last is None:
            continue  # the schema names the missing or unreadable day
        if last < first:
            raise FormError.keyed(f"stage_{i}_last_day", "marketing.plan.last_before_first")
        if before is not None and first <= before[1]:
            raise FormError.keyed(f"stage_{i}_first_day", "marketing.plan.overlap")
        before = (i, last)


def payload(form: FormValues) -> dict[str, Any]:
    return {
        "name": form.one("name"),
        "brand_id": form.one("brand_id") or None,
        "description": form.one("description"),
        "holdout_percent": form.one("holdout_percent") or "0",
        "stages": [_stage(form, i) for i in stage_rows(form)],
    }


def plan_from_form(form: FormValues) -> CampaignIn:
    """The plan, or a refusal naming the form field (FormError, ValidationError)."""
    _check_plan(form, stage_rows(form))
    return CampaignIn.model_validate(payload(form))


def field_of(rows: list[int]) -> FieldOf:
    """Pydantic's location in `CampaignIn` → the planner's form field (`rows`: where each
    posted stage sits on the form)."""

    def named(location: tuple[Any, ...]) -> str:
        if not location:
            return "_form"
        if location[0] != "stages" or len(location) < 2 or not isinstance(location[1], int):
            return str(location[0])
        prefix = f"stage_{rows[location[1]] if location[1] < len(rows) else location[1]}"
        rest = [str(p) for p in location[2:]]
        if rest[:1] == ["budget"] and len(rest) > 1:
            return f"{prefix}_{rest[1]}"
        if rest[:1] == ["store_budgets"] and len(rest) > 2:
            return f"{prefix}_store_{rest[1]}_{rest[2]}"
        if rest[:1] == ["channels"] and len(rest) > 1:
            return f"{prefix}_{rest[1]}" if rest[1] != "reach" else f"{prefix}_reach"
        return f"{prefix}_{rest[0]}" if rest else f"{prefix}_name"

    return named


def double_11_plan(today: date) -> list[dict[str, str]]:
    """The next Double 11 (this year's until its main day has passed): pre-sale 20–31
    October, main day 11 November, offline extension the 30 days after."""
    year = today.year if today <= date(today.year, 11, 11) else today.year + 1
    main = date(year, 11, 11)
    return [
        {
            "kind": StageKind.PRE_SALE,
            "first_day": str(date(year, 10, 20)),
            "last_day": str(date(year, 10, 31)),
            "reach": "online",
        },
        {"kind": StageKind.MAIN_DAY, "first_day": str(main), "last_day": str(main)},
        {
            "kind": StageKind.OFFLINE_EXTENSION,
            "first_day": str(main + timedelta(days=1)),
            "last_day": str(main + timedelta(days=30)),
            "reach": "offline",
        },
    ]


def form_of(campaign: CampaignRead) -> FormValues:
    """A draft's plan as the planner shows it."""
    values: dict[str, list[str]] = {
        "name": [campaign.name],
        "brand_id": [str(campaign.brand_id or "")],
        "description": [campaign.description],
        "holdout_percent": [str(campaign.holdout_percent)],
    }
    for i, stage in enumerate(campaign.stages):
        prefix = f"stage_{i}"
        channels = stage.channels
        values |= {
            f"{prefix}_name": [stage.name],
            f"{prefix}_kind": [stage.kind],
            f"{prefix}_first_day": [str(stage.first_day)],
            f"{prefix}_last_day": [str(stage.last_day)],
            f"{prefix}_reach": [str(channels.get("reach", "everywhere"))],
            f"{prefix}_channel_types": [str(c) for c in channels.get("channel_types", [])],
            f"{prefix}_store_ids": [str(s) for s in channels.get("store_ids", [])],
            f"{prefix}_audience_ids": [str(a) for a in stage.audience_ids],
            f"{prefix}_offer_codes": list(stage.offer_codes),
        }
        stores = [b for b in stage.budgets if b.store_id is not None]
        for budget in [b for b in stage.budgets if b.store_id is None][:1]:
            values |= _limit_values(prefix, budget)
        for k, budget in enumerate(stores[:STORE_ROWS]):
            values[f"{prefix}_store_{k}_store_id"] = [str(budget.store_id)]
            values |= _limit_values(f"{prefix}_store_{k}", budget)
    return FormValues(values)


def _limit_values(prefix: str, budget: BudgetRead) -> dict[str, list[str]]:
    return {
        f"{prefix}_{name}": ["" if getattr(budget, name) is None else str(getattr(budget, name))]
        for name in LIMITS
    }
