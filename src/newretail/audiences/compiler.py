"""Rule trees compiled to one Ibis expression over the warehouse.

The whole tree becomes one query: every behaviour, did-not and recency condition is one
conditional aggregate of a single scan of the event table; the member dimension is the
universe; AIPL stages and saved audiences are left-joined as flags; `all` / `any` / `not`
are boolean operators over those columns. Days are the organisation's local calendar days
(`CompileContext.zone`): a window of days is the half-open UTC interval from the local
midnight of its first day to the local midnight after its last, inclusive of both days and
ending on the reference date at the latest (as in the Data Bank).
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir

from newretail.audiences import conditions
from newretail.audiences import rules as r
from newretail.audiences.tables import AUDIENCE_MEMBER_TABLE, CONSENT_CHANNELS, MEMBER_DIM_TABLE
from newretail.catalog import pricing
from newretail.core import localtime
from newretail.databank import queries as databank_queries
from newretail.databank import snapshots as databank_snapshots
from newretail.databank.config import DatabankConfig
from newretail.warehouse.connection import EVENT_TABLE

Expr = Any  # an Ibis table expression (ibis ships no type stubs)
EPOCH = date(1970, 1, 1)
_OPS: dict[str, Callable[[Any, Any], Any]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "=": operator.eq,
    "!=": operator.ne,
    "<=": operator.le,
    "<": operator.lt,
}
_REGEX_SPECIAL = set(".^$*+?()[]{}|\\/-")


@dataclass(frozen=True)
class CompileContext:
    """What compiling a tree needs besides the tree."""

    organization_id: str
    brands: Sequence[str]
    as_of: date
    config: DatabankConfig = field(default_factory=DatabankConfig)
    # saved audience id -> its current stored version (None: never refreshed)
    versions: dict[str, str | None] = field(default_factory=dict)
    # the organisation's IANA time zone (None: localtime.DEFAULT_ZONE)
    zone: str | None = None

    def day_start(self, day: date) -> datetime:
        """The UTC instant of the local midnight that starts `day`."""
        return localtime.local_day_bounds(day, self.zone)[0]

    def day_end(self, day: date) -> datetime:
        """The UTC instant of the local midnight after `day` (exclusive end)."""
        return localtime.local_day_bounds(day, self.zone)[1]


def utc_instant(moment: datetime) -> Any:
    """An instant as an Ibis literal (timestamp in UTC)."""
    return ibis.literal(moment, type="timestamp('UTC')")


def _regex_text(value: str) -> str:
    return "".join("\\" + c if c in _REGEX_SPECIAL else c for c in value)


def property_pattern(key: str, values: Sequence[str], *, subtree: bool = False) -> str:
    """A regex matching `"key": "value"` anywhere in the JSON text of `properties`.

    It finds top-level properties (touchpoints) and those inside order lines (purchases);
    values are matched as written (UTF-8) and as \\u escapes. With `subtree` (categories)
    a value also matches the paths under it (`Tea` matches `Tea/Green`) and, for the top of
    the tree, its form in order lines (`tea`: the catalogue's rule, catalog.pricing.category_of).
    """
    forms: list[str] = []
    for value in values:
        spellings = [value]
        top = pricing.category_of(value) if subtree and "/" not in value else None
        if top is not None and top != value:  # a top category, as order lines name it
            spellings.append(top)
        for spelling in spellings:
            for encoded in (
                json.dumps(spelling, ensure_ascii=False)[1:-1],
                json.dumps(spelling)[1:-1],
            ):
                text = _regex_text(encoded)
                for form in (text, text + '/[^"]*') if subtree else (text,):
                    if form not in forms:
                        forms.append(form)
    return f'"{key}"' + r'\s*:\s*"(' + "|".join(forms) + ')"'


def age_band(birth_year: ir.IntegerValue, as_of: date) -> ir.StringValue:
    """The age band of a birth year on the reference date (`unknown` without one)."""
    age = ibis.literal(as_of.year) - birth_year
    return ibis.cases(
        (birth_year.isnull(), "unknown"),
        (age < 18, "under_18"),
        (age < 25, "18_24"),
        (age < 35, "25_34"),
        (age < 45, "35_44"),
        (age < 55, "45_54"),
        else_="55_plus",
    )


def universe(con: Any, organization_id: str) -> Expr:
    """Every member that can be in an audience (the member dimension of the organisation)."""
    dim = con.table(MEMBER_DIM_TABLE)
    return dim.filter(dim.organization_id == organization_id)


# ---------------------------------------------------------------- compiling
@dataclass
class _Compiler:
    con: Any
    context: CompileContext
    event_leaves: list[
        tuple[str, conditions.Behaviour | conditions.DidNot | conditions.Recency]
    ] = field(default_factory=list)
    flag_tables: list[tuple[str, Expr]] = field(default_factory=list)
    columns: dict[int, str] = field(default_factory=dict)

    # -- pass 1: give every condition that needs events or a joined table a column
    def collect(self, node: r.Node) -> None:
        if isinstance(node, r.Not):
            self.collect(node.child)
        elif isinstance(node, r.All | r.Any_):
            for child in node.children:
                self.collect(child)
        elif isinstance(node, conditions.Behaviour | conditions.DidNot | conditions.Recency):
            name = f"e{len(self.event_leaves)}"
            self.columns[id(node)] = name
            self.event_leaves.append((name, node))
        elif isinstance(
            node, conditions.AiplStage | conditions.AiplTransition | conditions.SavedAudience
        ):
            name = f"f{len(self.flag_tables)}"
            self.columns[id(node)] = name
            self.flag_tables.append((name, self.flag_table(node)))

    def window(self, window: conditions.Window | None) -> tuple[date, date]:
        if window is None:
            return EPOCH, self.context.as_of
        return window.bounds(self.context.as_of)

    def event_filter(
        self, events: Expr, leaf: conditions.Behaviour | conditions.DidNot
    ) -> ir.BooleanValue:
        start, end = self.window(leaf.window)
        condition = events.type.isin(list(leaf.events))
        if start > EPOCH:
            condition &= events.ts >= utc_instant(self.context.day_start(start))
        if end < self.context.as_of:
            condition &= events.ts < utc_instant(self.context.day_end(end))
        if leaf.brand_id is not None:
            # as in the Data Bank: an event without a brand counts for every brand
            condition &= (events.brand_id == leaf.brand_id) | events.brand_id.isnull()
        if leaf.store_id is not None:
            condition &= events.store_id.isin(list(leaf.store_id))
        if leaf.channel is not None:
            condition &= events.channel.isin(list(leaf.channel))
        for key, values in (("category", leaf.category), ("product_id", leaf.product_id)):
            if values is not None:
                pattern = property_pattern(key, values, subtree=key == "category")
                found = events.properties.re_search(pattern)
                condition &= found.fill_null(False)
        return condition

    def purchase_filter(self, events: Expr, leaf: conditions.Recency) -> ir.BooleanValue:
        condition = events.type.isin(list(self.context.config.purchase_events))
        if leaf.brand_id is not None:
            condition &= (events.brand_id == leaf.brand_id) | events.brand_id.isnull()
        return condition

    def earliest(self) -> date:
        starts = [EPOCH]
        windowed = [
            self.window(leaf.window)[0]
            for _, leaf in self.event_leaves
            if isinstance(leaf, conditions.Behaviour | conditions.DidNot)
        ]
        if windowed and len(windowed) == len(self.event_leaves):
            starts = windowed
        return min(starts)

    def features(self) -> Expr | None:
        """One scan of the events: a conditional aggregate per event condition."""
        if not self.event_leaves:
            return None
        event = self.con.table(EVENT_TABLE)
        first = self.earliest()
        types: set[str] = set()
        for _, leaf in self.event_leaves:
            types |= set(
                self.context.config.purchase_events
                if isinstance(leaf, conditions.Recency)
                else leaf.events
            )
        scan = event.filter(
            event.organization_id == self.context.organization_id,
            event.member_id.notnull(),
            event.type.isin(sorted(types)),
            event.ts < utc_instant(self.context.day_end(self.context.as_of)),
        )
        if first > EPOCH:
            scan = scan.filter(scan.ts >= utc_instant(self.context.day_start(first)))
        metrics: dict[str, Any] = {}
        for name, leaf in self.event_leaves:
            if isinstance(leaf, conditions.Recency):
                metrics[f"{name}_last"] = scan.ts.max(where=self.purchase_filter(scan, leaf))
                continue
            condition = self.event_filter(scan, leaf)
            metrics[f"{name}_n"] = scan.count(where=condition)
            if isinstance(leaf, conditions.Behaviour) and leaf.amount is not None:
                metrics[f"{name}_amount"] = scan.amount.sum(where=condition)
        totals = scan.group_by(scan.member_id).aggregate(**metrics)
        return totals.rename(x_member="member_id")

    def flag_table(
        self, leaf: conditions.AiplStage | conditions.AiplTransition | conditions.SavedAudience
    ) -> Expr:
        ctx = self.context
        if isinstance(leaf, conditions.SavedAudience):
            table = self.con.table(AUDIENCE_MEMBER_TABLE)
            version = ctx.versions.get(leaf.audience_id)
            rows = table.filter(
                table.organization_id == ctx.organization_id,
                table.audience_id == leaf.audience_id,
                table.version == (version or ""),
            )
            return rows.select("member_id")
        if isinstance(leaf, conditions.AiplStage):
            snapshot = self.stage_table(leaf.on or ctx.as_of)
            rows = snapshot.filter(
                snapshot.brand_id == leaf.brand_id, snapshot.stage.isin(list(leaf.stages))
            )
            return rows.select("member_id")
        end = self.stage_table(leaf.to_date or ctx.as_of)
        start = self.stage_table(leaf.from_date)
        pairs = databank_queries.flow_pairs(start, end)
        pairs = pairs.filter(pairs.brand_id == leaf.brand_id)
        return pairs.filter(
            _stage_in(pairs.from_stage, leaf.from_stages), _stage_in(pairs.to_stage, leaf.to_stages)
        ).select("member_id")

    def stage_table(self, on: date) -> Expr:
        ctx = self.context
        return databank_snapshots.stage_table(
            self.con, ctx.organization_id, ctx.brands, on, ctx.config
        )

    # -- pass 2: the boolean expression over the joined row
    def predicate(self, node: r.Node, row: Expr) -> ir.BooleanValue:
        if isinstance(node, r.Not):
            return ~self.predicate(node.child, row)
        if isinstance(node, r.All | r.Any_):
            parts = [self.predicate(child, row) for child in node.children]
            combined = parts[0]
            for part in parts[1:]:
                combined = combined & part if isinstance(node, r.All) else combined | part
            return combined
        return self.leaf(node, row).fill_null(False)

    def leaf(self, node: conditions.Condition, row: Expr) -> ir.BooleanValue:
        column = self.columns.get(id(node))
        if isinstance(node, conditions.Behaviour):
            count = row[f"{column}_n"].fill_null(0)
            condition = count >= 1
            if node.count is not None:
                condition &= _OPS[node.count.op](count, node.count.value)
            if node.amount is not None:
                amount = row[f"{column}_amount"].fill_null(0)
                condition &= _OPS[node.amount.op](amount, ibis.literal(node.amount.value))
            return condition
        if isinstance(node, conditions.DidNot):
            return row[f"{column}_n"].fill_null(0) == 0
        if isinstance(node, conditions.Recency):
            last = row[f"{column}_last"]
            if node.bucket == "never":
                return last.isnull()
            low, high = conditions.RECENCY_BUCKETS[node.bucket]
            as_of, context = self.context.as_of, self.context
            # days since the last purchase in [low, high): its local day in
            # (as_of-high, as_of-low], as instants [end of as_of-high, end of as_of-low)
            latest = context.day_end(as_of - timedelta(days=low))
            condition = last.notnull() & (last < utc_instant(latest))
            if high is not None:
                condition &= last >= utc_instant(context.day_end(as_of - timedelta(days=high)))
            return condition
        if isinstance(
            node, conditions.AiplStage | conditions.AiplTransition | conditions.SavedAudience
        ):
            return row[f"{column}_hit"].notnull()
        if isinstance(node, conditions.AttributeIn):
            if node.field == "age_band":
                value = age_band(row.birth_year, self.context.as_of)
            elif node.field == "gender":
                value = row.gender.fill_null("unknown")
            else:
                value = row[node.field]
            found = value.isin(list(node.values)).fill_null(False)
            return found if node.op == "in" else ~found
        if isinstance(node, conditions.PointsAttribute):
            return _OPS[node.op](row.points, node.value)
        if isinstance(node, conditions.ConsentAttribute):
            channels = [node.channel] if node.channel else list(CONSENT_CHANNELS)
            granted = row[f"marketing_{channels[0]}"]
            for channel in channels[1:]:
                granted |= row[f"marketing_{channel}"]
            return granted if node.granted else ~granted
        raise TypeError(type(node).__name__)

    def compile(self, node: r.Node) -> Expr:
        self.collect(node)
        row = universe(self.con, self.context.organization_id)
        features = self.features()
        if features is not None:
            # a member without events fails a required behaviour: join inner, not outer
            join = row.inner_join if _requires_events(node) else row.left_join
            row = join(features, row.member_id == features.x_member)
            row = row.select(*[c for c in row.columns if c != "x_member"])
        for name, table in self.flag_tables:
            hits = table.distinct().select(**{f"{name}_hit": "member_id"})
            row = row.left_join(hits, row.member_id == hits[f"{name}_hit"])
        return row.filter(self.predicate(node, row)).select("member_id")


def _requires_events(node: r.Node) -> bool:
    """True when every member of the tree has at least one event of a behaviour condition."""
    if isinstance(node, conditions.Behaviour):
        return True
    if isinstance(node, r.All):
        return any(_requires_events(child) for child in node.children)
    if isinstance(node, r.Any_):
        return all(_requires_events(child) for child in node.children)
    return False


def _stage_in(column: ir.StringValue, stages: Sequence[str]) -> ir.BooleanValue:
    named = [s for s in stages if s != "none"]
    condition = column.isin(named) if named else ibis.literal(False)
    if "none" in stages:
        condition |= column.isnull()
    return condition.fill_null(False)


def audience_members(con: Any, node: r.Node, context: CompileContext) -> Expr:
    """The members of a rule tree as one expression (column `member_id`, distinct)."""
    return _Compiler(con, context).compile(node)
