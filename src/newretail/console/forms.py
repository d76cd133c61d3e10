"""Console forms: run a form's change in a savepoint, keep its refusal as field → message in
the reader's language, and show the form page again with them (HTTP 422).

A handler reads:

    with attempt(session, page_locale(request, identity)) as refusal:
        service.create_product(session, principal, data)
    if refusal.errors:
        return render_form(request, "catalog/product_form.html", identity, form, refusal.errors)
    return redirect(...)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session

from newretail.console.shell import SignedIn, render
from newretail.core import error_text
from newretail.core.errors import NewRetailError
from newretail.core.i18n import DEFAULT_LOCALE, translator

# sign-in, permission and scope refusals are not a form's fault: the error page shows them
NOT_FORM_ERRORS = (401, 403, 404)


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


# what a form refusal can be: the form's own parsing, the schema, or the service's rules
REFUSED = (FormError, ValidationError, NewRetailError)
ErrorsOf = Callable[[Exception, str], dict[str, str]]


@dataclass
class Refusal:
    """What `attempt` kept of a refused form: field → message, and the HTTP status the
    refusal answers with (the domain error's own, 422 for the form and the schema)."""

    errors: dict[str, str] = field(default_factory=dict)
    status_code: int = 422

    def under(self, name: str) -> Refusal:
        """The refusal's first message under one field (a form shown with one error place)."""
        return Refusal({name: next(iter(self.errors.values()))}, self.status_code)


@contextmanager
def attempt(session: Session, locale: str, errors: ErrorsOf = errors_of) -> Iterator[Refusal]:
    """Run a form's change in a savepoint. A refusal (`REFUSED`) rolls the savepoint back and
    is kept in the yielded `Refusal` (`errors` turns it into field → message in `locale`);
    sign-in, permission and scope errors go on to the error page."""
    refusal = Refusal()
    try:
        with session.begin_nested():
            yield refusal
    except REFUSED as exc:
        if isinstance(exc, NewRetailError):
            if exc.status_code in NOT_FORM_ERRORS:
                raise
            refusal.status_code = exc.status_code
        refusal.errors = errors(exc, locale)


def render_form(
    request: Request,
    template: str,
    identity: SignedIn,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    status_code: int = 422,
    **context: Any,
) -> HTMLResponse:
    """A form page with its values; with refused fields it answers `status_code` (422)."""
    return render(
        request,
        template,
        identity,
        status_code if errors else 200,
        values=values,
        errors=errors or {},
        **context,
    )
