"""Reach's part of a member's erasure (privacy/erasure.py owns the use case): the decisions
stay for the campaigns' measurement but belong to the tombstone; the member's inbox, contact
counters and every webhook delivery whose payload names them are purged."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from newretail.core.database import NO_SYNC
from newretail.core.erasure import Traces, mentions
from newretail.reach.models import InboxMessage, ReachContactCounter, ReachDecision, WebhookDelivery


def forget_members(
    session: Session, member_ids: Sequence[uuid.UUID], tombstone_id: uuid.UUID, traces: Traces
) -> dict[str, int]:
    """Purge the members' inbox, counters and deliveries; their decisions go to the
    tombstone. Returns the rows touched per table."""
    ids = list(member_ids)
    done: dict[str, int] = {}
    statements: tuple[tuple[str, Any], ...] = (
        ("reach_inbox_message", delete(InboxMessage).where(InboxMessage.member_id.in_(ids))),
        (
            "reach_contact_counter",
            delete(ReachContactCounter).where(ReachContactCounter.member_id.in_(ids)),
        ),
        (
            "webhook_delivery",
            delete(WebhookDelivery).where(mentions(WebhookDelivery.payload, traces)),
        ),
        (
            "reach_decision",
            update(ReachDecision)
            .where(ReachDecision.member_id.in_(ids))
            .values(member_id=tombstone_id),
        ),
    )
    for table, statement in statements:
        result: Any = session.execute(statement, execution_options=NO_SYNC)
        done[table] = int(result.rowcount or 0)
    return done
