"""A posted console form with repeated fields (multiple choices, repeated rows), and the
refusals of a marketing form by form field, in the reader's language."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from newretail.console.forms import FormError, errors_of
from newretail.console.shell import SignedIn, render
from newretail.core import error_text
from newretail.core.errors import NewRetailError
from newretail.core.i18n import DEFAULT_LOCALE, translator
from newretail.marketing.errors import InvalidOffer


@dataclass
class FormValues:
    """Field → every value posted under it (a `<select multiple>` posts several)."""

    values: dict[str, list[str]] = field(default_factory=dict)

    def one(self, name: str) -> str:
        """The field's (last) value, stripped; blank when absent."""
        found = self.values.get(name)
        return found[-1].strip() if found else ""

    def many(self, name: str) -> list[str]:
        """The field's non-blank values, in order."""
        return [v.strip() for v in self.values.get(name, []) if v.strip()]

    def ticked(self, name: str) -> bool:
        return self.one(name) in {"on", "true", "1"}

    def flat(self) -> dict[str, str]:
        """One value per field (what `check_csrf` reads)."""
        return {name: self.one(name) for name in self.values}


async def form_values(request: Request) -> FormValues:
    form = await request.form()
    found: dict[str, list[str]] = {}
    for name, value in form.multi_items():
        if isinstance(value, str):
            found.setdefault(name, []).append(value)
    return FormValues(found)


MultiForm = Annotated[FormValues, Depends(form_values)]
# where a refused value lies (Pydantic's location) → the form field that holds it
FieldOf = Callable[[tuple[Any, ...]], str]


def _offer_text(exc: InvalidOffer, locale: str) -> str:
    """An offer the engine refused, in the reader's language (by the field at fault)."""
    if locale == DEFAULT_LOCALE:
        return exc.message
    return translator(locale)(f"marketing.invalid.{exc.field or 'offer'}")


def refusals(
    exc: Exception, locale: str, field_of: FieldOf, renamed: Mapping[str, str]
) -> dict[str, str]:
    """Form field → why its value was refused; `_form` for what no field holds."""
    if isinstance(exc, FormError):
        return errors_of(exc, locale)
    if isinstance(exc, ValidationError):
        errors: dict[str, str] = {}
        for error in exc.errors():
            location = tuple(error.get("loc", ()))
            errors.setdefault(field_of(location) or "_form", error_text.reason(error, locale))
        return errors
    if isinstance(exc, InvalidOffer):
        name = exc.field or "_form"
        return {renamed.get(name, name): _offer_text(exc, locale)}
    if isinstance(exc, NewRetailError):
        name = exc.field or "_form"
        return {renamed.get(name, name): error_text.domain_error(exc, locale)}
    raise exc


def form_page(
    request: Request,
    template: str,
    identity: SignedIn,
    form: FormValues,
    errors: dict[str, str] | None,
    status_code: int,
    **context: Any,
) -> HTMLResponse:
    """A marketing form page with the values as posted and the refusals by field; it answers
    `status_code` only when there are refusals (200 otherwise)."""
    return render(
        request,
        template,
        identity,
        status_code if errors else 200,
        section="marketing",
        form=form,
        errors=errors or {},
        **context,
    )
