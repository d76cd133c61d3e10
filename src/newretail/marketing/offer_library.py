"""The organisation's saved offers: create, change, list and find them by code."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from newretail.core.database import by_code_or_not_found, flush_unique, ids_by_code, utcnow
from newretail.core.errors import InvalidInput
from newretail.marketing.models import Offer
from newretail.marketing.offer_specs import OfferSpec, to_template
from newretail.marketing.offers import OfferTemplate
from newretail.tenancy.models import Brand
from newretail.tenancy.permissions import Permission, Principal


def check_spec(session: Session, spec: OfferSpec) -> OfferTemplate:
    """The spec as the engine's template, its brand this organisation's."""
    if spec.brand_id is not None and session.get(Brand, spec.brand_id) is None:
        raise InvalidInput("no such brand in this organisation", field="brand_id")
    return to_template(spec)  # the engine's own checks name the field at fault


def create_offer(session: Session, principal: Principal, spec: OfferSpec) -> Offer:
    principal.require(Permission.MANAGE_MARKETING)
    check_spec(session, spec)
    offer = Offer(
        organization_id=principal.organization_id,
        code=spec.code,
        name=spec.name,
        brand_id=spec.brand_id,
        spec=spec.model_dump(mode="json"),
    )
    session.add(offer)
    flush_unique(session, "code", f"an offer with code {spec.code!r} exists")
    return offer


def replace_offer(session: Session, principal: Principal, code: str, spec: OfferSpec) -> Offer:
    principal.require(Permission.MANAGE_MARKETING)
    offer = get_offer(session, code)
    check_spec(session, spec)
    offer.code, offer.name, offer.brand_id = spec.code, spec.name, spec.brand_id
    offer.spec = spec.model_dump(mode="json")
    offer.updated_at = utcnow()
    flush_unique(session, "code", f"an offer with code {spec.code!r} exists")
    return offer


def get_offer(session: Session, code: str) -> Offer:
    return by_code_or_not_found(session, Offer, code, "offer", field="code")


def list_offers(session: Session) -> Sequence[Offer]:
    return session.scalars(select(Offer).order_by(Offer.code)).all()


def spec_of(offer: Offer) -> OfferSpec:
    return OfferSpec.model_validate(offer.spec)


def offer_ids(session: Session, codes: Sequence[str]) -> list[uuid.UUID]:
    return ids_by_code(session, Offer.code, Offer.id, codes, "offer", field="offer_codes")
