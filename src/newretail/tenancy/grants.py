"""Who may grant what: roles a principal may hand out and the stores a grant covers."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from newretail.core.errors import Forbidden, InvalidInput
from newretail.tenancy.models import Role, Store
from newretail.tenancy.permissions import Principal


def stores_field(
    session: Session, principal: Principal, store_ids: Sequence[uuid.UUID]
) -> list[Store]:
    """The named stores of this organisation, each inside the principal's scope."""
    stores = list(session.scalars(select(Store).where(Store.id.in_(store_ids))))
    if len(stores) != len(set(store_ids)):
        raise InvalidInput("unknown store in this organisation", field="store_ids")
    for store in stores:
        if principal.store_ids is not None and store.id not in principal.store_ids:
            raise InvalidInput("store outside your scope", field="store_ids")
    return stores


def check_grant(principal: Principal, role: str) -> None:
    """Refuse a role the principal may not hand out."""
    if not principal.may_grant(role):
        raise Forbidden(f"your role may not grant {role}", field="role")


def stores_for_role(
    session: Session,
    principal: Principal,
    role: str,
    store_ids: Sequence[uuid.UUID],
    missing_store: str,
) -> list[Store]:
    """Check the grant; the stores a user or key with `role` gets (a store manager needs one)."""
    check_grant(principal, role)
    stores = stores_field(session, principal, store_ids) if store_ids else []
    if role == Role.STORE_MANAGER and not stores:
        raise InvalidInput(missing_store, field="store_ids")
    return stores
