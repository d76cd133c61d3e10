"""A rule tree checked against the organisation: its catalogue, brands and saved audiences.

Parsing (`rules.parse_rules`) checks the shape; here every reference is resolved: event
types must exist, brands, stores and products may be written by id, code or name and are
stored as ids, categories as the catalogue spells them. A fault names its path
(`rules.all[2].store_id[0]`) and its reason in en and zh-CN.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from newretail.audiences import references
from newretail.audiences import rules as r
from newretail.audiences.compile_scope import Scope
from newretail.audiences.conditions import Behaviour, Condition, DidNot, SavedAudience
from newretail.audiences.errors import RuleError

_NAMED_LISTS = (("store_id", "store"), ("product_id", "product"))
_MISSING = {"store": "no_store", "product": "no_product"}


@dataclass
class _Checker:
    session: Session
    scope: Scope
    audience_id: str | None
    known_events: frozenset[str] = frozenset()
    categories: list[str] | None = None
    resolved: dict[tuple[str, str], references.Found] = field(default_factory=dict)

    def named(self, kind: str, text: str, path: str) -> str:
        key = (kind, text)
        if key not in self.resolved:
            self.resolved[key] = references.resolve_named(self.session, kind, text)
        found = self.resolved[key]
        if found.value is not None:
            return found.value
        if found.matches > 1:
            raise RuleError(path, "ambiguous", value=text, matches=found.matches)
        raise RuleError(path, _MISSING[kind], value=text)

    def brand(self, text: str, path: str) -> str:
        if text in self.scope.brands:
            return text
        found = references.resolve_named(self.session, "brand", text)
        if found.value is not None and found.value in self.scope.brands:
            return found.value
        if found.matches > 1:
            raise RuleError(path, "ambiguous", value=text, matches=found.matches)
        raise RuleError(path, "no_brand")

    def category(self, text: str, path: str) -> str:
        if self.categories is None:
            self.categories = references.category_paths(self.session)
        found = references.resolve_category(self.categories, text)
        if found.value is None:
            raise RuleError(path, "no_category", value=text)
        return found.value

    def events(self, names: list[str], path: str) -> None:
        if not self.known_events:
            self.known_events = references.event_types(self.session, self.scope.context.config)
        for index, name in enumerate(names):
            if name not in self.known_events:
                raise RuleError(f"{path}.events[{index}]", "unknown_event", value=name)

    def channels(self, channels: list[str], path: str) -> None:
        options = ", ".join(references.CHANNELS)
        for index, channel in enumerate(channels):
            if channel not in references.CHANNELS:
                where = f"{path}.channel[{index}]"
                raise RuleError(where, "unknown_channel", value=channel, options=options)

    def check(self, located: r.Located) -> Condition:
        condition, path = located.condition, located.path
        changes: dict[str, Any] = {}
        brand = getattr(condition, "brand_id", None)
        if brand is not None:
            changes["brand_id"] = self.brand(brand, f"{path}.brand_id")
        if isinstance(condition, Behaviour | DidNot):
            self.events(list(condition.events), path)
            for key, kind in _NAMED_LISTS:
                values = getattr(condition, key)
                if values is not None:
                    changes[key] = [
                        self.named(kind, value, f"{path}.{key}[{index}]")
                        for index, value in enumerate(values)
                    ]
            if condition.category is not None:
                changes["category"] = [
                    self.category(value, f"{path}.category[{index}]")
                    for index, value in enumerate(condition.category)
                ]
            self.channels(list(condition.channel or ()), path)
        if isinstance(condition, SavedAudience):
            if condition.audience_id == self.audience_id:
                raise RuleError(f"{path}.audience_id", "self_reference")
            if condition.audience_id not in self.scope.context.versions:
                raise RuleError(f"{path}.audience_id", "no_audience")
        return condition.model_copy(update=changes) if changes else condition


def validate_rules(
    session: Session, scope: Scope, raw: Any, audience_id: str | None = None, path: str = "rules"
) -> r.Node:
    """Parse a rule tree and resolve what it refers to (event types, brands, stores,
    products, categories, channels, saved audiences) in the organisation."""
    node = r.parse_rules(raw, path)
    checker = _Checker(session, scope, audience_id)
    return r.replace_conditions(node, checker.check, path)
