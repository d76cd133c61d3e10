"""The console's member forms: the strings a form shows <-> the API's payloads.

A form is a flat dict of strings. Profile fields left blank are cleared; identifiers (phone,
e-mail, member card) left blank are kept, as in PATCH /api/v1/members/{id}. Consent is one
checkbox per channel (`consent_sms`, ...) for marketing.
"""

from __future__ import annotations

from typing import Any

from newretail.members import schemas
from newretail.members.models import ConsentChannel, ConsentPurpose, Member

PROFILE_FIELDS = ("name", "gender", "birth_year", "city")
IDENTIFIER_FIELDS = ("phone", "email", "member_card")
CHANNELS = [str(c) for c in ConsentChannel]


def member_values(member: Member) -> dict[str, str]:
    """A member as the edit form shows it (the card is write-only: it is stored hashed)."""
    values = {
        name: "" if getattr(member, name) is None else str(getattr(member, name))
        for name in PROFILE_FIELDS
    }
    values.update(
        phone=member.phone or "", email=member.email or "", member_card="", status=member.status
    )
    return values


def member_payload(form: dict[str, str]) -> dict[str, Any]:
    """The MemberUpdate payload of a submitted member form."""
    payload: dict[str, Any] = {name: form.get(name, "").strip() or None for name in PROFILE_FIELDS}
    for name in IDENTIFIER_FIELDS:
        value = form.get(name, "").strip()
        if value:
            payload[name] = value
    payload["status"] = form.get("status", "").strip() or None
    return payload


def consent_values(consent: schemas.ConsentRead) -> dict[str, str]:
    """Ticked boxes of the channels with marketing consent granted."""
    return {
        f"consent_{c.channel}": "on"
        for c in consent.consents
        if c.purpose == ConsentPurpose.MARKETING and c.granted
    }


def consent_items(form: dict[str, str], current: schemas.ConsentRead) -> list[schemas.ConsentItem]:
    """Marketing consent per channel as the boxes say: unticking withdraws a recorded consent;
    a channel never recorded and left unticked is not recorded."""
    recorded = {c.channel for c in current.consents if c.purpose == ConsentPurpose.MARKETING}
    items = []
    for channel in CHANNELS:
        granted = form.get(f"consent_{channel}") == "on"
        if granted or channel in recorded:
            items.append(
                schemas.ConsentItem(
                    purpose=ConsentPurpose.MARKETING,
                    channel=ConsentChannel(channel),
                    granted=granted,
                )
            )
    return items


def points_payload(form: dict[str, str]) -> dict[str, Any]:
    """The PointsAdjust payload of a submitted adjustment form (`points` may be negative)."""
    return {"points": form.get("points", "").strip(), "reason": form.get("reason", "")}
