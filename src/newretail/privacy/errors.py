"""Errors of the privacy domain, each with a stable code."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from newretail.core.errors import Conflict, InvalidInput


class PrivacyErrorCode(StrEnum):
    ALREADY_ERASED = "already_erased"
    CONFIRMATION_REQUIRED = "confirmation_required"


class AlreadyErased(Conflict, code=PrivacyErrorCode.ALREADY_ERASED):
    """The member was erased already (and the erasure is complete)."""

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        super().__init__(message or "this member has been erased already", **kwargs)


class ConfirmationRequired(InvalidInput, code=PrivacyErrorCode.CONFIRMATION_REQUIRED):
    """An erasure is irreversible: the request must confirm it."""

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        super().__init__(
            message or "erasure is irreversible: confirm it with confirm = true", **kwargs
        )
