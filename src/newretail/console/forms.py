"""Form errors for re-rendering a console form: field → message in the reader's language."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from newretail.core import error_text
from newretail.core.errors import NewRetailError
from newretail.core.i18n import DEFAULT_LOCALE, translator


class FormError(Exception):
    """A form value the page could not turn into a payload (e.g. `abc` for a number).

    `key` names the message in the locale catalogues (`message` is its English text).
    """

    def __init__(self, field: str, message: str, key: str | None = None, **values: Any):
        super().__init__(message)
        self.field = field
        self.message = message
        self.key = key
        self.values = values

    @classmethod
    def keyed(cls, field: str, key: str, **values: Any) -> FormError:
        """A refusal whose message is `key` in the catalogues (English from the en one)."""
        return cls(field, translator(DEFAULT_LOCALE)(key, **values), key, **values)


def errors_of(exc: Exception, locale: str = DEFAULT_LOCALE) -> dict[str, str]:
    """Field → message for re-rendering a form, in `locale`."""
    if isinstance(exc, FormError):
        if exc.key is None or locale == DEFAULT_LOCALE:
            return {exc.field: exc.message}
        return {exc.field: translator(locale)(exc.key, **exc.values)}
    if isinstance(exc, NewRetailError):
        return {exc.field or "_form": error_text.domain_error(exc, locale)}
    if isinstance(exc, ValidationError):
        errors: dict[str, str] = {}
        for error in exc.errors():
            location = error.get("loc", ())
            field = str(location[0]) if location else "_form"
            errors.setdefault(field, error_text.reason(error, locale))
        return errors
    return {"_form": str(exc)}
