"""Earn rules: how a brand's paid order lines earn points, and their management."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import ROUND_FLOOR, Decimal
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from newretail.core.database import apply_changes, flush_or_raise, get_or_raise, partial_changes
from newretail.members import schemas
from newretail.members.errors import (
    EarnRuleExists,
    EarnRuleNotFound,
    RequiredValue,
    UnknownReference,
)
from newretail.members.models import EarnRule
from newretail.tenancy.models import Brand
from newretail.tenancy.permissions import Permission, Principal


class AwardLine(Protocol):
    """What points need to know of a paid order line."""

    @property
    def line_id(self) -> object: ...
    @property
    def product_id(self) -> object: ...
    @property
    def category(self) -> str | None: ...
    @property
    def amount(self) -> Decimal: ...


def _multiplier(rule: EarnRule, line: AwardLine) -> Decimal:
    product = str(line.product_id) if line.product_id is not None else None
    if product is not None and product in rule.product_multipliers:
        return Decimal(str(rule.product_multipliers[product]))
    if line.category is not None and line.category in rule.category_multipliers:
        return Decimal(str(rule.category_multipliers[line.category]))
    return Decimal(1)


def line_points(rule: EarnRule | None, line: AwardLine) -> int:
    """Whole points a line earns: amount * points per unit * multiplier, rounded down."""
    if rule is None or not rule.active:
        return 0
    raw = Decimal(line.amount) * rule.points_per_unit * _multiplier(rule, line)
    return int(raw.to_integral_value(rounding=ROUND_FLOOR))


def brand_rule(session: Session, brand_id: uuid.UUID | None) -> EarnRule | None:
    """The brand's earn rule (orders without a brand earn nothing)."""
    if brand_id is None:
        return None
    return session.scalar(select(EarnRule).where(EarnRule.brand_id == brand_id))


def list_earn_rules(session: Session, principal: Principal) -> Sequence[EarnRule]:
    """Earn rules of every brand, oldest first."""
    principal.require(Permission.READ)
    return session.scalars(select(EarnRule).order_by(EarnRule.created_at, EarnRule.id)).all()


def get_earn_rule(session: Session, principal: Principal, rule_id: uuid.UUID) -> EarnRule:
    """One earn rule; 404 outside the organisation."""
    principal.require(Permission.READ)
    return get_or_raise(session, EarnRule, rule_id, lambda: EarnRuleNotFound(field="rule_id"))


def _multipliers(values: dict[str, Decimal]) -> dict[str, str]:
    return {key: str(value) for key, value in values.items()}


def create_earn_rule(
    session: Session, principal: Principal, data: schemas.EarnRuleCreate
) -> EarnRule:
    """Define how a brand's orders earn points (one rule per brand)."""
    principal.require(Permission.MANAGE_MEMBERS)
    if session.get(Brand, data.brand_id) is None:
        raise UnknownReference(field="brand_id", reason="brand")
    rule = EarnRule(
        organization_id=principal.organization_id,
        brand_id=data.brand_id,
        points_per_unit=data.points_per_unit,
        product_multipliers=_multipliers(data.product_multipliers),
        category_multipliers=_multipliers(data.category_multipliers),
        active=data.active,
    )
    session.add(rule)
    flush_or_raise(session, lambda: EarnRuleExists(field="brand_id"))
    return rule


def update_earn_rule(
    session: Session, principal: Principal, rule_id: uuid.UUID, data: schemas.EarnRuleUpdate
) -> EarnRule:
    """Change an earn rule (orders awarded before keep their points)."""
    principal.require(Permission.MANAGE_MEMBERS)
    rule = get_earn_rule(session, principal, rule_id)
    changes = partial_changes(data, not_null=None, refused=RequiredValue)
    apply_changes(
        rule,
        {
            name: _multipliers(value) if name.endswith("_multipliers") else value
            for name, value in changes.items()
        },
    )
    session.flush()
    return rule


def delete_earn_rule(session: Session, principal: Principal, rule_id: uuid.UUID) -> None:
    """Delete an earn rule; the brand's orders earn nothing until a new rule exists."""
    principal.require(Permission.MANAGE_MEMBERS)
    session.delete(get_earn_rule(session, principal, rule_id))
    session.flush()
