"""Bulk resolution: many identifier links at once, in memory, then written in bulk.

For imports and back-fills (and bench/identity.py): the identifiers are hashed once, the links
are settled by the collector's rule and code (graph.py: in their order, the first link wins),
and each resulting group becomes one member whose identifiers all have it as home. Refused
links are returned as conflicts. The write is one executemany per table.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from sqlalchemy import Table
from sqlalchemy.orm import Session

from newretail.core.database import utcnow
from newretail.identity.graph import ConstrainedUnionFind, Edge, settle_links
from newretail.identity.profiles import identifier_row, profile_row
from newretail.identity.rules import Rules, summary_of
from newretail.members.identifiers import identifier_hash
from newretail.members.profile_graph import Member, MemberIdentifier

Identifier = tuple[str, str]  # (type, normalised value)


@dataclass
class BulkResult:
    identifiers: list[Identifier]
    hashes: list[str]
    group: list[int]  # per identifier: the index of its group's first identifier
    conflicts: list[tuple[int, int, str]] = field(default_factory=list)  # (a, b, type or "")

    def groups(self) -> dict[int, list[int]]:
        found: dict[int, list[int]] = {}
        for node, root in enumerate(self.group):
            found.setdefault(root, []).append(node)
        return found


def resolve_links(
    secret: bytes, rules: Rules, links: Sequence[tuple[Identifier, Identifier]]
) -> BulkResult:
    """Resolve links between (type, normalised value) identifiers into groups, by the rule
    of the collector's path (graph.py): the links apply in their order, the first link wins
    and a refused link is a conflict."""
    index: dict[Identifier, int] = {}
    identifiers: list[Identifier] = []
    edges: list[Edge[int]] = []
    for left, right in links:
        a = index.get(left)
        if a is None:
            a = index[left] = len(identifiers)
            identifiers.append(left)
        b = index.get(right)
        if b is None:
            b = index[right] = len(identifiers)
            identifiers.append(right)
        if a != b:
            edges.append(Edge(a, b) if a < b else Edge(b, a))
    hashes = [identifier_hash(secret, kind, value) for kind, value in identifiers]
    forest = ConstrainedUnionFind(
        rules,
        {n: summary_of({kind: (hashes[n],)}, 1) for n, (kind, _value) in enumerate(identifiers)},
    )
    refused = settle_links(
        forest,
        edges,
        key=lambda n: f"{identifiers[n][0]}:{hashes[n]}",
        arrived=[(edge.a, edge.b) for edge in edges],  # every link arrives now
    )
    conflicts = [(edge.a, edge.b, violation.identifier_type or "") for edge, violation in refused]
    return BulkResult(
        identifiers, hashes, [forest.find(n) for n in range(len(identifiers))], conflicts
    )


def write_result(
    session: Session, organization_id: uuid.UUID, result: BulkResult, at: datetime
) -> int:
    """Store each group as one member with its identifiers (new identifiers only); returns
    the number of members. The caller commits."""
    now = utcnow()
    member_of: dict[int, uuid.UUID] = {}
    members = []
    for root, nodes in result.groups().items():
        member_id = member_of[root] = uuid.uuid4()
        kinds = {result.identifiers[n][0]: result.identifiers[n][1] for n in nodes}
        members.append(profile_row(organization_id, member_id, kinds, at, now))
    # Core executemany (no ORM bookkeeping per row)
    session.execute(cast(Table, Member.__table__).insert(), members)
    session.execute(
        cast(Table, MemberIdentifier.__table__).insert(),
        [
            identifier_row(
                organization_id, member_of[result.group[node]], kind, result.hashes[node], now
            )
            for node, (kind, _value) in enumerate(result.identifiers)
        ],
    )
    return len(members)
