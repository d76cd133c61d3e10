"""A member's right to erasure: their personal data and identifiers leave the operational
store and the warehouse, while what they bought and did stays countable under a tombstone.

The use case asks each owning domain through its own service (no domain's tables are written
here), in the caller's one transaction:
- members: a tombstone member (new id, no personal data) is made; the profiles (the member
  and every profile OneID merged into it), identifiers, consent and its history, points and
  tier spend are deleted;
- orders, marketing (coupons and their ledger), reach (decisions), events (outbox facts):
  the rows stay, so counts and GMV stay exact, but name the tombstone;
- reach: the inbox, contact counters and webhook deliveries naming the member are purged;
  events: refused events mentioning the member are purged; OneID: links, merges, conflicts;
- the request is audited (`member_data_request`, kind `erasure`: who, when, which profiles,
  the tombstone, rows per table).
After the commit the warehouse step runs (`finish`): events anonymised to the tombstone,
AIPL states and saved lists handed to it, stored audience memberships, the member dimension
and the realtime membership index purged. It is idempotent: if it fails midway the audit row
stays `warehouse_pending` and `finish` (the same request again, the CLI, or the server's
maintenance job) runs it again; then the row turns `done`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from newretail.audiences import erasure as audiences_erasure
from newretail.core import domain_events
from newretail.core.database import make_session_factory, scope_session, session_scope, utcnow
from newretail.core.erasure import Traces
from newretail.databank import erasure as databank_erasure
from newretail.events import erasure as events_erasure
from newretail.identity import erasure as identity_erasure
from newretail.identity import service as identity_service
from newretail.identity.resolver import IdentityResolver
from newretail.marketing import erasure as marketing_erasure
from newretail.members import erasure as members_erasure
from newretail.members import service as members_service
from newretail.orders import erasure as orders_erasure
from newretail.privacy.errors import AlreadyErased
from newretail.privacy.models import (
    ErasureStatus,
    MemberDataRequest,
    RequestChannel,
    RequestKind,
)
from newretail.reach import erasure as reach_erasure
from newretail.tenancy.permissions import Permission, Principal
from newretail.warehouse.connection import Warehouse

log = logging.getLogger(__name__)

# kept in the audit row only while the warehouse step is pending, then removed
PENDING_TRACES = "pending_traces"


@dataclass(frozen=True)
class Erasure:
    """What an erasure did: its audit row, the member, its tombstone and the state of the
    warehouse step (read again after the commit: `status_of`)."""

    request_id: uuid.UUID
    member_id: uuid.UUID
    tombstone_id: uuid.UUID
    profiles: tuple[uuid.UUID, ...]


def _traces(session: Session, principal: Principal, profiles: list[uuid.UUID]) -> Traces:
    """The member's ids (with and without dashes), identifier hashes, phones and e-mails."""
    values: list[Any] = []
    for profile in profiles:
        values += [str(profile), profile.hex]
        member = members_service.get_member(session, principal, profile)
        for contact in (member.phone, member.email):
            if contact:
                values.append(contact)
        if member.phone and member.phone.startswith("+86"):
            values.append(member.phone[3:])  # the national number, as tills often send it
    values += [
        i.value_hash for i in identity_service.member_identifiers(session, principal, profiles[0])
    ]
    return Traces.of(values)


def channel_of(principal: Principal) -> RequestChannel:
    """Through which door a principal asks: an API key, a console user, the CLI's operator."""
    if principal.kind == "api_key":
        return RequestChannel.API
    return RequestChannel.CONSOLE if principal.user_id is not None else RequestChannel.CLI


def require_erasable(session: Session, principal: Principal, member_id: uuid.UUID) -> None:
    """Who may erase (owners and admins) and whose member it is, checked before the
    confirmation is read: another organisation's key or an analyst learns nothing more
    than from any other route (404 / 403)."""
    principal.require(Permission.EXPORT_MEMBER_DATA)
    if _erasure_of(session, member_id) is None:
        members_service.get_member(session, principal, member_id)


def erase_member(
    session: Session,
    identity: IdentityResolver,
    warehouse: Warehouse,
    principal: Principal,
    member_id: uuid.UUID,
    channel: RequestChannel,
) -> Erasure:
    """Erase the member (owners and admins; irreversible), in the caller's transaction; the
    warehouse step runs once it commits. An id already erased runs a pending warehouse step
    again (`AlreadyErased` when there is nothing left to do)."""
    principal.require(Permission.EXPORT_MEMBER_DATA)
    earlier = _erasure_of(session, member_id)
    if earlier is not None:
        if earlier.status == ErasureStatus.WAREHOUSE_PENDING:
            _finish_after_commit(session, warehouse, earlier.id, principal.organization_id)
            return _described(earlier)
        raise AlreadyErased(field="member_id")
    member = members_service.get_member(session, principal, member_id)
    if members_erasure.is_tombstone(member):
        raise AlreadyErased(field="member_id")
    member_id = member.canonical_id or member.id  # a merged profile: its whole person
    member = members_service.get_member(session, principal, member_id)
    profiles = members_erasure.profile_ids(session, member_id)
    traces = _traces(session, principal, profiles)
    tombstone = members_erasure.make_tombstone(session, member)
    rows: dict[str, int] = {
        "sales_order": orders_erasure.hand_to_tombstone(session, profiles, tombstone.id),
        "coupon": marketing_erasure.hand_to_tombstone(session, profiles, tombstone.id),
    }
    rows |= reach_erasure.forget_members(session, profiles, tombstone.id, traces)
    rows |= events_erasure.forget_members(session, profiles, tombstone.id, traces)
    rows |= identity_erasure.forget_profiles(session, profiles)
    rows |= members_erasure.erase_members(session, profiles)
    request = MemberDataRequest(
        organization_id=principal.organization_id,
        member_id=member_id,
        kind=RequestKind.ERASURE,
        file_format="",
        channel=channel,
        actor=principal.actor,
        requested_at=utcnow(),
        rows={
            "profiles": [str(p) for p in profiles],
            "tombstone_id": str(tombstone.id),
            "operational": rows,
            PENDING_TRACES: list(traces.needles),
        },
        status=ErasureStatus.WAREHOUSE_PENDING,
    )
    session.add(request)
    session.flush()
    identity.after_commit_invalidate(session, principal.organization_id)
    _finish_after_commit(session, warehouse, request.id, principal.organization_id)
    return _described(request)


def _described(request: MemberDataRequest) -> Erasure:
    return Erasure(
        request.id,
        request.member_id,
        uuid.UUID(request.rows["tombstone_id"]),
        tuple(uuid.UUID(p) for p in request.rows["profiles"]),
    )


def _erasure_of(session: Session, member_id: uuid.UUID) -> MemberDataRequest | None:
    return session.scalar(
        select(MemberDataRequest).where(
            MemberDataRequest.member_id == member_id,
            MemberDataRequest.kind == RequestKind.ERASURE,
        )
    )


def _finish_after_commit(
    session: Session, warehouse: Warehouse, request_id: uuid.UUID, organization_id: uuid.UUID
) -> None:
    sessions = make_session_factory(session.get_bind().engine)

    def run() -> None:
        try:
            finish(sessions, warehouse, request_id, organization_id)
        except Exception:  # the audit row stays pending; `finish` runs again later
            log.exception("the warehouse step of erasure %s failed; it stays pending", request_id)

    domain_events.after_commit(session, run)


WarehouseStep = Callable[[Warehouse, MemberDataRequest, Traces], dict[str, int]]


def _warehouse_step(
    warehouse: Warehouse, request: MemberDataRequest, traces: Traces
) -> dict[str, int]:
    profiles = [uuid.UUID(p) for p in request.rows["profiles"]]
    tombstone = uuid.UUID(request.rows["tombstone_id"])
    org = request.organization_id
    with warehouse.lock:
        con = warehouse.connection()
        rows = {"event": events_erasure.anonymise_events(con, org, profiles, tombstone, traces)}
    rows |= databank_erasure.hand_to_tombstone(warehouse, org, profiles, tombstone)
    rows |= audiences_erasure.forget_members(warehouse, org, profiles)
    return rows


def finish(
    sessions: sessionmaker[Session],
    warehouse: Warehouse,
    request_id: uuid.UUID,
    organization_id: uuid.UUID,
) -> str:
    """Run an erasure's warehouse step (again) and mark it done; returns its status."""
    with session_scope(sessions, organization_id) as session:
        request = session.get(MemberDataRequest, request_id)
        if request is None or request.status != ErasureStatus.WAREHOUSE_PENDING:
            return str(request.status) if request else ""
        traces = Traces(tuple(request.rows.get(PENDING_TRACES, ())))
        done = _warehouse_step(warehouse, request, traces)
        rows = {k: v for k, v in request.rows.items() if k != PENDING_TRACES}
        request.rows = {**rows, "warehouse": done}
        request.status = ErasureStatus.DONE
        request.finished_at = utcnow()
        return ErasureStatus.DONE


def finish_pending(sessions: sessionmaker[Session], warehouse: Warehouse) -> int:
    """Run every pending erasure's warehouse step again (the server's maintenance job);
    returns how many are done now."""
    with session_scope(sessions) as session:
        scope_session(session, None)
        pending = list(
            session.execute(
                select(MemberDataRequest.id, MemberDataRequest.organization_id).where(
                    MemberDataRequest.kind == RequestKind.ERASURE,
                    MemberDataRequest.status == ErasureStatus.WAREHOUSE_PENDING,
                )
            )
        )
    done = 0
    for request_id, organization_id in pending:
        if finish(sessions, warehouse, request_id, organization_id) == ErasureStatus.DONE:
            done += 1
    return done


def status_of(session: Session, request_id: uuid.UUID) -> str:
    """The erasure's state now (`warehouse_pending` or `done`)."""
    request = session.get(MemberDataRequest, request_id)
    return str(request.status) if request is not None else ""
