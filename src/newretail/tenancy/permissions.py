"""Roles, what each may do, and the authenticated principal of a request."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import StrEnum

from newretail.core.errors import Forbidden, NotFound
from newretail.tenancy.models import Role


class Permission(StrEnum):
    READ = "read"  # read the organisation's configuration and analytics
    EDIT_STORES = "stores:edit"  # change fields of stores in scope
    MANAGE_STORES = "stores:manage"  # create and delete stores
    MANAGE_BRANDS = "brands:manage"
    MANAGE_SOURCES = "sources:manage"
    MANAGE_ACCESS = "access:manage"  # users and API keys
    MANAGE_ORGANIZATION = "organization:manage"  # name, time zone, default language
    MANAGE_CATALOG = "catalog:manage"  # products, SKUs, prices
    MANAGE_STOCK = "stock:manage"  # receipts, adjustments, transfers (store scope applies)
    SELL = "orders:sell"  # POS and online orders, refunds (store scope applies)
    MANAGE_MEMBERS = "members:manage"  # profiles, consent, points adjustments
    EXPORT_MEMBER_DATA = "members:export"  # a member's personal data, all of it (owner, admin)
    MANAGE_MARKETING = "marketing:manage"  # audiences, coupons, campaigns
    SEND_EVENTS = "events:send"  # write keys only


_ADMIN = frozenset(Permission) - {Permission.SEND_EVENTS}

ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    Role.OWNER: _ADMIN,
    Role.ADMIN: _ADMIN,
    Role.MARKETER: frozenset(
        {Permission.READ, Permission.MANAGE_MEMBERS, Permission.MANAGE_MARKETING}
    ),
    Role.STORE_MANAGER: frozenset(
        {Permission.READ, Permission.EDIT_STORES, Permission.MANAGE_STOCK, Permission.SELL}
    ),
    Role.ANALYST: frozenset({Permission.READ}),
}

# Higher ranks may grant lower or equal roles; only an owner may grant owner.
ROLE_RANK = {Role.OWNER: 3, Role.ADMIN: 2, Role.MARKETER: 1, Role.STORE_MANAGER: 1, Role.ANALYST: 1}


class PrincipalKind(StrEnum):
    API_KEY = "api_key"
    USER = "user"
    WRITE_KEY = "write_key"


@dataclass(frozen=True)
class Principal:
    """Who is calling, for which organisation, with which role and store scope."""

    kind: PrincipalKind
    organization_id: uuid.UUID
    role: str | None
    actor: str
    # None: every store of the organisation; otherwise only these
    store_ids: frozenset[uuid.UUID] | None = None
    source_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None
    permissions: frozenset[Permission] = field(default_factory=frozenset)

    @classmethod
    def for_role(
        cls,
        kind: PrincipalKind,
        organization_id: uuid.UUID,
        role: str,
        actor: str,
        store_ids: frozenset[uuid.UUID] | None = None,
        user_id: uuid.UUID | None = None,
    ) -> Principal:
        scope = store_ids if role == Role.STORE_MANAGER else None
        return cls(
            kind=kind,
            organization_id=organization_id,
            role=role,
            actor=actor,
            store_ids=scope if scope is not None else None,
            user_id=user_id,
            permissions=ROLE_PERMISSIONS[role],
        )

    @classmethod
    def for_source(
        cls, organization_id: uuid.UUID, source_id: uuid.UUID, store_id: uuid.UUID | None
    ) -> Principal:
        return cls(
            kind=PrincipalKind.WRITE_KEY,
            organization_id=organization_id,
            role=None,
            actor=f"source:{source_id}",
            store_ids=frozenset({store_id}) if store_id else None,
            source_id=source_id,
            permissions=frozenset({Permission.SEND_EVENTS}),
        )

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    def require(self, permission: Permission) -> None:
        """Raise Forbidden unless the principal holds the permission."""
        if permission not in self.permissions:
            raise Forbidden(f"the role {self.role or self.kind} may not do this ({permission})")

    def require_store(self, store_id: uuid.UUID) -> None:
        """Stores outside a store manager's scope do not exist for them."""
        if self.store_ids is not None and store_id not in self.store_ids:
            raise NotFound("store not found", field="store_id")

    def may_grant(self, role: str) -> bool:
        if self.role is None:
            return False
        if role == Role.OWNER:
            return self.role == Role.OWNER
        return ROLE_RANK[Role(self.role)] >= 2
