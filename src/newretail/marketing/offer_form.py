"""The console's offer form: its fields ↔ the API's `OfferSpec`, and the sample basket of its
live preview. One parser serves saving and previewing, so both refuse the same values under
the same form field."""

from __future__ import annotations

from typing import Any

from newretail.marketing.form_values import FormValues
from newretail.marketing.offer_specs import OfferSpec
from newretail.marketing.previews import MAX_LINES, PreviewIn

KINDS = ("amount_off", "percent_off", "threshold", "buy_x_get_y", "free_gift")
# the form fields of each benefit kind → the spec's field
KIND_FIELDS: dict[str, dict[str, str]] = {
    "amount_off": {"amount": "amount"},
    "percent_off": {"percent": "percent", "cap": "cap"},
    "threshold": {"spend": "spend", "save": "save", "max_repeats": "max_repeats"},
    "buy_x_get_y": {
        "buy": "buy",
        "get": "get",
        "max_free_quantity": "max_free_quantity",
        "bxgy_percent_off": "percent_off",
    },
    "free_gift": {"gift_sku_id": "sku_id", "gift_quantity": "quantity"},
}
SELECTORS = ("brand_ids", "category_paths", "product_ids", "sku_ids")
VALIDITY_MODES = ("always", "dates", "days_after_issue")
# engine and spec field names → the form field showing them
RENAMED = {"percent_off": "bxgy_percent_off", "sku_id": "gift_sku_id", "quantity": "gift_quantity"}


def _benefit(form: FormValues) -> dict[str, Any]:
    kind = form.one("kind")
    benefit: dict[str, Any] = {"kind": kind}
    for name, key in KIND_FIELDS.get(kind, {}).items():
        if form.one(name):
            benefit[key] = form.one(name)
    if kind == "amount_off":
        benefit["per_unit"] = form.ticked("per_unit")
    if kind == "threshold":
        benefit["repeat"] = form.one("repeat") == "per_multiple"
    return benefit


def _validity(form: FormValues) -> dict[str, Any]:
    mode = form.one("validity_mode")
    if mode == "dates":
        return {name: form.one(name) or None for name in ("first_day", "last_day")}
    if mode == "days_after_issue":
        return {"days_after_issue": form.one("days_after_issue") or None}
    return {}


def spec_payload(form: FormValues) -> dict[str, Any]:
    """The form as the API's offer JSON (validated by `OfferSpec`)."""
    payload: dict[str, Any] = {
        "code": form.one("code"),
        "name": form.one("name"),
        "brand_id": form.one("brand_id") or None,
        "benefit": _benefit(form),
        "combination_class": form.one("combination_class"),
        "combines_with": form.many("combines_with"),
        "scope": {
            "include": {s: form.many(f"scope_{s}") for s in SELECTORS},
            "exclude": {s: form.many(f"exclude_{s}") for s in SELECTORS},
        },
        "channels": {
            "reach": form.one("reach") or "everywhere",
            "channel_types": form.many("channel_types"),
            "store_ids": form.many("store_ids"),
        },
        "validity": _validity(form),
        "minimum_spend": form.one("minimum_spend") or "0",
        "priority": form.one("priority") or "100",
        "per_member_limit": form.one("per_member_limit") or None,
        "refund_rule": form.one("refund_rule") or "restore",
    }
    return payload


def preview_payload(form: FormValues) -> dict[str, Any]:
    """The offer and the sample basket of the preview (rows with no SKU are left out)."""
    lines = [
        {"sku_id": form.one(f"basket_sku_{n}"), "quantity": form.one(f"basket_qty_{n}") or "1"}
        for n in range(MAX_LINES)
        if form.one(f"basket_sku_{n}")
    ]
    return {
        "offer": spec_payload(form),
        "lines": lines,
        "channel_type": form.one("basket_channel_type") or "online",
        "shipping_fee": form.one("basket_shipping_fee") or "0",
        "day": form.one("basket_day") or None,
    }


def field_of(location: tuple[Any, ...]) -> str:
    """The form field of a refused value of the offer spec (Pydantic's location)."""
    parts = [p for p in location if isinstance(p, str)]
    if parts[:1] == ["offer"]:
        parts = parts[1:]
    elif parts[:1] == ["lines"]:
        return "basket"
    elif parts[:1] in (["channel_type"], ["shipping_fee"], ["day"]):
        return f"basket_{parts[0]}"
    if not parts:
        return "_form"
    if parts[0] == "scope" and len(parts) >= 3:
        return f"{'scope' if parts[1] == 'include' else 'exclude'}_{parts[2]}"
    if parts[0] == "benefit":
        last = parts[-1] if len(parts) > 2 else "kind"
        return RENAMED.get(last, last)
    return parts[-1]


def spec_from_form(form: FormValues) -> OfferSpec:
    return OfferSpec.model_validate(spec_payload(form))


def preview_from_form(form: FormValues) -> PreviewIn:
    return PreviewIn.model_validate(preview_payload(form))


def form_of(spec: OfferSpec) -> FormValues:
    """A saved offer as the form shows it (edit and duplicate)."""
    values: dict[str, list[str]] = {
        "code": [spec.code],
        "name": [spec.name],
        "brand_id": [str(spec.brand_id or "")],
        "kind": [spec.benefit.kind],
        "combination_class": [str(spec.combination_class)],
        "combines_with": list(spec.combines_with),
        "reach": [str(spec.channels.reach)],
        "channel_types": [str(c) for c in spec.channels.channel_types],
        "store_ids": [str(s) for s in spec.channels.store_ids],
        "minimum_spend": [str(spec.minimum_spend)],
        "priority": [str(spec.priority)],
        "per_member_limit": [str(spec.per_member_limit or "")],
        "refund_rule": [str(spec.refund_rule)],
    }
    benefit = spec.benefit.model_dump(exclude={"kind"})
    for name, key in KIND_FIELDS[spec.benefit.kind].items():
        value = benefit.get(key)
        values[name] = ["" if value is None else str(value)]
    if benefit.get("per_unit"):
        values["per_unit"] = ["on"]
    values["repeat"] = ["per_multiple" if benefit.get("repeat") else "once"]
    for side, selector in (("scope", spec.scope.include), ("exclude", spec.scope.exclude)):
        for name in SELECTORS:
            values[f"{side}_{name}"] = [str(v) for v in getattr(selector, name)]
    validity = spec.validity
    if validity.days_after_issue is not None:
        values["validity_mode"] = ["days_after_issue"]
        values["days_after_issue"] = [str(validity.days_after_issue)]
    elif validity.first_day or validity.last_day:
        values["validity_mode"] = ["dates"]
    else:
        values["validity_mode"] = ["always"]
    values["first_day"] = [str(validity.first_day or "")]
    values["last_day"] = [str(validity.last_day or "")]
    return FormValues(values)
