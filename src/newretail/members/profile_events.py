"""Domain events members publish about a profile (privacy audits them as data requests)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from newretail.tenancy.permissions import Principal


@dataclass(frozen=True)
class MemberCorrected:
    """A member's profile, identifiers or status were changed by `principal`: the names of
    the fields given (never their values)."""

    organization_id: uuid.UUID
    member_id: uuid.UUID
    fields: tuple[str, ...]
    principal: Principal
