"""The member inbox: a treated decision's offer kept for the member (channel `inbox`, and
`store_screen`: the offer shown at the counter stays in the member's inbox to find later).

A message holds the facts of the offer as delivered (campaign, stage and offer names as they
were, the coupon, its expiry and the zone to tell it in), never text: its title and body are
written when read, in the reader's language (`message_read(..., locale)`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from newretail.core.database import get_or_raise, utcnow
from newretail.core.i18n import translator
from newretail.core.localtime import format_local_time, offset_label
from newretail.core.pagination import paginate
from newretail.core.reads import read_of
from newretail.marketing.models import Coupon
from newretail.members import service as members_service
from newretail.reach import reads
from newretail.reach.errors import InboxMessageNotFound
from newretail.reach.models import InboxMessage, ReachDecision
from newretail.reach.schemas import InboxMessageRead
from newretail.tenancy.permissions import Permission, Principal

ON_MEMBER_PAGE = 10  # the newest messages the member 360 page shows


@dataclass(frozen=True)
class OfferFacts:
    """What a treated decision delivers, as every channel names it (names, not ids)."""

    campaign_name: str
    stage_name: str
    offer_code: str
    offer_name: str
    store_name: str | None


def add_message(
    session: Session, decision: ReachDecision, coupon: Coupon, facts: OfferFacts
) -> InboxMessage:
    """The decision's offer as a message of the member, added to the caller's transaction
    (its next flush writes it); its time is the decision's."""
    message = InboxMessage(
        organization_id=decision.organization_id,
        member_id=decision.member_id,
        decision_id=decision.id,
        channel=decision.channel,
        campaign_id=decision.campaign_id,
        campaign_name=facts.campaign_name,
        stage_position=decision.stage_position,
        stage_name=facts.stage_name,
        coupon_id=coupon.id,
        offer_code=facts.offer_code,
        offer_name=facts.offer_name,
        store_id=decision.store_id,
        expires_at=coupon.valid_until,
        time_zone=decision.time_zone,
        created_at=decision.decided_at,
    )
    session.add(message)
    return message


def list_messages(
    session: Session, principal: Principal, member_id: uuid.UUID, limit: int, cursor: str | None
) -> tuple[list[InboxMessage], str | None]:
    """The member's messages, oldest first, a keyset page at a time (404 for a member of
    another organisation)."""
    members_service.get_member(session, principal, member_id)
    statement = select(InboxMessage).where(InboxMessage.member_id == member_id)
    return paginate(session, statement, InboxMessage, limit, cursor)


def recent(
    session: Session, member_id: uuid.UUID, count: int = ON_MEMBER_PAGE
) -> list[InboxMessage]:
    """The member's newest messages, newest first (the member 360 page)."""
    statement = (
        select(InboxMessage)
        .where(InboxMessage.member_id == member_id)
        .order_by(InboxMessage.created_at.desc(), InboxMessage.id.desc())
        .limit(count)
    )
    return list(session.scalars(statement))


def all_of(session: Session, member_id: uuid.UUID) -> list[InboxMessage]:
    """Every message of the member, oldest first (the member's export)."""
    statement = (
        select(InboxMessage)
        .where(InboxMessage.member_id == member_id)
        .order_by(InboxMessage.created_at, InboxMessage.id)
    )
    return list(session.scalars(statement))


def mark_read(
    session: Session,
    principal: Principal,
    member_id: uuid.UUID,
    message_id: uuid.UUID,
    now: datetime | None = None,
) -> InboxMessage:
    """Mark the member's message read; the first reading's time is kept (guarded update)."""
    principal.require(Permission.MANAGE_MEMBERS)
    members_service.get_member(session, principal, member_id)
    message = get_or_raise(session, InboxMessage, message_id, InboxMessageNotFound)
    if message.member_id != member_id:
        raise InboxMessageNotFound()
    session.execute(
        update(InboxMessage)
        .where(InboxMessage.id == message_id, InboxMessage.read_at.is_(None))
        .values(read_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    session.refresh(message)
    return message


def message_reads(
    session: Session, messages: Sequence[InboxMessage], locale: str
) -> list[InboxMessageRead]:
    """Messages with their title and body written in `locale`, and their store's name."""
    t = translator(locale)
    stores = reads.store_names(session, (m.store_id for m in messages))
    found = []
    for m in messages:
        zone = m.time_zone
        until = f"{format_local_time(m.expires_at, zone)} {offset_label(zone, m.expires_at)}"
        found.append(
            read_of(
                InboxMessageRead,
                m,
                campaign=m.campaign_name,
                stage=m.stage_name,
                store=stores.get(m.store_id) if m.store_id else None,
                title=t(f"reach.inbox.title.{m.channel}", offer=m.offer_name),
                body=t(
                    "reach.inbox.body",
                    campaign=m.campaign_name,
                    stage=m.stage_name,
                    offer=m.offer_name,
                    code=m.offer_code,
                    until=until,
                ),
                sent_at=m.created_at,
            )
        )
    return found
