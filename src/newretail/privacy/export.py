"""A member's right of access and copy: everything held about one member, gathered through each
owning domain's services, as JSON or as a zip of CSV files (one per section), and audited.

The sections, in order (`SECTIONS`): the profile; the identifiers as OneID holds them (keyed
hashes, never values: the profile's own phone and e-mail are in `profile`); the members merged
into this one; consent now and its history; the points balance and the whole ledger; orders,
their lines and refunds; coupons and every change of them (redemptions included); reach's
campaign decisions and inbox messages; the audiences whose current version holds the member;
and the member's events in the warehouse, oldest first.

Times are ISO 8601 in UTC with their offset (`+00:00`), amounts decimal strings, ids as text.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, is_dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from newretail.audiences import membership
from newretail.catalog import service as catalog_service
from newretail.core.database import utcnow
from newretail.core.pagination import MAX_LIMIT
from newretail.identity import service as identity_service
from newretail.marketing import reads as marketing_reads
from newretail.members import consent, points, tiers
from newretail.members import service as members_service
from newretail.orders import reads as order_reads
from newretail.orders import schemas as order_schemas
from newretail.privacy.models import (
    ExportFormat,
    MemberDataRequest,
    RequestChannel,
    RequestKind,
)
from newretail.reach import inbox, triggers
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.permissions import Permission, Principal
from newretail.timelines import service as timelines_service
from newretail.warehouse.connection import Warehouse

FORMAT_VERSION = "newretail.member-export/1"
SECTIONS = (
    "profile",
    "identifiers",
    "merges",
    "consent",
    "consent_history",
    "points_balance",
    "points_ledger",
    "orders",
    "order_lines",
    "refunds",
    "coupons",
    "coupon_history",
    "campaign_decisions",
    "inbox_messages",
    "audiences",
    "events",
)
IDENTIFIER_HASH = "HMAC-SHA256 of the normalised value with the organisation's secret"
Row = dict[str, Any]


@dataclass
class MemberExport:
    """What an export holds: the member, when it was made, and each section's rows."""

    member_id: uuid.UUID
    organization: str
    time_zone: str
    generated_at: datetime
    sections: dict[str, list[Row]] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {name: len(self.sections.get(name, [])) for name in SECTIONS}


@dataclass(frozen=True)
class ExportFile:
    content: bytes
    media_type: str
    filename: str
    request_id: uuid.UUID


def plain(value: Any) -> Any:
    """A JSON value: ISO 8601 times with their offset (UTC), decimals as text, ids as text."""
    if isinstance(value, BaseModel):
        return plain(value.model_dump())
    if is_dataclass(value) and not isinstance(value, type):
        return plain(asdict(value))
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return plain(value.value)
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    return value


def _rows(items: Iterable[Any], **extra: Any) -> list[Row]:
    return [{**plain(item), **plain(extra)} for item in items]


def _all_orders(session: Session, principal: Principal, member_id: uuid.UUID) -> list[Any]:
    found: list[Any] = []
    cursor: str | None = None
    while True:
        page, cursor = order_reads.list_orders(
            session, principal, order_reads.OrderFilter(member_id=member_id), MAX_LIMIT, cursor
        )
        found.extend(page)
        if cursor is None:
            return found


def _all_events(
    session: Session, warehouse: Warehouse, principal: Principal, member_id: uuid.UUID
) -> list[Any]:
    found: list[Any] = []
    cursor: str | None = None
    while True:
        page = timelines_service.member_timeline(
            session,
            warehouse,
            principal,
            member_id,
            timelines_service.TimelineFilter(),
            MAX_LIMIT,
            cursor,
        )
        found.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            return found


def gather(
    session: Session,
    warehouse: Warehouse,
    principal: Principal,
    member_id: uuid.UUID,
    locale: str,
    now: datetime | None = None,
) -> MemberExport:
    """Everything held about the member, section by section (owners and admins only)."""
    principal.require(Permission.EXPORT_MEMBER_DATA)
    now = now or utcnow()
    member = members_service.get_member(session, principal, member_id)
    organization = tenancy_service.get_organization(session, principal.organization_id)
    stores = {
        s.id: s
        for s in tenancy_service.all_stores(session, principal, tenancy_service.StoreFilter())
    }

    def store_name(store_id: Any) -> str | None:
        if store_id is None:
            return None
        found = stores.get(store_id if isinstance(store_id, uuid.UUID) else uuid.UUID(store_id))
        return found.name if found else None

    export = MemberExport(member.id, organization.name, organization.time_zone, now)
    sections = export.sections

    profile = plain(points.member_read(session, member, now))
    tier = tiers.get_tier(session, principal, member.tier_id) if member.tier_id else None
    profile.update(
        tier=tier.name if tier else None,
        join_store=store_name(member.join_store_id),
        anonymous=member.anonymous,
        merged_into_id=plain(member.merged_into_id),
        canonical_id=plain(member.canonical_id),
        created_at=plain(member.created_at),
        updated_at=plain(member.updated_at),
    )
    sections["profile"] = [profile]

    identities = identity_service.member_identities(session, principal, member_id)
    sections["identifiers"] = _rows(
        identity_service.member_identifiers(session, principal, member_id), hash=IDENTIFIER_HASH
    )
    sections["merges"] = _rows(identities.merged_from)

    held = consent.consent_of(session, principal, member_id)
    sections["consent"] = _rows(held.consents)
    sections["consent_history"] = _rows(held.history)

    sections["points_balance"] = [plain(points.points_balance(session, principal, member_id, now))]
    sections["points_ledger"] = _rows(points.ledger_rows(session, principal, member_id, now))

    orders = _all_orders(session, principal, member_id)
    sections["orders"] = []
    sections["order_lines"] = []
    sections["refunds"] = []
    skus: dict[str, Any] = {}
    for order in sorted(orders, key=lambda o: (o.placed_at, str(o.id))):
        row = plain(order_schemas.OrderRead.model_validate(order))
        lines = row.pop("lines")
        row["store"] = store_name(order.store_id)
        row["items"] = sum(line["quantity"] for line in lines)
        sections["orders"].append(row)
        for line in lines:
            sku = skus.get(line["sku_id"])
            if sku is None:
                sku = skus[line["sku_id"]] = catalog_service.get_sku(
                    session, uuid.UUID(line["sku_id"])
                )
            line.update(sku_code=sku.code, sku_name=sku.name)
            sections["order_lines"].append({"order_id": row["id"], **line})
        for refund in order_reads.list_refunds(session, principal, order.id):
            refund_row = plain(order_schemas.RefundRead.model_validate(refund))
            refund_row["lines"] = json.dumps(refund_row["lines"])
            sections["refunds"].append(refund_row)

    sections["coupons"] = _rows(reversed(marketing_reads.member_coupons(session, member_id)))
    sections["coupon_history"] = _rows(marketing_reads.member_coupon_history(session, member_id))
    for change in sections["coupon_history"]:
        change["store"] = store_name(change["store_id"])

    decisions = triggers.list_decisions(session, limit=None, member_id=member_id)
    sections["campaign_decisions"] = _rows(reversed(decisions))
    sections["inbox_messages"] = _rows(
        inbox.message_reads(session, inbox.all_of(session, member_id), locale)
    )
    sections["audiences"] = _rows(
        membership.member_audiences(session, principal, warehouse, member_id)
    )
    events = _all_events(session, warehouse, principal, member_id)
    sections["events"] = [{**plain(event), "store": store_name(event.store_id)} for event in events]
    return export


def as_json(export: MemberExport) -> bytes:
    document = {
        "format": FORMAT_VERSION,
        "member_id": str(export.member_id),
        "organization": export.organization,
        "time_zone": export.time_zone,
        "generated_at": plain(export.generated_at),
        "identifier_hashes": IDENTIFIER_HASH,
        "counts": export.counts(),
        "sections": {name: export.sections.get(name, []) for name in SECTIONS},
    }
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def section_csv(rows: list[Row]) -> str:
    """One section as CSV: the union of its rows' keys, in first-seen order, as the header."""
    header: list[str] = []
    for row in rows:
        header.extend(key for key in row if key not in header)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(row.get(key)) for key in header])
    return buffer.getvalue()


def as_csv_zip(export: MemberExport) -> bytes:
    """A zip of one CSV per section (UTF-8 with a byte order mark, so spreadsheets read the
    Chinese), and `export.json` without the sections: what, whom and when."""
    buffer = io.BytesIO()
    stamp = export.generated_at.astimezone(UTC).timetuple()[:6]
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        about = {
            "format": FORMAT_VERSION,
            "member_id": str(export.member_id),
            "organization": export.organization,
            "time_zone": export.time_zone,
            "generated_at": plain(export.generated_at),
            "identifier_hashes": IDENTIFIER_HASH,
            "counts": export.counts(),
        }
        info = zipfile.ZipInfo("export.json", date_time=stamp)
        archive.writestr(info, json.dumps(about, ensure_ascii=False, indent=2))
        for number, name in enumerate(SECTIONS, start=1):
            info = zipfile.ZipInfo(f"{number:02d}_{name}.csv", date_time=stamp)
            text = "\ufeff" + section_csv(export.sections.get(name, []))
            archive.writestr(info, text.encode("utf-8"))
    return buffer.getvalue()


def export_member(
    session: Session,
    warehouse: Warehouse,
    principal: Principal,
    member_id: uuid.UUID,
    file_format: ExportFormat,
    channel: RequestChannel,
    locale: str,
    now: datetime | None = None,
) -> ExportFile:
    """The member's export as a file, with the request written to the audit (who, when,
    which member, what and how many rows of each section), in the caller's transaction."""
    export = gather(session, warehouse, principal, member_id, locale, now)
    request = MemberDataRequest(
        organization_id=principal.organization_id,
        member_id=export.member_id,
        kind=RequestKind.EXPORT,
        file_format=file_format,
        channel=channel,
        actor=principal.actor,
        requested_at=export.generated_at,
        rows=export.counts(),
    )
    session.add(request)
    session.flush()
    day = export.generated_at.astimezone(UTC).strftime("%Y%m%d")
    stem = f"member-{export.member_id}-{day}"
    if file_format == ExportFormat.CSV:
        return ExportFile(as_csv_zip(export), "application/zip", f"{stem}.zip", request.id)
    return ExportFile(as_json(export), "application/json", f"{stem}.json", request.id)


def requests_of(
    session: Session, principal: Principal, member_id: uuid.UUID
) -> list[MemberDataRequest]:
    """The audit of requests about a member, oldest first (kept after the member is gone:
    404 only when the organisation has neither the member nor a request about them)."""
    principal.require(Permission.EXPORT_MEMBER_DATA)
    found = list(
        session.scalars(
            select(MemberDataRequest)
            .where(MemberDataRequest.member_id == member_id)
            .order_by(MemberDataRequest.requested_at, MemberDataRequest.id)
        )
    )
    if not found:
        members_service.get_member(session, principal, member_id)
    return found
