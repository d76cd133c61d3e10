"""Identifier normalisation and keyed hashing, and the organisation's member settings.

Identifiers are stored only as HMAC-SHA256(secret, "<type>:<normalised value>") with a
secret per organisation, so the identifier table never holds a phone number or an e-mail.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid

import phonenumbers
from sqlalchemy import select
from sqlalchemy.orm import Session

from newretail.core.database import insert_once
from newretail.members.errors import InvalidIdentifier
from newretail.members.models import IdentifierType, MemberSettings
from newretail.members.profile_graph import PERSONAL_TYPES

DEFAULT_REGION = "CN"
_CARD = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$")
# device ids, anonymous ids, WeChat union ids, payment ids and custom types: kept as sent
# (case-sensitive), 1-200 printable characters without spaces
_OPAQUE = re.compile(r"^[!-~]{1,200}$")


def normalise_phone(raw: str, region: str = DEFAULT_REGION) -> str:
    """E.164 form of a phone number; numbers without a country code are read as Chinese."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidIdentifier(field="phone", reason="not_a_phone") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidIdentifier(field="phone", reason="phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise(identifier_type: IdentifierType | str, raw: str) -> str:
    """The canonical form of an identifier value, or InvalidIdentifier naming the field.

    Types outside IdentifierType are an organisation's custom types (identity/).
    """
    value = raw.strip()
    if identifier_type not in PERSONAL_TYPES:
        if not _OPAQUE.match(value):
            raise InvalidIdentifier(field=str(identifier_type), reason="opaque")
        return value
    kind = IdentifierType(identifier_type)
    if kind == IdentifierType.PHONE:
        return normalise_phone(value)
    if kind == IdentifierType.EMAIL:
        if "@" not in value or len(value) > 254 or " " in value:
            raise InvalidIdentifier(field="email", reason="email")
        return value.lower()
    if not _CARD.match(value):
        raise InvalidIdentifier(field=str(kind), reason="card")
    return value.upper() if kind == IdentifierType.MEMBER_CARD else value


def identifier_hash(secret: bytes, identifier_type: IdentifierType | str, normalised: str) -> str:
    """HMAC-SHA256 hex digest of one normalised identifier."""
    message = f"{identifier_type}:{normalised}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def member_settings(session: Session, organization_id: uuid.UUID) -> MemberSettings:
    """The organisation's member settings, created with a fresh secret on first use."""

    def stored() -> MemberSettings | None:
        return session.scalar(
            select(MemberSettings).where(MemberSettings.organization_id == organization_id)
        )

    found = stored()
    if found is not None:
        return found
    created = MemberSettings(
        organization_id=organization_id,
        identifier_secret=secrets.token_bytes(32),
        return_window_days=7,
        expiry_mode="year_end",
        expiry_days=365,
    )
    return insert_once(session, created, stored)  # or the one created concurrently


def hash_for(
    session: Session, organization_id: uuid.UUID, identifier_type: IdentifierType | str, raw: str
) -> str:
    """Normalise and hash a raw identifier with the organisation's secret."""
    secret = member_settings(session, organization_id).identifier_secret
    return identifier_hash(secret, identifier_type, normalise(identifier_type, raw))
