"""Audiences' settings: the organisation's minimum crowd size (tenancy.crowd_floor), changed
through the audiences API and CLI as before."""

from __future__ import annotations

from sqlalchemy.orm import Session

from newretail.audiences.schemas import SettingsUpdate
from newretail.tenancy import crowd_floor
from newretail.tenancy.crowd_floor import get_settings, min_crowd_size
from newretail.tenancy.permissions import Principal

__all__ = ["get_settings", "min_crowd_size", "update_settings"]


def update_settings(session: Session, principal: Principal, data: SettingsUpdate) -> dict[str, int]:
    """Change the minimum crowd size below which no count is shown."""
    return crowd_floor.update_settings(session, principal, data.min_crowd_size)
