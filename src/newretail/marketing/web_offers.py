"""Console pages of offers: the offer template form (new, edit, duplicate) and its live
preview, the price of a sample basket under the offer as typed (`previews.preview_offer`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from newretail.console.forms import FormError, attempt
from newretail.console.shell import page_locale, redirect, templates
from newretail.core.i18n import translator
from newretail.marketing import choices, offer_form, offer_library, previews
from newretail.marketing.form_values import FormValues, MultiForm, form_page, refusals
from newretail.marketing.offers import (
    ALLOWED_CLASSES,
    AmountOff,
    BuyXGetY,
    CombinationClass,
    FreeGift,
    PercentOff,
    Threshold,
)
from newretail.tenancy.auth import ConsoleIdentity
from newretail.tenancy.dependencies import Identity, SessionDep, posted_by
from newretail.tenancy.models import ChannelType
from newretail.tenancy.permissions import Permission

router = APIRouter(prefix="/marketing")
SAMPLE_LINES = 4  # rows of the sample basket the form shows
BENEFITS = {
    "amount_off": AmountOff,
    "percent_off": PercentOff,
    "threshold": Threshold,
    "buy_x_get_y": BuyXGetY,
    "free_gift": FreeGift,
}
# the combination classes each kind may take (the engine's rule), for the form's choice
KIND_CLASSES = {
    kind: [str(c) for c in CombinationClass if c in ALLOWED_CLASSES[benefit]]
    for kind, benefit in BENEFITS.items()
}


def _errors(exc: Exception, locale: str) -> dict[str, str]:
    return refusals(exc, locale, offer_form.field_of, offer_form.RENAMED)


def _page(
    request: Request,
    session: Session,
    identity: ConsoleIdentity,
    form: FormValues,
    editing: str = "",
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return form_page(
        request,
        "marketing/offer_form.html",
        identity,
        form,
        errors,
        status_code,
        editing=editing,
        kinds=offer_form.KINDS,
        kind_classes=KIND_CLASSES,
        classes=list(CombinationClass),
        channel_types=[c for c in ChannelType if c is not ChannelType.WAREHOUSE],
        brands=choices.brands(session),
        categories=choices.categories(session),
        products=choices.products(session),
        skus=choices.skus(session),
        stores=choices.stores(session),
        other_offers=choices.offers(session, leaving_out=editing),
        sample_lines=SAMPLE_LINES,
    )


def _save(
    request: Request, session: Session, identity: ConsoleIdentity, form: FormValues, code: str
) -> Response:
    """Create an offer (no `code`) or replace the saved offer `code` as the form gives it: the
    marketing page after, or the form again with its refusals."""
    principal = posted_by(identity, form.flat(), Permission.MANAGE_MARKETING)
    if code:
        offer_library.get_offer(session, code)  # another organisation's: not found
    locale = page_locale(request, identity)
    with attempt(session, locale, _errors) as refusal:
        spec = offer_form.spec_from_form(form)
        if code:
            offer = offer_library.replace_offer(session, principal, code, spec)
        else:
            offer = offer_library.create_offer(session, principal, spec)
    if refusal.errors:
        return _page(request, session, identity, form, code, refusal.errors, refusal.status_code)
    return redirect(f"/console/marketing?saved_offer={offer.code}")


@router.get("/offers/new")
def new_offer_page(
    request: Request, session: SessionDep, identity: Identity, copy: str = ""
) -> Response:
    """A blank offer form, or a saved offer's values under a new code (duplicate)."""
    identity.principal.require(Permission.MANAGE_MARKETING)
    form = FormValues({"kind": ["threshold"], "combination_class": ["order"]})
    if copy:
        form = offer_form.form_of(offer_library.spec_of(offer_library.get_offer(session, copy)))
        t = translator(page_locale(request, identity))
        form.values["code"] = [f"{copy}-COPY"[:64]]
        form.values["name"] = [t("marketing.form.copy_of", name=form.one("name"))]
    return _page(request, session, identity, form)


@router.post("/offers/new")
def create_offer(
    request: Request, session: SessionDep, identity: Identity, form: MultiForm
) -> Response:
    return _save(request, session, identity, form, "")


@router.get("/offers/{code}/edit")
def edit_offer_page(
    request: Request, session: SessionDep, identity: Identity, code: str
) -> Response:
    identity.principal.require(Permission.MANAGE_MARKETING)
    offer = offer_library.get_offer(session, code)
    form = offer_form.form_of(offer_library.spec_of(offer))
    return _page(request, session, identity, form, editing=offer.code)


@router.post("/offers/{code}/edit")
def replace_offer(
    request: Request, session: SessionDep, identity: Identity, code: str, form: MultiForm
) -> Response:
    return _save(request, session, identity, form, code)


@router.post("/offers/preview")
def preview(request: Request, session: SessionDep, identity: Identity, form: MultiForm) -> Response:
    """The form's offer priced on its sample basket: the preview's HTML, or the refusals by
    form field (HTTP 422)."""
    posted_by(identity, form.flat(), Permission.MANAGE_MARKETING)
    locale = page_locale(request, identity)
    priced: previews.PreviewRead | None = None
    with attempt(session, locale, _errors) as refusal:
        offer_form.spec_from_form(form)  # the offer's own refusals first
        if not offer_form.preview_payload(form)["lines"]:
            raise FormError.keyed("basket", "marketing.form.choose_basket")
        body = offer_form.preview_from_form(form)
        priced = previews.preview_offer(session, identity.principal, body)
    if refusal.errors or priced is None:
        return JSONResponse({"errors": refusal.errors}, status_code=422)
    html = templates.get_template("marketing/offer_preview.html").render(
        t=translator(locale), priced=priced
    )
    return JSONResponse({"errors": {}, "total": str(priced.total), "html": html})
