"""Audiences from templates: the ready-made rule trees listed and applied with parameters."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from newretail.audiences.compile_scope import local_today
from newretail.audiences.schemas import AudienceCreate, TemplateApply
from newretail.audiences.service import create_audience
from newretail.audiences.templates import TEMPLATES, TemplateParameters, get_template
from newretail.core.errors import InvalidInput
from newretail.databank import service as databank_service
from newretail.tenancy.permissions import Permission, Principal


def list_templates(session: Session, principal: Principal) -> list[dict[str, Any]]:
    """The ready-made audiences with their rules for today's date."""
    principal.require(Permission.READ)
    config = databank_service.get_config(session, principal)
    parameters = TemplateParameters(as_of=local_today(session, principal), config=config)
    return [
        {
            "key": t.key,
            "name": t.name,
            "description": t.description,
            "parameters": list(t.parameters),
            "rules": t.build(parameters),
        }
        for t in TEMPLATES.values()
    ]


def apply_template(
    session: Session, principal: Principal, key: str, data: TemplateApply
) -> dict[str, Any]:
    """Create an audience from a template and its parameters."""
    principal.require(Permission.MANAGE_MARKETING)
    template = get_template(key)
    given = data.model_fields_set - {"name", "refresh_hours"}
    unused = sorted(given - set(template.parameters))
    if unused:
        raise InvalidInput(f"the template {key} takes no {unused[0]}", field=unused[0])
    config = databank_service.get_config(session, principal)
    parameters = TemplateParameters(
        as_of=local_today(session, principal),
        brand_id=None if data.brand_id is None else str(data.brand_id),
        start=data.start,
        end=data.end,
        days=data.days,
        config=config,
    )
    body = AudienceCreate(
        name=data.name or template.name,
        rules=template.build(parameters),
        refresh_hours=data.refresh_hours,
    )
    return create_audience(session, principal, body, template=key)
