"""Errors of the members domain, each with a stable code and a translatable message.

A message lives in the members catalogues (locales/en.json, zh-CN.json) under
`members.error.<code>` (or `members.error.<code>.<reason>` where one code has several
reasons), with named values. The API answers with the English text; the console shows
`translated(t)` in the reader's language.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from newretail.core.errors import Conflict, InvalidInput, NewRetailError, NotFound
from newretail.core.i18n import Translate, translator


class MemberErrorCode(StrEnum):
    """Codes of the members' own errors (others keep the core codes their kind has always
    answered with: not_found, invalid_input, conflict)."""

    INSUFFICIENT_POINTS = "insufficient_points"
    IDENTIFIER_TAKEN = "identifier_taken"
    INVALID_IDENTIFIER = "invalid_identifier"


class MembersError(NewRetailError):
    """Base of the members errors: the message comes from the catalogue, by `message_id`
    (and a reason where one error has several)."""

    message_id: str

    def __init__(
        self,
        message: str | None = None,
        *,
        field: str | None = None,
        reason: str | None = None,
        **values: Any,
    ) -> None:
        self.key = f"members.error.{self.message_id}" + (f".{reason}" if reason else "")
        self.values = values
        self._message = message  # a caller's own English text (outside the catalogue)
        super().__init__(message or translator("en")(self.key, **values), field=field)

    def translated(self, t: Translate) -> str:
        """The message in the reader's language."""
        return self._message or t(self.key, **self.values)


class InsufficientPoints(MembersError, status=409, code=MemberErrorCode.INSUFFICIENT_POINTS):
    """A redemption or a negative adjustment asked for more points than are available."""

    message_id = "insufficient_points"


class IdentifierTaken(MembersError, status=409, code=MemberErrorCode.IDENTIFIER_TAKEN):
    """A phone, card, account or e-mail already identifies another member."""

    message_id = "identifier_taken"


class InvalidIdentifier(MembersError, InvalidInput, code=MemberErrorCode.INVALID_IDENTIFIER):
    """An identifier value that cannot be normalised (for example not a phone number)."""

    message_id = "invalid_identifier"


class MemberNotFound(MembersError, NotFound):
    """No member with this id in the organisation (or the principal's scope)."""

    message_id = "member_not_found"


class NoMemberWithIdentifier(MembersError, NotFound):
    """A lookup by identifier found nobody."""

    message_id = "no_member_with_identifier"


class UnknownIdentifierType(MembersError, InvalidInput):
    """Neither a built-in identifier type nor one of the organisation's own."""

    message_id = "unknown_identifier_type"


class UnknownReference(MembersError, InvalidInput):
    """A store or brand id that is not the organisation's."""

    message_id = "unknown_reference"


class EarnRuleNotFound(MembersError, NotFound):
    message_id = "earn_rule_not_found"


class EarnRuleExists(MembersError, Conflict):
    message_id = "earn_rule_exists"


class TierNotFound(MembersError, NotFound):
    message_id = "tier_not_found"


class TierNameTaken(MembersError, Conflict):
    message_id = "tier_name_taken"


class InvalidPoints(MembersError, InvalidInput):
    """A points figure that is zero or negative where it must be positive."""

    message_id = "invalid_points"


class RequiredValue(MembersError, InvalidInput):
    """A field sent as null that cannot be cleared."""

    message_id = "required_value"


class InvalidOrderLines(MembersError, InvalidInput):
    """Order lines the points rules cannot use (duplicate ids, unknown lines, another member)."""

    message_id = "invalid_order_lines"


class InvalidSpend(MembersError, InvalidInput):
    """A tier spend record without exactly one reference, or with a negative amount."""

    message_id = "invalid_spend"
