"""What the audiences' console pages show: conditions as sentences, the builder's choices
(event types, stores, products, brands by name) and insight values as labels."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from newretail.audiences import references
from newretail.audiences import rules as r
from newretail.audiences.compile_scope import compile_scope
from newretail.audiences.sentences import Sentences, names_for
from newretail.audiences.validation import validate_rules
from newretail.catalog.models import Product
from newretail.core.errors import NewRetailError
from newretail.core.i18n import Translate
from newretail.databank import service as databank_service
from newretail.tenancy.models import Brand, Store
from newretail.tenancy.permissions import Principal

PRODUCT_CHOICES = 500


@dataclass(frozen=True)
class ConditionRow:
    """One top-level condition of the builder: its sentence (or its JSON while invalid)."""

    sentence: str | None
    json: str


def condition_rows(
    session: Session, principal: Principal, conditions: list[Any], t: Translate
) -> list[ConditionRow]:
    """The builder's conditions as sentences in the reader's language (with the names of
    what codes refer to; a condition that does not validate shows its JSON)."""
    scope = compile_scope(session, principal, None)
    parsed: list[r.Node | None] = []
    for raw in conditions:
        try:
            parsed.append(validate_rules(session, scope, raw))
        except NewRetailError:
            parsed.append(None)
    say = Sentences(t, names_for(session, [p for p in parsed if p is not None]))
    return [
        ConditionRow(None if node is None else say.tree(node), json.dumps(raw, ensure_ascii=False))
        for raw, node in zip(conditions, parsed, strict=True)
    ]


def rule_sentences(session: Session, rules: dict[str, Any], t: Translate) -> list[str]:
    """A saved audience's rules, one sentence per top-level condition."""
    node = r.parse_rules(rules)
    return Sentences(t, names_for(session, [node])).top_level(node)


def combinator_of(rules: dict[str, Any]) -> str:
    return "any" if set(rules) == {"any"} else "all"


def event_choices(session: Session, principal: Principal, t: Translate) -> list[tuple[str, str]]:
    """(event type, label) of every event type of the organisation, by label."""
    config = databank_service.get_config(session, principal)
    found = references.event_types(session, config)
    labelled = []
    for name in found:
        key = f"timelines.event.{name}"
        label = t(key)
        labelled.append((name, name if label == key else label))
    return sorted(labelled, key=lambda pair: pair[1].casefold())


def builder_choices(session: Session, principal: Principal, t: Translate) -> dict[str, Any]:
    """What the builder's forms offer: brands, stores, products, categories, event types."""
    stores = session.execute(select(Store.code, Store.name).order_by(Store.name)).all()
    products = session.execute(
        select(Product.code, Product.name).order_by(Product.name).limit(PRODUCT_CHOICES)
    ).all()
    return {
        "brands": list(session.scalars(select(Brand).order_by(Brand.name))),
        "stores": stores,
        "products": products,
        "categories": references.category_paths(session),
        "event_types": event_choices(session, principal, t),
        "channels": references.CHANNELS,
    }


def insight_label(t: Translate, dimension: str, value: str | None) -> str:
    """An insight cell's value as a reader reads it (stages, channels, genders, age bands)."""
    if value is None:
        key = "audiences.none." + dimension
        text = t(key)
        return t("audiences.none") if text == key else text
    prefix = {
        "aipl_stage": "databank.stage.",
        "preferred_channel": "channel.",
        "gender": "gender.",
        "age_band": "audiences.age_band.",
    }.get(dimension)
    if prefix is None:
        return value
    if value == "unknown":
        return t("audiences.unknown")
    key = prefix + value
    text = t(key)
    return value if text == key else text
