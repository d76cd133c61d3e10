"""The organisation's own settings: its name, time zone and default language."""

from __future__ import annotations

from sqlalchemy.orm import Session

from newretail.core.errors import InvalidInput
from newretail.tenancy import schemas, service
from newretail.tenancy.models import Organization
from newretail.tenancy.permissions import Permission, Principal


def update_organization(
    session: Session, principal: Principal, data: schemas.OrganizationUpdate
) -> Organization:
    """Change the organisation's settings (owners and admins); days are counted in its zone."""
    principal.require(Permission.MANAGE_ORGANIZATION)
    organization = service.get_organization(session, principal.organization_id)
    changes = data.model_dump(exclude_unset=True)
    for name, value in changes.items():
        if value is None:
            raise InvalidInput("must not be null", field=name)
        setattr(organization, name, value)
    session.flush()
    return organization
