"""Events' part of a member's erasure (privacy/erasure.py owns the use case).

In the operational store: the outbox's commerce facts stay (they are orders and coupons,
counted in the warehouse) but name the tombstone, and refused events that mention the member
are purged. In the warehouse (`anonymise_events`, outside the operational transaction and
safe to run again): the member's events keep their type, time, place and amount, so counts
and GMV stay exact; member and profile ids become the tombstone, the anonymous id is cleared
and the properties lose every personal key and every value that names the member.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from newretail.core.database import NO_SYNC
from newretail.core.erasure import Traces, mentions
from newretail.events.models import FailedEvent, OutboxMessage
from newretail.warehouse.connection import EVENT_TABLE
from newretail.warehouse.sql import fetch_rows, run_sql

# properties that describe a person rather than what they did
PERSONAL_PROPERTIES = frozenset(
    {
        "name",
        "first_name",
        "last_name",
        "phone",
        "email",
        "address",
        "birthday",
        "birth_year",
        "gender",
        "ip",
        "user_agent",
        "traits",
        "identifiers",
        "context",
        "member_id",
        "profile_id",
        "anonymous_id",
        "user_id",
        "member_card",
        "account_id",
        "device_id",
        "wechat_unionid",
        "payment_id",
    }
)


def strip_personal(value: Any, traces: Traces) -> Any:
    """The value without personal keys and without any text that names the member."""
    if isinstance(value, dict):
        return {
            key: strip_personal(item, traces)
            for key, item in value.items()
            if key not in PERSONAL_PROPERTIES and not traces.found_in(str(key))
        }
    if isinstance(value, list):
        return [strip_personal(item, traces) for item in value]
    if isinstance(value, str) and traces.found_in(value):
        return None
    return value


def forget_members(
    session: Session, member_ids: Sequence[uuid.UUID], tombstone_id: uuid.UUID, traces: Traces
) -> dict[str, int]:
    """Outbox facts of the members name the tombstone (personal properties stripped); refused
    events mentioning them are deleted. Returns the rows touched per table."""
    ids = list(member_ids)
    outbox = 0
    for message in session.scalars(select(OutboxMessage).where(OutboxMessage.member_id.in_(ids))):
        message.member_id = tombstone_id
        message.properties = strip_personal(dict(message.properties or {}), traces)
        outbox += 1
    session.flush()
    failed: Any = session.execute(
        delete(FailedEvent).where(mentions(FailedEvent.payload, traces)), execution_options=NO_SYNC
    )
    return {"outbox_message": outbox, "failed_event": int(failed.rowcount or 0)}


def _literal(text: str | None) -> str:
    return "NULL" if text is None else "'" + text.replace("'", "''") + "'"


def anonymise_events(
    con: Any,
    organization_id: uuid.UUID,
    profile_ids: Sequence[uuid.UUID],
    tombstone_id: uuid.UUID,
    traces: Traces,
) -> int:
    """Hand the profiles' warehouse events to the tombstone, anonymised (see the module);
    returns the events now the tombstone's. Running it again (after a failure midway) finishes
    what is left: the tombstone's events are read again too."""
    org = _literal(str(organization_id))
    tombstone = _literal(str(tombstone_id))
    ids = ", ".join(_literal(str(p)) for p in [*profile_ids, tombstone_id])
    where = f"organization_id = {org} AND (member_id IN ({ids}) OR profile_id IN ({ids}))"
    rows = fetch_rows(
        con,
        f'SELECT message_id, properties FROM "{EVENT_TABLE}" WHERE {where}',  # noqa: S608
    )
    for message_id, properties in rows:  # one statement per event whose properties change
        try:
            parsed = json.loads(properties) if properties else None
        except ValueError:  # not JSON: kept unless it names the member
            parsed = None
            if not traces.found_in(properties):
                continue
        else:
            if parsed is None or strip_personal(parsed, traces) == parsed:
                continue
        kept = None if parsed is None else json.dumps(strip_personal(parsed, traces))
        run_sql(
            con,
            f'UPDATE "{EVENT_TABLE}" SET properties = {_literal(kept)} '  # noqa: S608
            f"WHERE organization_id = {org} AND message_id = {_literal(str(message_id))}",
        )
    if rows:  # then the ids, in one statement
        run_sql(
            con,
            f'UPDATE "{EVENT_TABLE}" SET member_id = {tombstone}, '  # noqa: S608
            f"profile_id = {tombstone}, anonymous_id = NULL WHERE {where}",
        )
    return len(rows)
