"""The organisation's points settings: the return window and the expiry rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from newretail.core.database import utcnow
from newretail.members import schemas
from newretail.members.errors import RequiredValue
from newretail.members.identifiers import member_settings
from newretail.members.models import ExpiryMode, MemberSettings
from newretail.tenancy.permissions import Permission, Principal


def expiry_for(settings: MemberSettings, earned_at: datetime, time_zone: str) -> datetime:
    """When points earned at `earned_at` expire under the organisation's rule."""
    if settings.expiry_mode == ExpiryMode.DAYS:
        return earned_at + timedelta(days=settings.expiry_days)
    zone = ZoneInfo(time_zone)
    local = earned_at.astimezone(zone)
    return datetime(local.year + 1, 1, 1, tzinfo=zone).astimezone(UTC)


def get_settings(session: Session, principal: Principal) -> MemberSettings:
    """The organisation's return window and expiry rule."""
    principal.require(Permission.READ)
    return member_settings(session, principal.organization_id)


def update_settings(
    session: Session, principal: Principal, data: schemas.SettingsUpdate
) -> MemberSettings:
    """Change the return window and the expiry rule (for points earned from now on)."""
    principal.require(Permission.MANAGE_MEMBERS)
    settings = member_settings(session, principal.organization_id)
    for name, value in data.model_dump(exclude_unset=True).items():
        if value is None:
            raise RequiredValue(field=name)
        setattr(settings, name, value)
    settings.updated_at = utcnow()
    session.flush()
    return settings
