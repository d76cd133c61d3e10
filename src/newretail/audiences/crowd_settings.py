"""The organisation's audience settings: the minimum crowd size (the privacy floor)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from newretail.audiences.models import DEFAULT_MIN_CROWD_SIZE, AudienceSettings
from newretail.audiences.schemas import SettingsUpdate
from newretail.core.database import utcnow
from newretail.tenancy.permissions import Permission, Principal


def min_crowd_size(session: Session) -> int:
    """The organisation's privacy floor (default 50)."""
    row = session.scalars(select(AudienceSettings)).one_or_none()
    return DEFAULT_MIN_CROWD_SIZE if row is None else row.min_crowd_size


def get_settings(session: Session, principal: Principal) -> dict[str, int]:
    """The organisation's audience settings."""
    principal.require(Permission.READ)
    return {"min_crowd_size": min_crowd_size(session)}


def update_settings(session: Session, principal: Principal, data: SettingsUpdate) -> dict[str, int]:
    """Change the minimum crowd size below which no count is shown."""
    principal.require(Permission.MANAGE_MARKETING)
    row = session.scalars(select(AudienceSettings)).one_or_none()
    if row is None:
        row = AudienceSettings(organization_id=principal.organization_id)
        session.add(row)
    row.min_crowd_size = data.min_crowd_size
    row.updated_at = utcnow()
    session.flush()
    return {"min_crowd_size": row.min_crowd_size}
