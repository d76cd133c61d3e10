"""The stores a console page offers as choices: those in the signed-in principal's scope, by
code, and the selling ones among them (a warehouse sells nothing)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from newretail.tenancy import service
from newretail.tenancy.models import ChannelType, Store
from newretail.tenancy.permissions import Principal


def stores_by_code(session: Session, principal: Principal) -> list[Store]:
    """Every store (and warehouse) in the principal's scope, by code."""
    return sorted(service.all_stores(session, principal, service.StoreFilter()), key=_code)


def selling(stores: Iterable[Store]) -> list[Store]:
    """The stores that sell: every channel but the warehouse."""
    return [s for s in stores if s.channel_type != ChannelType.WAREHOUSE]


def _code(store: Store) -> str:
    return store.code
