"""Rule trees as sentences in the reader's language, with names instead of ids.

The builder, the audience page and the CLI show conditions this way ("Had Add to cart —
brand Tea House, at Jing'an store, in the last 30 days, at least 2 times"); the JSON stays
the stored form. Labels come from the catalogues: event types (`timelines.event.*`), channels
(`channel.*`), AIPL stages (`databank.stage.*`), genders (`gender.*`) and this domain's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from newretail.audiences import conditions, references
from newretail.audiences import rules as r
from newretail.audiences.models import Audience
from newretail.core.i18n import Translate

SAY = "audiences.say."
_OPS = {">=": "at_least", ">": "more_than", "=": "exactly", "!=": "not_exactly", "<=": "at_most"}


@dataclass(frozen=True)
class Names:
    """Names of what a tree refers to, by id (ids without a name are shown as they are)."""

    brands: dict[str, str] = field(default_factory=dict)
    stores: dict[str, str] = field(default_factory=dict)
    products: dict[str, str] = field(default_factory=dict)
    audiences: dict[str, str] = field(default_factory=dict)


def names_for(session: Session, trees: Iterable[r.Node]) -> Names:
    """The names of every brand, store, product and saved audience the trees refer to."""
    brands: set[str] = set()
    stores: set[str] = set()
    products: set[str] = set()
    audiences: set[str] = set()
    for tree in trees:
        for located in r.conditions(tree):
            condition = located.condition
            brand = getattr(condition, "brand_id", None)
            if brand is not None:
                brands.add(brand)
            if isinstance(condition, conditions.Behaviour | conditions.DidNot):
                stores |= set(condition.store_id or ())
                products |= set(condition.product_id or ())
            if isinstance(condition, conditions.SavedAudience):
                audiences.add(condition.audience_id)
    audience_names = {
        str(a_id): name
        for a_id, name in session.execute(select(Audience.id, Audience.name))
        if str(a_id) in audiences
    }
    return Names(
        brands=references.names_of(session, "brand", brands),
        stores=references.names_of(session, "store", stores),
        products=references.names_of(session, "product", products),
        audiences=audience_names,
    )


@dataclass(frozen=True)
class Sentences:
    """Says rule trees in one language (`t`) with `names`."""

    t: Translate
    names: Names

    def _say(self, key: str, **values: object) -> str:
        return self.t(SAY + key, **values)

    def _list(self, items: Iterable[str], joiner: str = "list") -> str:
        return self._say(f"join.{joiner}").join(items)

    def _label(self, prefix: str, value: str) -> str:
        key = f"{prefix}{value}"
        text = self.t(key)
        return value if text == key else text

    def _op(self, op: str, value: object, unit: str = "value") -> str:
        if op == "<":
            return self._say(f"{unit}.fewer_than", value=value)
        return self._say(f"{unit}.{_OPS[op]}", value=value)

    def tree(self, node: r.Node) -> str:
        """A whole tree (groups in brackets)."""
        if isinstance(node, r.Not):
            return self._say("not", rule=self.tree(node.child))
        if isinstance(node, r.All | r.Any_):
            key = "all" if isinstance(node, r.All) else "any"
            return self._say(key, rules=self._list((self.tree(c) for c in node.children), "rules"))
        return self.condition(node)

    def top_level(self, node: r.Node) -> list[str]:
        """One sentence per condition of a top-level all/any list (else the whole tree)."""
        if isinstance(node, r.All | r.Any_):
            return [self.tree(child) for child in node.children]
        return [self.tree(node)]

    def condition(self, c: conditions.Condition) -> str:
        """One condition."""
        if isinstance(c, conditions.Behaviour | conditions.DidNot):
            return self._events(c)
        if isinstance(c, conditions.AiplStage):
            return self._say(
                "aipl_stage",
                stages=self._stages(c.stages),
                brand=self._brand(c.brand_id),
                on=c.on.isoformat() if c.on else self._say("reference_date"),
            )
        if isinstance(c, conditions.AiplTransition):
            return self._say(
                "aipl_transition",
                brand=self._brand(c.brand_id),
                from_stages=self._stages(c.from_stages),
                from_date=c.from_date.isoformat(),
                to_stages=self._stages(c.to_stages),
                to_date=c.to_date.isoformat() if c.to_date else self._say("reference_date"),
            )
        if isinstance(c, conditions.AttributeIn):
            values = self._list(self._attribute_value(c.field, v) for v in c.values)
            field_name = self.t(f"audiences.field.{c.field}")
            return self._say(f"attribute.{c.op}", field=field_name, values=values)
        if isinstance(c, conditions.PointsAttribute):
            return self._say("points", comparison=self._op(c.op, c.value))
        if isinstance(c, conditions.ConsentAttribute):
            channel = (
                self._label("audiences.consent_channel.", c.channel)
                if c.channel
                else self._say("any_channel")
            )
            return self._say("consent.granted" if c.granted else "consent.refused", channel=channel)
        if isinstance(c, conditions.Recency):
            sentence = self._say("recency", bucket=self.t(f"audiences.bucket.{c.bucket}"))
            if c.brand_id is not None:
                sentence += self._say("join.parts") + self._say(
                    "brand", name=self._brand(c.brand_id)
                )
            return sentence
        name = self.names.audiences.get(c.audience_id, c.audience_id)
        return self._say("audience", name=name)

    def _brand(self, brand_id: str) -> str:
        return self.names.brands.get(brand_id, brand_id)

    def _stages(self, stages: Iterable[str]) -> str:
        return self._list((self._label("databank.stage.", s) for s in stages), "or")

    def _attribute_value(self, field_name: str, value: str) -> str:
        if value == "unknown" and field_name in ("gender", "age_band"):
            return self.t("audiences.unknown")
        if field_name == "gender":
            return self._label("gender.", value)
        if field_name == "age_band":
            return self._label("audiences.age_band.", value)
        return value

    def _events(self, c: conditions.Behaviour | conditions.DidNot) -> str:
        events = self._list((self._label("timelines.event.", e) for e in c.events), "or")
        head = self._say(
            "behaviour" if isinstance(c, conditions.Behaviour) else "did_not", events=events
        )
        parts: list[str] = []
        if c.brand_id is not None:
            parts.append(self._say("brand", name=self._brand(c.brand_id)))
        if c.store_id:
            names = (self.names.stores.get(s, s) for s in c.store_id)
            parts.append(self._say("stores", names=self._list(names)))
        if c.product_id:
            names = (self.names.products.get(p, p) for p in c.product_id)
            parts.append(self._say("products", names=self._list(names)))
        if c.category:
            parts.append(self._say("categories", names=self._list(c.category)))
        if c.channel:
            channels = (self._label("channel.", ch) for ch in c.channel)
            parts.append(self._say("channels", names=self._list(channels)))
        if c.window is not None and c.window.days is not None:
            parts.append(self._say("last_days", days=c.window.days))
        elif c.window is not None and c.window.start and c.window.end:
            start, end = c.window.start.isoformat(), c.window.end.isoformat()
            parts.append(self._say("between", start=start, end=end))
        if isinstance(c, conditions.Behaviour) and c.count is not None:
            parts.append(self._op(c.count.op, c.count.value, "times"))
        if isinstance(c, conditions.Behaviour) and c.amount is not None:
            parts.append(self._say("amount", comparison=self._op(c.amount.op, c.amount.value)))
        if not parts:
            return head
        return head + self._say("join.detail") + self._list(parts, "parts")
