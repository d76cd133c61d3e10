"""The store scope of a query: a principal bound to some stores (a store manager, a store's
write key) sees only the rows of those stores; an organisation-wide one sees them all."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select
from sqlalchemy.orm import InstrumentedAttribute

from newretail.tenancy.permissions import Principal

Statement = TypeVar("Statement", bound=Select[Any])


def store_scoped(
    statement: Statement,
    principal: Principal,
    store_column: InstrumentedAttribute[uuid.UUID] | ColumnElement[uuid.UUID],
) -> Statement:
    """`statement` limited to the rows whose `store_column` names one of the principal's
    stores (unchanged for an organisation-wide principal)."""
    if principal.store_ids is None:
        return statement
    return statement.where(store_column.in_(principal.store_ids))
