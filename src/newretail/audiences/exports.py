"""Exports of an audience's hashed identifiers for activation, consent-checked and audited.

The members are the audience's stored version; consent is read from the operational store
at the moment of the export, so a member who withdrew marketing consent after the audience
was built is left out. The file holds one row per (identifier type, hash) of the consenting
members: `member_identifier.value_hash`, the organisation's HMAC-SHA256 of the value.
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import select
from sqlalchemy.orm import Session

from newretail.audiences import dimensions, privacy
from newretail.audiences.crowd_settings import min_crowd_size
from newretail.audiences.membership import open_stored_members
from newretail.audiences.models import AudienceExport
from newretail.audiences.schemas import ExportRequest
from newretail.audiences.service import audience_log
from newretail.core.database import utcnow
from newretail.members import consent as members_consent
from newretail.members.models import (
    ConsentChannel,
    ConsentPurpose,
    IdentifierType,
    Member,
    MemberConsent,
    MemberIdentifier,
)
from newretail.tenancy.permissions import Principal
from newretail.warehouse.connection import Warehouse

MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "parquet": "application/vnd.apache.parquet"}


@dataclass(frozen=True)
class ExportFile:
    content: bytes
    media_type: str
    filename: str
    summary: dict[str, Any]


def _consenting(session: Session, channel: str | None) -> pa.Array:
    """Members with marketing consent granted (on the channel, or on any channel) now."""
    wanted = ConsentChannel(channel) if channel is not None else None
    statement = members_consent.consenting_select(ConsentPurpose.MARKETING, wanted).join(
        Member, Member.id == MemberConsent.member_id
    )
    anonymous = dimensions.anonymous_column()
    if anonymous is not None:
        statement = statement.where(anonymous.is_not(True))
    ids = session.scalars(dimensions.eligible(statement)).all()
    return pa.array([str(i) for i in ids], type=pa.string())


def _identifiers(session: Session, types: list[str]) -> pa.Table:
    rows = session.execute(
        select(
            MemberIdentifier.member_id,
            MemberIdentifier.identifier_type,
            MemberIdentifier.value_hash,
        ).where(MemberIdentifier.identifier_type.in_(types))
    ).all()
    return pa.table(
        {
            "member_id": pa.array([str(r[0]) for r in rows], type=pa.string()),
            "identifier_type": pa.array([r[1] for r in rows], type=pa.string()),
            "value_hash": pa.array([r[2] for r in rows], type=pa.string()),
        }
    )


def _serialise(table: pa.Table, file_format: str) -> bytes:
    if file_format == "parquet":
        sink = io.BytesIO()
        pq.write_table(table, sink)
        return sink.getvalue()
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(table.column_names)
    writer.writerows(zip(*(table.column(c).to_pylist() for c in table.column_names), strict=True))
    return text.getvalue().encode()


def export_audience(
    session: Session,
    principal: Principal,
    warehouse: Warehouse,
    audience_id: uuid.UUID,
    data: ExportRequest,
) -> ExportFile:
    """The hashed identifiers of the audience's consenting members, audit-logged."""
    with open_stored_members(session, principal, warehouse, audience_id) as stored:
        members = stored.members.member_id.to_pyarrow()
    audience, version = stored.audience, stored.version
    floor = min_crowd_size(session)
    types = [str(t) for t in (data.identifier_types or list(IdentifierType))]
    members = members.combine_chunks() if isinstance(members, pa.ChunkedArray) else members
    consenting = members.filter(
        pc.is_in(members, value_set=_consenting(session, data.consent_channel))
    )
    identifiers = _identifiers(session, types)
    chosen = identifiers.filter(pc.is_in(identifiers.column("member_id"), value_set=consenting))
    table = chosen.select(["identifier_type", "value_hash"]).sort_by(
        [("identifier_type", "ascending"), ("value_hash", "ascending")]
    )
    total, exported = len(members), len(consenting)
    excluded = total - exported
    now = utcnow()
    record = AudienceExport(
        organization_id=principal.organization_id,
        audience_id=audience.id,
        audience_name=audience.name,
        version=version,
        actor=principal.actor,
        file_format=data.format,
        identifier_types=types,
        consent_channel=data.consent_channel,
        members=total,
        exported_members=exported,
        excluded_members=excluded,
        rows=table.num_rows,
        exported_at=now,
    )
    session.add(record)
    session.flush()
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    return ExportFile(
        content=_serialise(table, data.format),
        media_type=MEDIA_TYPES[data.format],
        filename=f"audience-{audience.id}-{stamp}.{data.format}",
        summary=read_export(record, floor),
    )


def read_export(record: AudienceExport, floor: int) -> dict[str, Any]:
    """An audit record as shown: counts under the privacy floor (exported and excluded add up
    to the audience's size, so when one is hidden both are)."""
    exported, excluded = privacy.shown_together(
        [record.exported_members, record.excluded_members], floor
    )
    return {
        "id": record.id,
        "audience_id": record.audience_id,
        "audience_name": record.audience_name,
        "actor": record.actor,
        "file_format": record.file_format,
        "identifier_types": list(record.identifier_types),
        "consent_channel": record.consent_channel,
        "members": privacy.shown(record.members, floor),
        "exported_members": exported,
        "excluded_members": excluded,
        "exported_at": record.exported_at,
    }


def list_exports(
    session: Session, principal: Principal, audience_id: uuid.UUID
) -> list[dict[str, Any]]:
    """The export audit log of one audience, newest first."""
    records, floor = audience_log(
        session,
        principal,
        audience_id,
        AudienceExport,
        AudienceExport.exported_at.desc(),
        AudienceExport.id,
    )
    return [read_export(record, floor) for record in records]
