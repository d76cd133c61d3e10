"""Helpers for the identity tests: resolving events, warehouse events, members."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select

from newretail.bootstrap import Container
from newretail.core.database import session_scope
from newretail.identity.resolver import Resolved
from newretail.members import schemas, service
from newretail.members.models import Member
from tests.conftest import Org
from tests.members.conftest import owner_of

AT = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def resolve(
    container: Container, org: Org, *events: Sequence[tuple[str, str]]
) -> list[Resolved | None]:
    return container.identity.resolve_batch(org.id, list(events), AT)


def one(container: Container, org: Org, *identifiers: tuple[str, str]) -> Resolved:
    found = resolve(container, org, identifiers)[0]
    assert found is not None
    return found


def member_row(container: Container, org: Org, member_id: uuid.UUID) -> Member:
    with session_scope(container.sessions, org.id) as session:
        found = session.scalar(select(Member).where(Member.id == member_id))
        assert found is not None
        return found


def create_member(container: Container, org: Org, **fields: str) -> uuid.UUID:
    with session_scope(container.sessions, org.id) as session:
        member = service.create_member(session, owner_of(org), schemas.MemberCreate(**fields))
        return member.id


def add_events(container: Container, org: Org, rows: Sequence[tuple[str, str, str]]) -> None:
    """Warehouse events (message id, member id, profile id) as the collector writes them."""
    con = container.warehouse.connection()
    values = ", ".join(
        f"('{org.id}', '{message}', 'product_view', TIMESTAMP '2026-11-20 09:00:00', "
        f"TIMESTAMP '2026-11-20 09:00:00', '{member}', '{profile}')"
        for message, member, profile in rows
    )
    with container.warehouse.lock:
        columns = "organization_id, message_id, type, ts, received_at, member_id, profile_id"
        con.raw_sql(f"INSERT INTO event ({columns}) VALUES {values}")  # noqa: S608


def events_by_member(container: Container, org: Org) -> dict[str, list[str]]:
    con = container.warehouse.connection()
    with container.warehouse.lock:
        where = f"organization_id = '{org.id}'"
        rows = con.raw_sql(
            f"SELECT member_id, message_id FROM event WHERE {where} ORDER BY message_id"  # noqa: S608
        ).fetchall()
    found: dict[str, list[str]] = {}
    for member_id, message_id in rows:
        found.setdefault(member_id, []).append(message_id)
    return found
