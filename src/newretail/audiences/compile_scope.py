"""What compiling a rule tree needs from the operational store: the organisation's brands,
Data Bank settings, time zone, saved audiences' versions and the reference date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from newretail.audiences import compiler
from newretail.audiences.models import Audience
from newretail.core import localtime
from newretail.databank import service as databank_service
from newretail.tenancy import service as tenancy_service
from newretail.tenancy.permissions import Principal


@dataclass(frozen=True)
class Scope:
    organization_id: str
    brands: list[str]
    context: compiler.CompileContext


def local_today(session: Session, principal: Principal) -> date:
    """Today in the organisation's time zone (the default reference date)."""
    return localtime.today(tenancy_service.organisation_zone(session, principal.organization_id))


def compile_scope(session: Session, principal: Principal, as_of: date | None) -> Scope:
    """The organisation's compile context on a reference date (default: its today)."""
    databank = databank_service.scope_of(session, principal)
    versions = {
        str(a_id): version
        for a_id, version in session.execute(select(Audience.id, Audience.version))
    }
    zone = databank.config.time_zone  # the organisation's: its days are the audiences' days
    context = compiler.CompileContext(
        organization_id=databank.organization_id,
        brands=databank.brands,
        as_of=as_of or localtime.today(zone),
        config=databank.config,
        versions=versions,
        zone=zone,
    )
    return Scope(databank.organization_id, databank.brands, context)
