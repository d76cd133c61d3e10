"""The simulator's credentials: a source with a write key and an API key for commerce calls."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from newretail.core.database import scope_session
from newretail.core.security import WRITE_KEY_PREFIX, new_token, token_display_prefix, token_hash
from newretail.tenancy import api_keys as tenancy_api_keys
from newretail.tenancy import schemas
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.models import Role, Source
from newretail.tenancy.permissions import Principal, PrincipalKind

SOURCE_NAME = "Traffic simulator"
API_KEY_NAME = "traffic simulator"


@dataclass(frozen=True)
class SimulatorAccess:
    organization_id: uuid.UUID
    slug: str
    source_id: uuid.UUID
    write_key: str
    api_key: str


def simulator_access(session: Session, organization: str) -> SimulatorAccess:
    """Reuse (or create) the organisation's simulator source with a fresh write key, and mint a
    fresh admin API key for the commerce calls; the previous run's keys stop working."""
    scope_session(session, None)
    org = tenancy_service.find_organization(session, organization)
    scope_session(session, org.id)
    owner = Principal.for_role(PrincipalKind.USER, org.id, Role.OWNER, actor="traffic simulator")
    source = session.scalar(
        select(Source)
        .where(Source.name == SOURCE_NAME, Source.store_id.is_(None))
        .order_by(Source.created_at, Source.id)
        .limit(1)
    )
    if source is None:
        source, write_key = tenancy_service.create_source(
            session, owner, schemas.SourceCreate(name=SOURCE_NAME)
        )
    else:
        # write keys are stored hashed and shown once, so a reused source gets a new one
        write_key = new_token(WRITE_KEY_PREFIX)
        source.write_key_hash = token_hash(write_key)
        source.write_key_prefix = token_display_prefix(write_key, WRITE_KEY_PREFIX)
        tenancy_service.update_source(
            session, owner, source.id, schemas.SourceUpdate(revoked=False)
        )
    tenancy_api_keys.revoke_api_keys_named(session, API_KEY_NAME)
    _, api_key = tenancy_api_keys.create_api_key(
        session, owner, schemas.ApiKeyCreate(name=API_KEY_NAME, role=Role.ADMIN)
    )
    return SimulatorAccess(org.id, org.slug, source.id, write_key, api_key)
