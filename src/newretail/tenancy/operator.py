"""What an operator's CLI command opens: the stores, and one organisation as its owner.

Every domain's CLI goes through here, so "find the organisation by slug or id and act as its
owner" is written once (audited under the `actor` the command names).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple

import typer
from sqlalchemy.orm import Session

from newretail.bootstrap import Container, bootstrap
from newretail.core import migrate
from newretail.core.cli import state
from newretail.core.database import scope_session, session_scope
from newretail.core.errors import ConfigurationError
from newretail.tenancy import service
from newretail.tenancy.models import Role
from newretail.tenancy.permissions import Principal, PrincipalKind

OPERATOR = "operator (CLI)"


class Operator(NamedTuple):
    """The stores and the organisation's owner, for commands that open their own
    transactions (imports commit in batches)."""

    container: Container
    organization_id: uuid.UUID
    principal: Principal


class OperatorSession(NamedTuple):
    """One transaction scoped to the organisation, acting as its owner."""

    container: Container
    session: Session
    principal: Principal


def ready_container(ctx: typer.Context) -> Container:
    """Connect; upgrade an embedded store, refuse an out-of-date production one."""
    container = bootstrap(state(ctx).settings())
    if container.settings.is_embedded:
        migrate.upgrade(container.engine)
    elif not migrate.is_current(container.engine):
        container.close()
        raise ConfigurationError(
            "the database schema is not current; run `newretail db upgrade`", field="database_url"
        )
    return container


def owner_of(organization_id: uuid.UUID, actor: str = OPERATOR) -> Principal:
    """The organisation's owner, as the audit log names `actor`."""
    return Principal.for_role(PrincipalKind.USER, organization_id, Role.OWNER, actor=actor)


def find_organization_id(container: Container, org_ref: str) -> uuid.UUID:
    """The id of the organisation a slug or an id names (not found: a domain error)."""
    with session_scope(container.sessions) as session:
        return service.find_organization(scope_session(session, None), org_ref).id


@contextmanager
def operator(ctx: typer.Context, org_ref: str, actor: str = OPERATOR) -> Iterator[Operator]:
    """The stores and the owner of one organisation; the stores are closed afterwards."""
    container = ready_container(ctx)
    try:
        organization_id = find_organization_id(container, org_ref)
        yield Operator(container, organization_id, owner_of(organization_id, actor))
    finally:
        container.close()


@contextmanager
def operator_session(
    ctx: typer.Context, org_ref: str, actor: str = OPERATOR
) -> Iterator[OperatorSession]:
    """One transaction on one organisation as its owner, committed when the block ends."""
    with (
        operator(ctx, org_ref, actor) as found,
        session_scope(found.container.sessions, found.organization_id) as session,
    ):
        yield OperatorSession(found.container, session, found.principal)
