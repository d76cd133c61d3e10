"""Bulk resolution: many identifier links at once, in memory, then written in bulk.

For imports and back-fills (and bench/identity.py): the identifiers are hashed once, the links
are applied in the same canonical order as the incremental resolver (graph.py) with the same
rules, and each resulting group becomes one member whose identifiers all have it as home.
Refused links are returned as conflicts. The write is one executemany per table.
"""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from sqlalchemy import Table
from sqlalchemy.orm import Session

from newretail.core.database import utcnow
from newretail.identity.rules import KNOWN_TYPES, Rules
from newretail.members.profile_graph import IdentifierType, Member, MemberIdentifier, MemberStatus

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
    """Resolve links between (type, normalised value) identifiers into groups."""
    index: dict[Identifier, int] = {}
    identifiers: list[Identifier] = []
    edges: list[tuple[int, int]] = []
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
            edges.append((a, b))
    digest = hmac.digest
    hashes = [digest(secret, f"{t}:{v}".encode(), "sha256").hex() for t, v in identifiers]
    count = len(identifiers)
    # canonical order: by the (type:hash) keys of the two ends, as graph.canonical_partition
    keys = [f"{identifiers[n][0]}:{hashes[n]}" for n in range(count)]
    node_of_rank = sorted(range(count), key=keys.__getitem__)
    rank = [0] * count
    for position, node in enumerate(node_of_rank):
        rank[node] = position
    order = []
    for a, b in edges:
        ra, rb = rank[a], rank[b]
        order.append(ra * count + rb if ra < rb else rb * count + ra)
    order.sort()
    limits = {name: rule.limit for name, rule in rules.types.items() if rule.limit is not None}
    unique = {name for name, rule in rules.types.items() if rule.unique_per_member}
    max_size = rules.max_group_size
    parent = list(range(count))
    size = [1] * count
    # per root: {type: hash} of unique types and {type: count} of limited types
    held: list[dict[str, str] | None] = [None] * count
    counts: list[dict[str, int] | None] = [None] * count
    for n, (kind, _value) in enumerate(identifiers):
        if kind in unique:
            held[n] = {kind: hashes[n]}
        if kind in limits:
            counts[n] = {kind: 1}
    conflicts: list[tuple[int, int, str]] = []

    for key in order:
        low, high = divmod(key, count)
        first = a = node_of_rank[low]
        second = b = node_of_rank[high]
        ra = a
        while parent[ra] != ra:
            ra = parent[ra]
        while parent[a] != ra:
            parent[a], a = ra, parent[a]
        rb = b
        while parent[rb] != rb:
            rb = parent[rb]
        while parent[b] != rb:
            parent[b], b = rb, parent[b]
        if ra == rb:
            continue
        if size[ra] + size[rb] > max_size:
            conflicts.append((first, second, ""))
            continue
        ha, hb = held[ra], held[rb]
        clash = ""
        if ha and hb:
            for kind, value_hash in hb.items():
                if ha.get(kind, value_hash) != value_hash:
                    clash = kind
                    break
        if not clash:
            ca, cb = counts[ra], counts[rb]
            if ca and cb:
                for kind, number in cb.items():
                    if ca.get(kind, 0) + number > limits[kind]:
                        clash = kind
                        break
        if clash:
            conflicts.append((first, second, clash))
            continue
        if size[ra] < size[rb]:
            ra, rb = rb, ra
        parent[rb] = ra
        size[ra] += size[rb]
        hb = held[rb]
        if hb:
            ha = held[ra]
            if ha:
                ha.update(hb)
            else:
                held[ra] = hb
        cb = counts[rb]
        if cb:
            ca = counts[ra]
            if ca:
                for kind, number in cb.items():
                    ca[kind] = ca.get(kind, 0) + number
            else:
                counts[ra] = cb

    def find(x: int) -> int:
        while parent[x] != x:
            x = parent[x]
        return x

    return BulkResult(identifiers, hashes, [find(n) for n in range(count)], conflicts)


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
        members.append(
            {
                "id": member_id,
                "organization_id": organization_id,
                "created_at": now,
                "status": MemberStatus.ACTIVE,
                "joined_at": at,
                "points_available": 0,
                "points_locked": 0,
                "anonymous": not (kinds.keys() & KNOWN_TYPES),
                "phone": kinds.get(IdentifierType.PHONE),
                "email": kinds.get(IdentifierType.EMAIL),
            }
        )
    # Core executemany (no ORM bookkeeping per row)
    session.execute(cast(Table, Member.__table__).insert(), members)
    session.execute(
        cast(Table, MemberIdentifier.__table__).insert(),
        [
            {
                "id": uuid.uuid4(),
                "created_at": now,
                "organization_id": organization_id,
                "member_id": member_of[result.group[node]],
                "identifier_type": kind,
                "value_hash": result.hashes[node],
            }
            for node, (kind, _value) in enumerate(result.identifiers)
        ],
    )
    return len(members)
