"""One error hierarchy with stable codes; the API maps it to problem details."""

from __future__ import annotations

from enum import StrEnum


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


class NewRetailError(Exception):
    """Base of every domain error: a code, a message and the field at fault."""

    status_code = 400
    code: str = ErrorCode.INVALID_INPUT

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field

    def as_problem(self) -> dict[str, str | None]:
        """The JSON body the API answers with."""
        return {"code": str(self.code), "message": self.message, "field": self.field}


class InvalidInput(NewRetailError):
    status_code = 422
    code: str = ErrorCode.INVALID_INPUT


class NotFound(NewRetailError):
    status_code = 404
    code: str = ErrorCode.NOT_FOUND


class Unauthenticated(NewRetailError):
    status_code = 401
    code: str = ErrorCode.UNAUTHENTICATED


class Forbidden(NewRetailError):
    status_code = 403
    code: str = ErrorCode.FORBIDDEN


class Conflict(NewRetailError):
    status_code = 409
    code: str = ErrorCode.CONFLICT


class AccountLocked(NewRetailError):
    status_code = 423
    code: str = ErrorCode.ACCOUNT_LOCKED


class CsrfFailed(NewRetailError):
    status_code = 403
    code: str = ErrorCode.CSRF_FAILED


class ConfigurationError(NewRetailError):
    status_code = 500
    code: str = ErrorCode.CONFIGURATION


class Unavailable(NewRetailError):
    status_code = 503
    code: str = ErrorCode.UNAVAILABLE
