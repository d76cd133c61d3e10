"""Helpers for the members tests: an owner principal and a session on the test organisation."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from newretail.bootstrap import Container
from newretail.core.database import session_scope
from newretail.tenancy.models import Role
from newretail.tenancy.permissions import Principal, PrincipalKind
from tests.conftest import Org


def owner_of(org: Org) -> Principal:
    return Principal.for_role(PrincipalKind.USER, org.id, Role.OWNER, actor="tester")


@contextmanager
def org_session(container: Container, org: Org) -> Iterator[Session]:
    """One committed transaction scoped to the organisation."""
    with session_scope(container.sessions, org.id) as session:
        yield session
