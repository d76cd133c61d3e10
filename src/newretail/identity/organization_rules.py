"""An organisation's effective identifier rules, read from its settings and custom types."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from newretail.identity.models import IdentitySettings, IdentityType
from newretail.identity.rules import Rules, build_rules


def load_rules(session: Session, organization_id: uuid.UUID) -> Rules:
    """The organisation's effective identifier rules (built-in, overrides, custom types)."""
    overrides = [
        (t.name, t.unique_per_member, t.max_per_member)
        for t in session.scalars(
            select(IdentityType).where(IdentityType.organization_id == organization_id)
        )
    ]
    settings = session.scalar(
        select(IdentitySettings).where(IdentitySettings.organization_id == organization_id)
    )
    return build_rules(overrides, settings.max_group_size if settings else None)
