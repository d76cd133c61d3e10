"""The coupons a sale names, at a till or a checkout: found, priced by the one engine
(`engine.price_basket`), redeemed in the sale's own transaction, and given back by a refund.

The order ledger calls these in the order it writes the sale: `find` (one query: the coupons,
their offers and the organisation's time zone), `price` (the engine; an offer it refuses
refuses the sale, naming `coupons[i]`), then, after the order row is inserted, `redeem`
(`redemption.redeem`, or `redemption.redeem_late` for an offline till's sale) in coupon id
order, so two sales with the same coupons lock them in one order.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from newretail.core.errors import NewRetailError
from newretail.core.localtime import DEFAULT_ZONE
from newretail.marketing import engine, redemption, redemption_postgres
from newretail.marketing.basket import Basket, PricedBasket, SaleContext
from newretail.marketing.coupons import code_hash
from newretail.marketing.errors import LedgerError, LedgerErrorCode, RefusalCode
from newretail.marketing.models import Coupon, CouponState, Offer, RedemptionConflict
from newretail.marketing.offer_specs import OfferSpec, to_template
from newretail.marketing.offers import OfferTemplate, RefundRule
from newretail.tenancy.models import ChannelType, Organization

_REFUSALS = {
    RefusalCode.NOT_YET_VALID: "the offer {offer} is not valid yet",
    RefusalCode.EXPIRED: "the offer {offer} has expired",
    RefusalCode.NOT_ISSUED: "the offer {offer} is valid days after issue and was not issued",
    RefusalCode.WRONG_CHANNEL: "the offer {offer} is not valid in this channel or store",
    RefusalCode.OUT_OF_SCOPE: "the offer {offer} covers none of the items",
    RefusalCode.NOT_COMBINABLE: "the offer {offer} does not combine with {blocking_offer}",
    RefusalCode.BELOW_MINIMUM_SPEND: "the items of the offer {offer} cost less than it needs",
    RefusalCode.BELOW_MINIMUM_QUANTITY: "too few items for the offer {offer}",
    RefusalCode.NOTHING_TO_DISCOUNT: "the offer {offer} has nothing to take off",
    RefusalCode.DUPLICATE: "the offer {offer} is given twice",
}


class CouponRefused(NewRetailError, status=422):
    """An offer the engine did not apply to the sale's basket: the sale is refused; `code` is
    the engine's reason (`below_minimum_spend`, `wrong_channel`, ...)."""

    def __init__(self, field: str, offer: str, reason: RefusalCode, blocking: str | None) -> None:
        values = {"offer": offer, "blocking_offer": blocking or ""}
        super().__init__(_REFUSALS[reason].format(**values), field=field)
        self.code = reason
        self.params = values


@dataclass(frozen=True)
class HeldCoupon:
    """One coupon the sale names, at `index` in its `coupons` list, with its offer."""

    index: int
    coupon_id: uuid.UUID
    issued_at: datetime
    template: OfferTemplate

    @property
    def field(self) -> str:
        return f"coupons[{self.index}]"


@dataclass(frozen=True)
class SaleCoupons:
    """The coupons of one sale and the organisation's time zone (for the offers' days)."""

    held: tuple[HeldCoupon, ...]
    zone_name: str

    def context(
        self, channel_type: str, store_id: uuid.UUID, member_id: uuid.UUID | None
    ) -> SaleContext:
        """The engine's view of the sale: where, who, and when each offer was issued."""
        return SaleContext(
            zone_name=self.zone_name,
            channel_type=ChannelType(channel_type),
            store_id=store_id,
            member_id=member_id,
            issued_at={held.template.code: held.issued_at for held in self.held},
        )


_TEMPLATES: dict[tuple[uuid.UUID, Any], OfferTemplate] = {}


def _template(
    offer_id: uuid.UUID, code: str, spec: dict[str, Any] | str, changed: Any
) -> OfferTemplate:
    """The engine's template of a saved offer, built once per version of the offer (`spec`:
    the saved JSON, or its text, parsed only when the version is new to the process)."""
    key = (offer_id, changed)
    template = _TEMPLATES.get(key)
    if template is None or template.code != code:
        saved = json.loads(spec) if isinstance(spec, str) else spec
        template = to_template(OfferSpec.model_validate(saved))
        if len(_TEMPLATES) > 4096:
            _TEMPLATES.clear()
        _TEMPLATES[key] = template
    return template


def _as_id(reference: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(reference)
    except ValueError:
        return None


# the coupons a sale names with their offers and the organisation's time zone, as one JSON
# array of rows (PostgreSQL's form of `_lookup_statement`: a till's sale reads it as a column
# of the statement that reads its prices, `orders.pos_context.read_with`); `{where}`: one
# coupon by its id or by its code's hash, a scalar each (planned once for all values, and on
# its own unique index whatever the table's statistics say: an OR of the two let a plan made
# before the coupons were analysed filter every coupon of the organisation), or several by
# arrays. The offer's spec comes as text: `_template` parses it only for a version of the
# offer new to the process.
_FIND_JSON = """
SELECT json_agg(json_build_array(c.id, c.code_hash, c.created_at, o.id, o.code,
    CAST(o.spec AS text), o.updated_at, z.time_zone))
FROM coupon c JOIN offer o ON o.id = c.offer_id JOIN organization z ON z.id = c.organization_id
WHERE c.organization_id = %(organization_id)s AND {where}
"""
FIND_BY_ID_SQL = _FIND_JSON.format(where="c.id = %(coupon_id)s")
FIND_BY_CODE_SQL = _FIND_JSON.format(where="c.code_hash = %(code_hash)s")
FIND_MANY_SQL = _FIND_JSON.format(
    where="(c.id = ANY(%(coupon_ids)s) OR c.code_hash = ANY(%(code_hashes)s))"
)


@dataclass(frozen=True)
class Lookup:
    """The coupons a sale names: by id, or by the hash of a printed code."""

    references: tuple[str, ...]
    ids: dict[str, uuid.UUID | None]
    hashes: dict[str, str]

    def statement(self, organization_id: uuid.UUID) -> tuple[str, dict[str, Any]]:
        """PostgreSQL's query that finds them (`FIND_BY_ID_SQL`, `FIND_BY_CODE_SQL` or
        `FIND_MANY_SQL`: their rows as one JSON value), with its parameters."""
        ids = [id_ for id_ in self.ids.values() if id_ is not None]
        hashes = list(self.hashes.values())
        if len(self.references) == 1:
            if ids:
                return FIND_BY_ID_SQL, {"organization_id": organization_id, "coupon_id": ids[0]}
            return FIND_BY_CODE_SQL, {"organization_id": organization_id, "code_hash": hashes[0]}
        return FIND_MANY_SQL, {
            "organization_id": organization_id,
            "coupon_ids": ids,
            "code_hashes": hashes,
        }


def found_json(wanted: Lookup, value: Sequence[Sequence[Any]] | None) -> SaleCoupons:
    """The sale's coupons from the JSON value `Lookup.statement`'s query answered."""
    rows = [
        (
            uuid.UUID(coupon_id),
            hashed,
            datetime.fromisoformat(issued_at),
            uuid.UUID(offer_id),
            code,
            spec,
            changed,
            zone,
        )
        for coupon_id, hashed, issued_at, offer_id, code, spec, changed, zone in value or ()
    ]
    return found(wanted, rows)


def lookup(references: Sequence[str]) -> Lookup:
    """How to find the coupons the sale names (`coupons[i]`: an id, else a printed code)."""
    ids = {reference: _as_id(reference) for reference in references}
    hashes = {reference: code_hash(reference) for reference, id_ in ids.items() if id_ is None}
    return Lookup(tuple(references), ids, hashes)


def _lookup_statement(wanted: Lookup, organization_id: uuid.UUID) -> Any:
    conditions = [Coupon.id.in_([id_ for id_ in wanted.ids.values() if id_ is not None])]
    if wanted.hashes:
        conditions.append(Coupon.code_hash.in_(list(wanted.hashes.values())))
    return (
        select(
            Coupon.id,
            Coupon.code_hash,
            Coupon.created_at,
            Offer.id,
            Offer.code,
            Offer.spec,
            Offer.updated_at,
            Organization.time_zone,
        )
        .join(Offer, Offer.id == Coupon.offer_id)
        .join(Organization, Organization.id == Coupon.organization_id)
        .where(or_(*conditions), Coupon.organization_id == organization_id)
    )


def found(wanted: Lookup, rows: Sequence[Sequence[Any]]) -> SaleCoupons:
    """The sale's coupons from the rows `find` (or `found_json`) read; an unknown one is
    refused as `coupon_not_found` naming `coupons[i]`."""
    by_id = {row[0]: row for row in rows}
    by_hash = {row[1]: row for row in rows if row[1] is not None}
    held = []
    zone_name: str | None = None
    for index, reference in enumerate(wanted.references):
        id_ = wanted.ids[reference]
        row = by_id.get(id_) if id_ is not None else by_hash.get(wanted.hashes[reference])
        if row is None:
            raise LedgerError(LedgerErrorCode.COUPON_NOT_FOUND, field=f"coupons[{index}]")
        coupon_id, _hash, issued_at, offer_id, code, spec, changed, zone_name = row
        template = _template(offer_id, code, spec, changed)
        held.append(HeldCoupon(index, coupon_id, issued_at, template))
    return SaleCoupons(tuple(held), zone_name or DEFAULT_ZONE)


def find(session: Session, organization_id: uuid.UUID, references: Sequence[str]) -> SaleCoupons:
    """The coupons named by id or printed code, with their offers (one query, scoped to the
    organisation here: it runs on the connection, beside the ORM's filter)."""
    wanted = lookup(references)
    statement = _lookup_statement(wanted, organization_id)
    return found(wanted, session.connection().execute(statement).all())


def price(coupons: SaleCoupons, basket: Basket, at: datetime, context: SaleContext) -> PricedBasket:
    """The basket priced by the engine with the coupons' offers; the first coupon (in the
    sale's order) whose offer did not apply refuses the sale (`CouponRefused`)."""
    priced = engine.price_basket(basket, [held.template for held in coupons.held], at, context)
    refused = {r.code: r for r in priced.refused if r.reason is not RefusalCode.DUPLICATE}
    seen: set[str] = set()
    for held in coupons.held:
        code = held.template.code
        if code in seen:
            raise CouponRefused(held.field, code, RefusalCode.DUPLICATE, None)
        seen.add(code)
        if code in refused:
            reason = refused[code]
            raise CouponRefused(held.field, code, reason.reason, reason.blocking_offer)
    return priced


def _uses(
    coupons: SaleCoupons, priced: PricedBasket, use: redemption.Redemption
) -> list[tuple[HeldCoupon, redemption.Redemption]]:
    """Each coupon with its redemption (its discount is its offer's), in coupon id order, so
    two sales with the same coupons lock them in one order."""
    discounts = {applied.code: applied.discount for applied in priced.applied}
    return [
        (
            held,
            redemption.Redemption(
                use.order_ref, use.store_id, discounts[held.template.code], use.member_id
            ),
        )
        for held in sorted(coupons.held, key=lambda held: held.coupon_id)
    ]


@contextmanager
def _naming(held: HeldCoupon) -> Iterator[None]:
    """A refusal names the coupon as the sale gave it (`coupons[i]`)."""
    try:
        yield
    except LedgerError as refused:
        refused.field = held.field
        raise


@dataclass(frozen=True)
class ForOrder:
    """A sale's coupons as priced, to be redeemed for its order (`use` names the order, the
    store and the member; each coupon's discount is its offer's), as of `at`, by `actor`."""

    coupons: SaleCoupons
    priced: PricedBasket
    use: redemption.Redemption
    actor: str
    at: datetime


def redeem(
    session: Session, sale: ForOrder, *, sold_offline: bool = False
) -> list[RedemptionConflict]:
    """Redeem every coupon for the order. An offline till's sale redeems as of its sale time
    and a coupon used elsewhere meanwhile is returned as a conflict for review; any other
    refusal raises, naming `coupons[i]`."""
    conflicts = []
    for held, this in _uses(sale.coupons, sale.priced, sale.use):
        with _naming(held):
            if sold_offline:
                result = redemption.redeem_late(session, held.coupon_id, this, sale.at, sale.actor)
                if isinstance(result, RedemptionConflict):
                    conflicts.append(result)
            else:
                redemption.redeem(session, held.coupon_id, this, sale.actor, now=sale.at)
    return conflicts


@dataclass(frozen=True)
class Pending:
    """A sale's redemptions, for the PostgreSQL statement that inserts its order to make
    (`orders.pos_postgres.sell`): each one's `redemption_postgres.statement` parameters."""

    uses: tuple[tuple[HeldCoupon, redemption.Redemption], ...]
    parameters: tuple[dict[str, Any], ...]
    at: datetime


def pending(session: Session, sale: ForOrder) -> Pending:
    """What redeems every coupon for the order, in coupon id order."""
    uses = _uses(sale.coupons, sale.priced, sale.use)
    parameters = tuple(
        redemption.statement(session, held.coupon_id, this, sale.actor, sale.at)[1]
        for held, this in uses
    )
    return Pending(tuple(uses), parameters, sale.at)


def settle(session: Session, sent: Pending, answers: Sequence[Sequence[Any]]) -> None:
    """What each redemption answered: a refusal raises, naming `coupons[i]`."""
    for (held, this), answer in zip(sent.uses, answers, strict=True):
        with _naming(held):
            outcome = redemption_postgres.Outcome(tuple(answer), returning=False)
            redemption.settle(session, held.coupon_id, this, sent.at, outcome)


def same_coupons(session: Session, order_ref: str, references: Sequence[str]) -> bool:
    """Whether a sale sent again names the coupons its order used (redeemed, or recorded as a
    conflict for review), each by id or printed code, and no other."""
    coupon = select(Coupon.id, Coupon.code_hash)
    used = session.execute(
        coupon.where(Coupon.order_ref == order_ref, Coupon.state == CouponState.REDEEMED)
    ).all()
    conflicted = session.execute(
        coupon.join(RedemptionConflict, RedemptionConflict.coupon_id == Coupon.id).where(
            RedemptionConflict.order_ref == order_ref
        )
    ).all()
    recorded = {coupon_id: hashed for coupon_id, hashed in [*used, *conflicted]}
    by_hash = {hashed: coupon_id for coupon_id, hashed in recorded.items() if hashed}
    wanted = lookup(references)
    named = {
        wanted.ids[reference] or by_hash.get(wanted.hashes[reference])
        for reference in wanted.references
    }
    return len(wanted.references) == len(recorded) and named == set(recorded)


def restore_order(
    session: Session,
    order_ref: str,
    actor: str,
    *,
    whatever_the_rule: bool = False,
    now: datetime | None = None,
) -> list[uuid.UUID]:
    """Give back the coupons an order used, when its offer's refund rule says so (or
    `whatever_the_rule`: the sale was cancelled) and they are still valid; returns the ids
    restored."""
    used = session.execute(
        select(Coupon.id, Offer.spec)
        .join(Offer, Offer.id == Coupon.offer_id)
        .where(Coupon.order_ref == order_ref, Coupon.state == CouponState.REDEEMED)
        .order_by(Coupon.id)
    ).all()
    restored = []
    for coupon_id, spec in used:
        rule = OfferSpec.model_validate(spec).refund_rule
        if rule is RefundRule.FORFEIT and not whatever_the_rule:
            continue
        coupon = redemption.restore(session, coupon_id, order_ref, actor, now=now)
        if coupon.state == CouponState.ISSUED:
            restored.append(coupon_id)
    return restored
