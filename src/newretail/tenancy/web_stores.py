"""The stores a console page offers as choices: those in the signed-in principal's scope, by
code, the selling ones among them (a warehouse sells nothing) and the in-person ones (a
shopper walks up to their counter: not online, not the warehouse)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from newretail.tenancy import service
from newretail.tenancy.models import IN_PERSON_CHANNELS, ChannelType, Store
from newretail.tenancy.permissions import Principal


def stores_by_code(session: Session, principal: Principal) -> list[Store]:
    """Every store (and warehouse) in the principal's scope, by code."""
    return sorted(service.all_stores(session, principal, service.StoreFilter()), key=_code)


def selling(stores: Iterable[Store]) -> list[Store]:
    """The stores that sell: every channel but the warehouse."""
    return [s for s in stores if s.channel_type != ChannelType.WAREHOUSE]


def in_person(stores: Iterable[Store]) -> list[Store]:
    """The stores with a counter a shopper walks up to (shops, counters, pop-ups, cloud
    shelves, vending machines), in the order given."""
    return [s for s in stores if s.channel_type in IN_PERSON_CHANNELS]


def _code(store: Store) -> str:
    return store.code
