"""Operators' decisions on links: a separation after an undo, a manual link at a merge.

An undone merge separates its two sides (links across them no longer merge them); an
operator's merge lifts separations between the two members and pins the links inside them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import and_, update

from newretail.core.database import NO_SYNC
from newretail.identity.component import LoadedComponent
from newretail.identity.inserts import PAIR_KEY, dialect_insert, insert_new_pairs, pair, pair_row
from newretail.identity.models import IdentityLink


def _set_link(graph: LoadedComponent, a: uuid.UUID, b: uuid.UUID, **values: bool) -> None:
    graph.session.execute(
        update(IdentityLink)
        .where(and_(IdentityLink.member_a == a, IdentityLink.member_b == b))
        .values(**values),
        execution_options=NO_SYNC,
    )


def _between(
    pairs: Iterable[tuple[uuid.UUID, uuid.UUID]], left: set[uuid.UUID], right: set[uuid.UUID]
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """The pairs with one end on each side."""
    return [(x, y) for x, y in pairs if (x in left and y in right) or (x in right and y in left)]


def separate(
    graph: LoadedComponent,
    side: set[uuid.UUID],
    rest: set[uuid.UUID],
    survivor: uuid.UUID,
    loser: uuid.UUID,
) -> None:
    """Links across an undone merge no longer merge (an operator's decision)."""
    for a, b in _between(graph.edges, side, rest):
        _set_link(graph, a, b, blocked=True, manual=False)
        del graph.edges[(a, b)]
        graph.separated.add((a, b))
    first, second = pair(survivor, loser)
    if (first, second) not in graph.separated:
        row = pair_row(graph.organization_id, first, second, graph.at, manual=False, blocked=True)
        graph.session.execute(insert_new_pairs(graph.session, IdentityLink).values(row))
        graph.separated.add((first, second))


def link_manually(graph: LoadedComponent, a: uuid.UUID, b: uuid.UUID) -> None:
    """An operator's link between two groups: lifts separations between them and pins the
    links inside them."""
    left, right = graph.groups[graph.root_of[a]], graph.groups[graph.root_of[b]]
    for x, y in _between(graph.separated, left, right):
        graph.separated.discard((x, y))
        _set_link(graph, x, y, blocked=False)
        graph.edges[(x, y)] = False
    # the operator approves both members as they are: their links are pinned (applied
    # first, without the bounds)
    inside = left | right
    for x, y in [e for e, manual in graph.edges.items() if not manual and set(e) <= inside]:
        _set_link(graph, x, y, manual=True)
        graph.edges[(x, y)] = True
    first, second = pair(graph.root_of[a], graph.root_of[b])
    row = pair_row(graph.organization_id, first, second, graph.at, manual=True, blocked=False)
    graph.session.execute(
        dialect_insert(graph.session, IdentityLink)
        .values(row)
        .on_conflict_do_update(index_elements=PAIR_KEY, set_={"manual": True, "blocked": False})
    )
    graph.separated.discard((first, second))
    graph.edges[(first, second)] = True
