"""Errors of the members domain, each with a stable code."""

from __future__ import annotations

from enum import StrEnum

from newretail.core.errors import NewRetailError


class MemberErrorCode(StrEnum):
    INSUFFICIENT_POINTS = "insufficient_points"
    IDENTIFIER_TAKEN = "identifier_taken"
    INVALID_IDENTIFIER = "invalid_identifier"


class InsufficientPoints(NewRetailError):
    """A redemption or a negative adjustment asked for more points than are available."""

    status_code = 409
    code = MemberErrorCode.INSUFFICIENT_POINTS


class IdentifierTaken(NewRetailError):
    """A phone, card, account or e-mail already identifies another member."""

    status_code = 409
    code = MemberErrorCode.IDENTIFIER_TAKEN


class InvalidIdentifier(NewRetailError):
    """An identifier value that cannot be normalised (for example not a phone number)."""

    status_code = 422
    code = MemberErrorCode.INVALID_IDENTIFIER
