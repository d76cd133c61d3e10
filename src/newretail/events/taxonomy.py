"""The built-in event types (DESIGN.md's taxonomy) and the JSON Schema of their properties.

Schemas use a subset of JSON Schema: `type`, `properties`, `required`, `additionalProperties`,
`enum`, `minimum`, `maximum`, `minLength`, `maxLength` and `items`. Organisations register
custom types with a schema in the same subset (see `events.validation.compile_schema`).
"""

from __future__ import annotations

from typing import Any

_ID: dict[str, Any] = {"type": "string", "minLength": 1, "maxLength": 100}
_TEXT: dict[str, Any] = {"type": "string", "maxLength": 500}
_PRODUCT: dict[str, dict[str, Any]] = {
    "product_id": _ID,
    "sku": _ID,
    "category": _TEXT,
    "price": {"type": "number"},
}


def _schema(*required: str, **properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(required)}


# Event types whose events must name a store (offline scenes happen somewhere).
# an event type's name (built-in or custom): what the collector, the custom-type registry and
# every setting that names event types (the Data Bank's stages) accept
TYPE_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"

NEEDS_STORE = frozenset(
    {
        "store_visit",
        "counter_approach",
        "shelf_browse",
        "screen_exposure",
        "district_enter",
        "footfall",
    }
)
# Event types whose events carry an amount.
NEEDS_AMOUNT = frozenset({"purchase"})

BUILT_IN: dict[str, dict[str, Any]] = {
    # awareness: passive contact
    "ad_impression": _schema(campaign=_TEXT, ad_id=_ID, placement=_TEXT),
    "screen_exposure": _schema(screen_id=_ID, duration_s={"type": "number", "minimum": 0}),
    "district_enter": _schema("district", district=_TEXT, beacon_id=_ID),
    "category_search": _schema("category", category=_TEXT, query=_TEXT),
    # interest: active contact
    "ad_click": _schema(campaign=_TEXT, ad_id=_ID),
    "store_visit": _schema(dwell_s={"type": "number", "minimum": 0}),
    "counter_approach": _schema(distance_m={"type": "number", "minimum": 0}, beacon_id=_ID),
    "product_view": _schema("product_id", **_PRODUCT),
    "shelf_browse": _schema(**_PRODUCT, screen_id=_ID),
    "brand_search": _schema("query", query=_TEXT),
    "add_to_cart": _schema("product_id", **_PRODUCT, quantity={"type": "integer", "minimum": 1}),
    "favorite": _schema("product_id", **_PRODUCT),
    "trial_claim": _schema(**_PRODUCT),
    "follow": _schema(account=_TEXT),
    "member_join": _schema(),
    "coupon_claim": _schema(coupon_id=_ID, template_id=_ID),
    # purchase and loyalty
    "purchase": _schema(order_id=_ID, items={"type": "array"}),
    "review": _schema(
        "rating",
        rating={"type": "number", "minimum": 1, "maximum": 5},
        positive={"type": "boolean"},
        product_id=_ID,
        text={"type": "string", "maxLength": 2000},
    ),
    "share": _schema(product_id=_ID, target=_TEXT),
    # identity and navigation (Segment calls); no AIPL stage
    "identify": _schema(),
    "alias": _schema(),
    "page_view": _schema(name=_TEXT, url={"type": "string", "maxLength": 2000}),
    "screen_view": _schema(name=_TEXT),
    "group": _schema(group_id=_ID),
    # a people counter's entries at a store's door since its previous report: no person, no
    # AIPL stage; the operations centre's offline visitors (docs/diagnosis.md, "Metrics")
    "footfall": _schema("count", count={"type": "integer", "minimum": 0}, sensor_id=_ID),
}

# Commerce facts the services write to the outbox beside the touchpoints above (not sent by
# touchpoints, so they have no schema here), in the order a list offers them.
FACT_EVENTS = (
    "order_placed",
    "order_refunded",
    "order_cancelled",
    "consent_changed",
    "points_changed",
    "tier_changed",
    # marketing's coupon ledger (held and released coupons stay in the ledger only)
    "coupon_issued",
    "coupon_redeemed",
    "coupon_restored",
    "coupon_expired",
    "coupon_voided",
)
