"""The one rule that settles links into members: the first link wins.

Nodes are profiles (the home members of identifiers); edges are links. Links apply in one
order (`application_order`): operators' manual links first, then links stored earlier (by
the keyed hashes of their identifiers, a fixed order), then the links arriving now in their
order of arrival. Each applies to the groups as they stand, through a union-find that refuses
any union breaking a rule (two values of a unique type, a maximum per member, the group size,
an operator's separation): a refused link is a conflict and changes nothing, so a member
never loses what an earlier link gave it. The collector's path (merging.py) and bulk
resolution (bulk.py) both settle links here. When every union is allowed this is plain
connectivity, so a component without conflicts becomes one member whatever the order.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, NamedTuple, TypeVar

from newretail.identity.models import ConflictKind
from newretail.identity.rules import GroupSummary, Rules, Violation, check_union

K = TypeVar("K", bound=Hashable)


class Edge(NamedTuple, Generic[K]):
    """A link between two nodes; `manual`: an operator's (applied first, without bounds)."""

    a: K
    b: K
    manual: bool = False


@dataclass
class Partition(Generic[K]):
    root: dict[K, K]
    refused: list[tuple[Edge[K], Violation]] = field(default_factory=list)

    def groups(self) -> set[frozenset[K]]:
        found: dict[K, set[K]] = {}
        for node, root in self.root.items():
            found.setdefault(root, set()).add(node)
        return {frozenset(nodes) for nodes in found.values()}


class ConstrainedUnionFind(Generic[K]):
    """Union-find whose unions are checked against the rules (and cannot-link pairs)."""

    def __init__(
        self,
        rules: Rules,
        summaries: Mapping[K, GroupSummary],
        separated: Iterable[tuple[K, K]] = (),
    ) -> None:
        self.rules = rules
        self.parent: dict[K, K] = {node: node for node in summaries}
        self.summary: dict[K, GroupSummary] = dict(summaries)
        self.nodes: dict[K, set[K]] = {node: {node} for node in summaries}
        self.separated: dict[K, set[K]] = {}
        self._own: set[K] = set()  # roots whose summary this forest made (grown in place)
        for a, b in separated:
            self.separated.setdefault(a, set()).add(b)
            self.separated.setdefault(b, set()).add(a)

    def find(self, node: K) -> K:
        root = node
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[node] != root:
            self.parent[node], node = root, self.parent[node]
        return root

    def _separated(self, left: K, right: K) -> bool:
        if not self.separated:
            return False
        small, large = sorted((self.nodes[left], self.nodes[right]), key=len)
        return any(self.separated.get(node, set()) & large for node in small)

    def join(self, a: K, b: K) -> None:
        """Join the groups of a and b without a check (a member as it stands)."""
        left, right = self.find(a), self.find(b)
        if left == right:
            return
        if len(self.nodes[left]) < len(self.nodes[right]):
            left, right = right, left
        self.parent[right] = left
        other = self.summary.pop(right)
        if left in self._own:
            self.summary[left].absorb(other)
        else:  # the caller's summary stays as it was given
            self.summary[left] = self.summary[left].union(other)
            self._own.add(left)
        self._own.discard(right)
        self.nodes[left] |= self.nodes.pop(right)

    def union(self, edge: Edge[K]) -> Violation | None:
        """Join the groups of the edge's ends, or say why not (nothing changes then)."""
        left, right = self.find(edge.a), self.find(edge.b)
        if left == right:
            return None
        if self._separated(left, right):
            return Violation(ConflictKind.SEPARATED, None, "an operator separated these members")
        violation = check_union(
            self.rules, self.summary[left], self.summary[right], bounds=not edge.manual
        )
        if violation is None:
            self.join(left, right)
        return violation


def application_order(
    links: Iterable[Edge[K]], key: Callable[[K], str], arrived: Sequence[tuple[K, K]] = ()
) -> list[Edge[K]]:
    """The order links apply in, so that the first link wins: operators' links first, then
    links stored earlier (by their ends' keys), then the `arrived` links in their order."""
    position: dict[tuple[K, K], int] = {}
    for n, link in enumerate(arrived):
        position.setdefault(link, n)

    def order(edge: Edge[K]) -> tuple[bool, int, str, str]:
        n = position.get((edge.a, edge.b), -1)
        if n >= 0:  # one position per arrived link: no keys needed
            return (not edge.manual, n, "", "")
        first, second = sorted((key(edge.a), key(edge.b)))
        return (not edge.manual, -1, first, second)

    return sorted(links, key=order)


def settle_links(
    forest: ConstrainedUnionFind[K],
    links: Iterable[Edge[K]],
    key: Callable[[K], str],
    arrived: Sequence[tuple[K, K]] = (),
) -> list[tuple[Edge[K], Violation]]:
    """Apply the links to the forest in `application_order`; returns the refused ones."""
    refused: list[tuple[Edge[K], Violation]] = []
    for edge in application_order(links, key, arrived):
        violation = forest.union(edge)
        if violation is not None:
            refused.append((edge, violation))
    return refused


def canonical_partition(
    rules: Rules,
    summaries: Mapping[K, GroupSummary],
    keys: Mapping[K, str],
    edges: Sequence[Edge[K]],
    separated: Iterable[tuple[K, K]] = (),
    stored: Iterable[Edge[K]] = (),
) -> Partition[K]:
    """The members the links make: `stored` links (stored earlier) first, then `edges` in
    their order of arrival; `keys` orders the stored links by their identifiers' hashes."""
    forest = ConstrainedUnionFind(rules, summaries, separated)
    arrived = [(edge.a, edge.b) for edge in edges]
    refused = settle_links(forest, [*stored, *edges], keys.__getitem__, arrived)
    return Partition({node: forest.find(node) for node in summaries}, refused)
