"""Form errors for re-rendering a console form: field → message."""

from __future__ import annotations

from pydantic import ValidationError

from newretail.core.errors import NewRetailError


class FormError(Exception):
    """A form value the page could not turn into a payload (e.g. `abc` for a number)."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def errors_of(exc: Exception) -> dict[str, str]:
    """Field → message for re-rendering a form."""
    if isinstance(exc, FormError):
        return {exc.field: exc.message}
    if isinstance(exc, NewRetailError):
        return {exc.field or "_form": exc.message}
    if isinstance(exc, ValidationError):
        errors: dict[str, str] = {}
        for error in exc.errors():
            location = error.get("loc", ())
            field = str(location[0]) if location else "_form"
            errors.setdefault(field, error.get("msg", "invalid"))
        return errors
    return {"_form": str(exc)}
