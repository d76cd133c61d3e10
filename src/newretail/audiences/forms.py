"""The console builder's forms: one condition from form fields, added to a rule tree."""

from __future__ import annotations

from typing import Any

from newretail.audiences.rules import rules_object
from newretail.core.errors import InvalidInput

CONDITION_KINDS = (
    "behaviour",
    "did_not",
    "aipl_stage",
    "aipl_transition",
    "attribute",
    "recency",
    "audience",
)
_LISTS = ("category", "product_id", "store_id", "channel")


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.replace("，", ",").split(",") if part.strip()]


def _number(form: dict[str, str], key: str) -> int:
    try:
        return int(form.get(key, "").strip())
    except ValueError as exc:
        raise InvalidInput("give a whole number", field=key) from exc


def _many(form: dict[str, str], prefix: str) -> list[str]:
    """Checkbox groups arrive as `<prefix>_<value>=on`."""
    return [key.removeprefix(f"{prefix}_") for key in form if key.startswith(f"{prefix}_")]


def condition_from_form(form: dict[str, str]) -> dict[str, Any]:
    """A condition (JSON) from the builder's form fields; the tree validator checks it."""
    kind = form.get("kind", "")
    if kind not in CONDITION_KINDS:
        raise InvalidInput("choose a kind of condition", field="kind")
    condition: dict[str, Any] = {"type": kind}
    brand = form.get("brand_id", "").strip()
    if kind in ("behaviour", "did_not"):
        # event types and channels are checkboxes (`event_<type>`, `channel_<channel>`) or
        # comma-separated text
        condition["events"] = _split(form.get("events", "")) + _many(form, "event")
        if brand:
            condition["brand_id"] = brand
        for key in _LISTS:
            values = _split(form.get(key, "")) + (
                _many(form, "channel") if key == "channel" else []
            )
            if values:
                condition[key] = values
        if form.get("window_days", "").strip():
            condition["window"] = {"days": _number(form, "window_days")}
        elif form.get("window_from") or form.get("window_to"):
            condition["window"] = {"from": form.get("window_from"), "to": form.get("window_to")}
        if kind == "behaviour":
            if form.get("count_value", "").strip():
                condition["count"] = {
                    "op": form.get("count_op", ">="),
                    "value": _number(form, "count_value"),
                }
            if form.get("amount_value", "").strip():
                condition["amount"] = {
                    "op": form.get("amount_op", ">="),
                    "value": form["amount_value"].strip(),
                }
    elif kind == "aipl_stage":
        condition.update(brand_id=brand, stages=_many(form, "stage"))
        if form.get("on"):
            condition["on"] = form["on"]
    elif kind == "aipl_transition":
        condition.update(
            brand_id=brand,
            from_date=form.get("from_date", ""),
            from_stages=_many(form, "from_stage"),
            to_stages=_many(form, "to_stage"),
        )
        if form.get("to_date"):
            condition["to_date"] = form["to_date"]
    elif kind == "attribute":
        field = form.get("field", "")
        condition["field"] = field
        if field == "points":
            condition.update(op=form.get("op", ">="), value=_number(form, "value"))
        elif field == "consent":
            condition["granted"] = form.get("granted", "yes") == "yes"
            if form.get("channel"):
                condition["channel"] = form["channel"]
        else:
            condition.update(
                op="not_in" if form.get("op") == "not_in" else "in",
                values=_split(form.get("values", "")),
            )
    elif kind == "recency":
        condition["bucket"] = form.get("bucket", "")
        if brand:
            condition["brand_id"] = brand
    else:
        condition["audience_id"] = form.get("audience_id", "")
    if form.get("negate") == "on":
        return {"not": condition}
    return condition


def tree_from_form(form: dict[str, str]) -> dict[str, Any]:
    """The tree the builder carries in its hidden `rules` field ({"all": []} when new)."""
    return rules_object(form.get("rules", "").strip() or '{"all": []}')


def top_level(tree: dict[str, Any], combinator: str) -> dict[str, Any]:
    """The tree as one `all` or `any` list of conditions (other trees are wrapped)."""
    key = "any" if combinator == "any" else "all"
    for existing in ("all", "any"):
        if set(tree) == {existing} and isinstance(tree[existing], list):
            return {key: list(tree[existing])}
    return {key: [tree]} if tree else {key: []}
