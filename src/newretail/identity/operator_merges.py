"""An operator's merge and undo, worked out in one transaction (the caller's).

A manual merge lifts separations between the two members and pins the links inside them; a
force merge also lifts the maximums and the group size, never the unique rule. An undo
splits the loser's side off again and separates the two sides. Warehouse events follow after
the commit (resolver.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from newretail.core.database import get_or_not_found
from newretail.identity.errors import AlreadyMerged, MergeRefused, UndoRefused
from newretail.identity.manual_links import link_manually
from newretail.identity.merging import GraphSession
from newretail.identity.models import ConflictStatus, IdentityConflict, IdentityMerge, MergeReason
from newretail.identity.rules import Rules, check_union

AUTO_ACTOR = "oneid"


@dataclass(frozen=True)
class OperatorMerge:
    """An operator's merge of two members, worked out in the session it is called with;
    `force` lifts the bounds."""

    organization_id: uuid.UUID
    rules: Rules
    member_id: uuid.UUID
    other_member_id: uuid.UUID
    actor: str
    force: bool
    at: datetime

    def __call__(self, session: Session) -> tuple[IdentityMerge, GraphSession]:
        graph = GraphSession(session, self.organization_id, self.rules, self.at)
        graph.load([self.member_id, self.other_member_id])
        left, right = graph.root_of[self.member_id], graph.root_of[self.other_member_id]
        if left == right:
            raise AlreadyMerged("these members are already one member", field="member_id")
        violation = check_union(
            self.rules, graph.summary(left), graph.summary(right), bounds=not self.force
        )
        if violation is not None:
            raise MergeRefused(violation.detail, field="member_id")
        sides = sorted(graph.groups[left] | graph.groups[right])
        for conflict in session.scalars(  # the operator decided these
            select(IdentityConflict).where(
                IdentityConflict.status == ConflictStatus.OPEN,
                IdentityConflict.member_a.in_(sides),
                IdentityConflict.member_b.in_(sides),
            )
        ):
            conflict.status = ConflictStatus.MERGED
            conflict.resolved_at = self.at
            conflict.resolved_by = self.actor
        link_manually(graph, left, right)
        graph.settle(MergeReason.MANUAL, self.actor)
        merged = [m for m in graph.merges if {m.survivor_id, m.loser_id} <= {left, right}]
        return (merged[-1] if merged else graph.merges[-1]), graph


@dataclass(frozen=True)
class OperatorUndo:
    """An operator's undo of a merge, worked out in the session it is called with: both
    members come back with their history."""

    organization_id: uuid.UUID
    rules: Rules
    merge_id: uuid.UUID
    actor: str
    at: datetime

    def __call__(self, session: Session) -> tuple[IdentityMerge, GraphSession]:
        record = get_or_not_found(session, IdentityMerge, self.merge_id, "merge", field="merge_id")
        if record.undone_at is not None:
            raise UndoRefused("this merge was already undone", field="merge_id")
        graph = GraphSession(session, self.organization_id, self.rules, self.at)
        graph.load([record.survivor_id, record.loser_id])
        if graph.parent.get(record.survivor_id) is not None:
            raise UndoRefused(
                "the survivor was merged into another member since; undo that merge first",
                field="merge_id",
            )
        if graph.parent.get(record.loser_id) != record.survivor_id:
            raise UndoRefused("the members of this merge changed since", field="merge_id")
        graph.undo(record, self.actor)
        graph.settle(MergeReason.AUTO_LINK, AUTO_ACTOR)
        return record, graph
