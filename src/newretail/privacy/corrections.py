"""A member's right to correction: every change of a profile (`PATCH /api/v1/members/{id}`,
the console's *Edit profile*, `newretail member correct`, a CSV import) is audited as a data
request of kind `correction`: who, when, through which door, which fields (not the values)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from newretail.core.database import utcnow
from newretail.core.domain_events import handler
from newretail.members.profile_events import MemberCorrected
from newretail.privacy.erasure import channel_of
from newretail.privacy.models import MemberDataRequest, RequestKind


@handler(MemberCorrected)
def audit_correction(session: Session, event: MemberCorrected) -> None:
    """Write the correction to the audit, in the change's transaction."""
    session.add(
        MemberDataRequest(
            organization_id=event.organization_id,
            member_id=event.member_id,
            kind=RequestKind.CORRECTION,
            file_format="",
            channel=channel_of(event.principal),
            actor=event.principal.actor,
            requested_at=utcnow(),
            rows={"fields": list(event.fields)},
        )
    )
