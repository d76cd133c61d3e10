"""Members' consent: current answers per purpose and channel, their history, and changes
(each change recorded once, with a `consent_changed` event)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import Select, Uuid, bindparam, func, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from newretail.core.database import utcnow
from newretail.events import outbox
from newretail.members import schemas
from newretail.members.models import (
    ConsentChange,
    ConsentChannel,
    ConsentPurpose,
    ConsentSource,
    Member,
    MemberConsent,
)
from newretail.members.service import get_member
from newretail.tenancy.permissions import Permission, Principal


def consent_of(session: Session, principal: Principal, member_id: uuid.UUID) -> schemas.ConsentRead:
    """Current consent per purpose and channel, with the history newest first."""
    get_member(session, principal, member_id)
    current = session.scalars(
        select(MemberConsent)
        .where(MemberConsent.member_id == member_id)
        .order_by(MemberConsent.purpose, MemberConsent.channel)
    ).all()
    history = session.scalars(
        select(ConsentChange)
        .where(ConsentChange.member_id == member_id)
        .order_by(ConsentChange.changed_at.desc(), ConsentChange.created_at.desc())
    ).all()
    return schemas.ConsentRead(
        consents=[schemas.ConsentState.model_validate(c) for c in current],
        history=[schemas.ConsentChangeRead.model_validate(h) for h in history],
    )


def set_consent(
    session: Session,
    principal: Principal,
    member_id: uuid.UUID,
    items: Sequence[schemas.ConsentItem],
    *,
    source: ConsentSource,
) -> schemas.ConsentRead:
    """Record consent changes (unchanged values are not recorded); enqueues `consent_changed`."""
    principal.require(Permission.MANAGE_MEMBERS)
    member = get_member(session, principal, member_id)
    apply_consent(session, member, items, source=source, actor=principal.actor)
    session.flush()
    return consent_of(session, principal, member_id)


def apply_consent(
    session: Session,
    member: Member,
    items: Sequence[schemas.ConsentItem],
    *,
    source: ConsentSource,
    actor: str,
) -> int:
    """Apply consent items to a member without a permission check; returns the changes."""
    now = utcnow()
    changed = 0
    existing = {
        (c.purpose, c.channel): c
        for c in session.scalars(select(MemberConsent).where(MemberConsent.member_id == member.id))
    }
    for item in items:
        key = (str(item.purpose), str(item.channel))
        current = existing.get(key)
        if current is not None and current.granted == item.granted:
            continue
        row = {
            "organization_id": member.organization_id,
            "member_id": member.id,
            "purpose": key[0],
            "channel": key[1],
            "granted": item.granted,
            "source": source,
        }
        if current is None:
            current = MemberConsent(**row, updated_at=now)
            session.add(current)
            existing[key] = current
        else:
            current.granted = item.granted
            current.source = source
            current.updated_at = now
        session.add(ConsentChange(**row, actor=actor, changed_at=now))
        outbox.enqueue(
            session,
            member.organization_id,
            "consent_changed",
            occurred_at=now,
            member_id=member.id,
            properties={
                "purpose": key[0],
                "channel": key[1],
                "granted": item.granted,
                "source": str(source),
            },
        )
        changed += 1
    return changed


def granted_channels(
    session: Session, member_ids: Iterable[uuid.UUID], purpose: ConsentPurpose
) -> dict[uuid.UUID, set[str]]:
    """Each member's channels of explicitly granted consent for the purpose, read now (one
    set-based query; no cache, so a withdrawal counts from the next activation on). A member
    without a row for a channel has not consented on it."""
    wanted = set(member_ids)
    granted: dict[uuid.UUID, set[str]] = {}
    if not wanted:
        return granted
    rows = session.execute(
        select(MemberConsent.member_id, MemberConsent.channel).where(
            MemberConsent.member_id.in_(wanted),
            MemberConsent.purpose == purpose,
            MemberConsent.granted.is_(True),
        )
    )
    for member_id, channel in rows:
        granted.setdefault(member_id, set()).add(channel)
    return granted


def permits(granted: set[str], channel: ConsentChannel | None) -> bool:
    """The one consent rule of every activation: the channel's own consent when the contact
    goes out on a channel (SMS, push, WeChat, e-mail), else (a coupon, a store screen, the
    member inbox) consent for the purpose on at least one channel."""
    return str(channel) in granted if channel is not None else bool(granted)


def consenting_select(
    purpose: ConsentPurpose = ConsentPurpose.MARKETING, channel: ConsentChannel | None = None
) -> Select[uuid.UUID]:
    """`permits` in SQL (kept beside it; a test checks they agree): the ids of the members
    whose consent allows an activation for the purpose on the channel, each once."""
    statement = (
        select(MemberConsent.member_id)
        .where(MemberConsent.purpose == purpose, MemberConsent.granted.is_(True))
        .distinct()
    )
    if channel is not None:
        statement = statement.where(MemberConsent.channel == channel)
    return statement


def consenting(
    session: Session,
    member_ids: Iterable[uuid.UUID],
    purpose: ConsentPurpose = ConsentPurpose.MARKETING,
    channel: ConsentChannel | None = None,
) -> set[uuid.UUID]:
    """The members (of those given) whose consent allows an activation for the purpose on the
    channel now, in one set-based query (`withheld`)."""
    wanted = set(member_ids)
    if not wanted:
        return set()
    return wanted - withheld(session, wanted, purpose, channel)


def withheld(
    session: Session,
    member_ids: Iterable[uuid.UUID],
    purpose: ConsentPurpose = ConsentPurpose.MARKETING,
    channel: ConsentChannel | None = None,
) -> set[uuid.UUID]:
    """The members (of those given) whose consent does not allow the activation now: one
    query that probes the consent index per member (a correlated `LIMIT 1`, as the bulk
    issue's held-coupon probe) and returns only those left out, usually few."""
    wanted = set(member_ids)
    if not wanted:
        return set()
    if session.get_bind().dialect.name != "postgresql":
        allowed = consenting_select(purpose, channel).where(MemberConsent.member_id.in_(wanted))
        return wanted - set(session.scalars(allowed))
    # one array parameter, not 20,000 bound values (their binding cost the bulk issue more
    # than the query: bench/marketing_bulk.py)
    ids = bindparam("member_ids", list(wanted), type_=postgresql.ARRAY(Uuid()))
    given = select(func.unnest(ids).label("member_id")).subquery("given")
    probe = (
        consenting_select(purpose, channel)
        .where(MemberConsent.member_id == given.c.member_id)
        .limit(1)
        .scalar_subquery()
    )
    return set(session.scalars(select(given.c.member_id).where(probe.is_(None))))


def allows(
    session: Session,
    member_id: uuid.UUID,
    purpose: ConsentPurpose = ConsentPurpose.MARKETING,
    channel: ConsentChannel | None = None,
) -> bool:
    """Whether the member's consent allows an activation for the purpose on the channel now."""
    return member_id in consenting(session, [member_id], purpose, channel)


def marketing_everywhere(granted: bool) -> list[schemas.ConsentItem]:
    """Marketing consent on every channel (CSV import, demo)."""
    return [
        schemas.ConsentItem(purpose=ConsentPurpose.MARKETING, channel=channel, granted=granted)
        for channel in ConsentChannel
    ]
