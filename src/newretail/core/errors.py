"""One error hierarchy with stable codes; the API maps it to problem details."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    """Stable, documented error codes (docs/api.md)."""

    INVALID_INPUT = "invalid_input"
    MALFORMED_JSON = "malformed_json"
    BODY_TOO_LARGE = "body_too_large"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    UNAUTHENTICATED = "unauthenticated"
    FORBIDDEN = "forbidden"
    CONFLICT = "conflict"
    ACCOUNT_LOCKED = "account_locked"
    CSRF_FAILED = "csrf_failed"
    CONFIGURATION = "configuration_error"
    UNAVAILABLE = "unavailable"
    RATE_LIMITED = "rate_limited"
    RANGE_TOO_LONG = "range_too_long"


class NewRetailError(Exception):
    """Base of every domain error: a code, a message and the field at fault.

    A subclass names its HTTP status and code in its header
    (`class NotFound(NewRetailError, status=404, code=ErrorCode.NOT_FOUND)`), or inherits them.
    """

    status_code = 400
    code: str = ErrorCode.INVALID_INPUT

    def __init_subclass__(
        cls, *, status: int | None = None, code: str | None = None, **kwargs: Any
    ) -> None:
        super().__init_subclass__(**kwargs)
        if status is not None:
            cls.status_code = status
        if code is not None:
            cls.code = code

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field

    def as_problem(self) -> dict[str, str | None]:
        """The JSON body the API answers with."""
        return {"code": str(self.code), "message": self.message, "field": self.field}


class InvalidInput(NewRetailError, status=422, code=ErrorCode.INVALID_INPUT):
    """A value that breaks a rule of its field."""


class NotFound(NewRetailError, status=404, code=ErrorCode.NOT_FOUND):
    """Nothing with this id in the caller's organisation."""


class Unauthenticated(NewRetailError, status=401, code=ErrorCode.UNAUTHENTICATED):
    """No credential, or one that is not valid."""


class Forbidden(NewRetailError, status=403, code=ErrorCode.FORBIDDEN):
    """A credential without the permission the action needs."""


class Conflict(NewRetailError, status=409, code=ErrorCode.CONFLICT):
    """The state of the data does not allow the action now."""


class AccountLocked(NewRetailError, status=423, code=ErrorCode.ACCOUNT_LOCKED):
    """Too many failed sign-ins: the account waits before the next try."""


class CsrfFailed(NewRetailError, status=403, code=ErrorCode.CSRF_FAILED):
    """A console form without the session's CSRF token."""


class ConfigurationError(NewRetailError, status=500, code=ErrorCode.CONFIGURATION):
    """A setting or a setup step missing for the action (a secret, an organisation)."""


class Unavailable(NewRetailError, status=503, code=ErrorCode.UNAVAILABLE):
    """A service the action needs does not answer now."""


class RateLimited(NewRetailError, status=429, code=ErrorCode.RATE_LIMITED):
    """Too many requests for one credential or address: wait `retry_after` seconds."""

    def __init__(self, message: str, *, field: str | None = None, retry_after: int = 1):
        super().__init__(message, field=field)
        self.retry_after = retry_after
