"""The resolved partition as a pure function of the links (order-independent by design).

Nodes are profiles (the home members of identifiers); edges are links. Links are applied in a
canonical order — operators' manual links first, then the rest by the keyed hashes of their
identifiers — as a union-find that refuses any union breaking a rule (two values of a unique
type, a maximum per member, the group size, an operator's separation). The result depends
only on the set of links and the identifiers, never on the order in which links arrived.
When every union is allowed this is plain connectivity, so a component without conflicts
becomes one member whatever the order.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from newretail.identity.models import ConflictKind
from newretail.identity.rules import GroupSummary, Rules, Violation, check_union

K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class Edge(Generic[K]):
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
        if violation is not None:
            return violation
        if len(self.nodes[left]) < len(self.nodes[right]):
            left, right = right, left
        self.parent[right] = left
        self.summary[left] = self.summary[left].union(self.summary.pop(right))
        self.nodes[left] |= self.nodes.pop(right)
        return None


def canonical_partition(
    rules: Rules,
    summaries: Mapping[K, GroupSummary],
    keys: Mapping[K, str],
    edges: Iterable[Edge[K]],
    separated: Iterable[tuple[K, K]] = (),
) -> Partition[K]:
    """Apply the edges in canonical order; `keys` orders nodes by their identifiers' hashes."""

    def order(edge: Edge[K]) -> tuple[bool, str, str]:
        first, second = sorted((keys[edge.a], keys[edge.b]))
        return (not edge.manual, first, second)

    forest = ConstrainedUnionFind(rules, summaries, separated)
    refused: list[tuple[Edge[K], Violation]] = []
    for edge in sorted(edges, key=order):
        violation = forest.union(edge)
        if violation is not None:
            refused.append((edge, violation))
    return Partition({node: forest.find(node) for node in summaries}, refused)
