"""Users of an organisation: console logins and their role and stores (memberships).

Callers own the transaction (services flush, never commit).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newretail.core.database import add_unique, utcnow
from newretail.core.errors import Conflict, InvalidInput, NotFound
from newretail.core.pagination import paginate
from newretail.core.reads import read_of
from newretail.core.security import hash_password
from newretail.tenancy import grants, schemas
from newretail.tenancy.models import Membership, Role, UserAccount, membership_store
from newretail.tenancy.permissions import Permission, Principal

_MISSING_STORE = "a store manager needs at least one store"


def new_user_account(
    session: Session, email: str, password: str, display_name: str = "", locale: str | None = None
) -> UserAccount:
    """A new console login (the e-mail is unique across organisations)."""
    user = UserAccount(
        email=email.lower(),
        password_hash=hash_password(password),
        display_name=display_name,
        locale=locale,
    )
    return add_unique(session, user, "email", "this e-mail already has a NewRetail login")


def login_exists(session: Session, email: str) -> bool:
    """Whether a console login has this e-mail."""
    return (
        session.scalar(select(UserAccount.id).where(UserAccount.email == email.lower())) is not None
    )


def user_read(membership: Membership) -> schemas.UserRead:
    """The API shape of a user: the login with its role and stores here."""
    return read_of(
        schemas.UserRead,
        membership.user,
        role=Role(membership.role),
        store_ids=sorted(s.id for s in membership.stores),
        created_at=membership.created_at,
    )


def list_users(
    session: Session, principal: Principal, limit: int, cursor: str | None
) -> tuple[list[Membership], str | None]:
    """The organisation's users (memberships)."""
    principal.require(Permission.MANAGE_ACCESS)
    return paginate(session, select(Membership), Membership, limit, cursor)


def store_users(session: Session, principal: Principal, store_id: uuid.UUID) -> list[UserAccount]:
    """The active users whose grant covers this store (its store managers), by e-mail."""
    principal.require(Permission.READ)
    return list(
        session.scalars(
            select(UserAccount)
            .join(Membership, Membership.user_id == UserAccount.id)
            .join(membership_store, membership_store.c.membership_id == Membership.id)
            .where(membership_store.c.store_id == store_id, UserAccount.is_active.is_(True))
            .order_by(UserAccount.email)
        ).unique()
    )


def get_membership(session: Session, principal: Principal, user_id: uuid.UUID) -> Membership:
    """A user's membership of this organisation; 404 when not a member."""
    principal.require(Permission.MANAGE_ACCESS)
    membership = session.scalar(select(Membership).where(Membership.user_id == user_id))
    if membership is None:
        raise NotFound("user not found", field="user_id")
    return membership


def create_user(session: Session, principal: Principal, data: schemas.UserCreate) -> Membership:
    """A new console login with a role in this organisation."""
    principal.require(Permission.MANAGE_ACCESS)
    stores = grants.stores_for_role(session, principal, data.role, data.store_ids, _MISSING_STORE)
    user = new_user_account(session, data.email, data.password, data.display_name, data.locale)
    membership = Membership(
        organization_id=principal.organization_id, user_id=user.id, role=data.role
    )
    membership.stores = stores
    session.add(membership)
    session.flush()
    return membership


def add_existing_user(
    session: Session,
    principal: Principal,
    email: str,
    role: Role,
    store_ids: Sequence[uuid.UUID] = (),
) -> Membership:
    """Operator tool: give an existing login a role in another organisation."""
    principal.require(Permission.MANAGE_ACCESS)
    stores = grants.stores_for_role(session, principal, role, store_ids, _MISSING_STORE)
    user = session.scalar(select(UserAccount).where(UserAccount.email == email.lower()))
    if user is None:
        raise NotFound("no login with this e-mail", field="email")
    membership = Membership(organization_id=principal.organization_id, user_id=user.id, role=role)
    membership.stores = stores
    return add_unique(session, membership, "email", "this login is already a member")


def update_user(
    session: Session, principal: Principal, user_id: uuid.UUID, data: schemas.UserUpdate
) -> Membership:
    """Change a user's role, stores, password, name, locale or active flag."""
    membership = get_membership(session, principal, user_id)
    if membership.role == Role.OWNER or data.role == Role.OWNER:
        grants.check_grant(principal, Role.OWNER)
    changes = data.model_dump(exclude_unset=True)
    if "role" in changes:
        if changes["role"] is None:
            raise InvalidInput("must not be null", field="role")
        grants.check_grant(principal, changes["role"])
        membership.role = changes["role"]
    if changes.get("store_ids") is not None:
        membership.stores = grants.stores_field(session, principal, changes["store_ids"])
    if membership.role == Role.STORE_MANAGER and not membership.stores:
        raise InvalidInput(_MISSING_STORE, field="store_ids")
    user = membership.user
    if "password" in changes and changes["password"] is not None:
        user.password_hash = hash_password(changes["password"])
        user.failed_logins, user.locked_until = 0, None
    for name in ("display_name", "locale", "is_active"):
        if name in changes and changes[name] is not None:
            setattr(user, name, changes[name])
    membership.updated_at = utcnow()
    session.flush()
    return membership


def delete_user(session: Session, principal: Principal, user_id: uuid.UUID) -> None:
    """Remove the user from this organisation (the login goes when it has no other)."""
    membership = get_membership(session, principal, user_id)
    if membership.role == Role.OWNER:
        grants.check_grant(principal, Role.OWNER)
        owners = session.scalar(
            select(func.count()).select_from(Membership).where(Membership.role == Role.OWNER)
        )
        if owners == 1:
            raise Conflict("the last owner cannot be removed", field="user_id")
    user = membership.user
    session.delete(membership)
    session.flush()
    others = session.scalar(
        select(func.count())
        .select_from(Membership)
        .where(Membership.user_id == user.id)
        .execution_options(include_all_organizations=True)
    )
    if others == 0:
        session.delete(user)
        session.flush()
