"""Console forms of a member: edit the profile, set marketing consent, adjust points with a
reason. Each calls the members service the API calls (same rules, same permission); a refused
form is shown again with the fields at fault (HTTP 422)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from newretail.console.forms import errors_of
from newretail.console.shell import Form, check_csrf, page_locale, redirect, render
from newretail.core.errors import NewRetailError
from newretail.core.i18n import translator
from newretail.members import consent, forms, points, schemas, service
from newretail.members.errors import MembersError
from newretail.members.models import ConsentChannel, ConsentSource, Gender, MemberStatus
from newretail.tenancy import auth
from newretail.tenancy.dependencies import Identity, SessionDep
from newretail.tenancy.permissions import Permission

router = APIRouter(include_in_schema=False)  # included by members/web.py under /console
REFUSED = (ValidationError, NewRetailError)


def _refused(request: Request, identity: auth.ConsoleIdentity, exc: Exception) -> dict[str, str]:
    """Field -> message of a refused form, members' own messages in the reader's language;
    permission and scope errors are not form errors."""
    if isinstance(exc, NewRetailError) and exc.status_code in (401, 403, 404):
        raise exc
    locale = page_locale(request, identity)
    if isinstance(exc, MembersError):
        return {exc.field or "_form": exc.translated(translator(locale))}
    return errors_of(exc, locale)


def _attempt(
    request: Request, session: Session, identity: auth.ConsoleIdentity, save: Callable[[], None]
) -> dict[str, str] | None:
    """Run one form's change in a savepoint; the refused fields, or None when it was saved."""
    try:
        with session.begin_nested():
            save()
    except REFUSED as exc:
        return _refused(request, identity, exc)
    return None


def _form_page(
    request: Request,
    session: Session,
    identity: auth.ConsoleIdentity,
    member_id: uuid.UUID,
    form: str,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    **context: Any,
) -> Response:
    member = service.get_member(session, identity.principal, member_id)
    return render(
        request,
        f"members/{form}_form.html",
        identity,
        422 if errors else 200,
        section="members",
        member=member,
        values=values,
        errors=errors or {},
        **context,
    )


# ---------------------------------------------------------------- profile
def _profile_page(
    request: Request,
    session: Session,
    identity: auth.ConsoleIdentity,
    member_id: uuid.UUID,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
) -> Response:
    return _form_page(
        request,
        session,
        identity,
        member_id,
        "member",
        values,
        errors,
        genders=[str(g) for g in Gender],
        statuses=[str(s) for s in MemberStatus],
    )


@router.get("/members/{member_id}/edit")
def edit_member_page(
    request: Request, session: SessionDep, identity: Identity, member_id: uuid.UUID
) -> Response:
    """The form of a member's profile and identifiers."""
    identity.principal.require(Permission.MANAGE_MEMBERS)
    member = service.get_member(session, identity.principal, member_id)
    return _profile_page(request, session, identity, member_id, forms.member_values(member))


@router.post("/members/{member_id}/edit")
def update_member(
    request: Request, session: SessionDep, identity: Identity, member_id: uuid.UUID, form: Form
) -> Response:
    """Change a member's profile (same rules as PATCH /api/v1/members/{id})."""
    check_csrf(identity, form)
    identity.principal.require(Permission.MANAGE_MEMBERS)
    service.get_member(session, identity.principal, member_id)  # 404 first

    def save() -> None:
        data = schemas.MemberUpdate.model_validate(forms.member_payload(form))
        service.update_member(session, identity.principal, member_id, data)

    errors = _attempt(request, session, identity, save)
    if errors is not None:
        return _profile_page(request, session, identity, member_id, form, errors)
    return redirect(f"/console/members/{member_id}?saved=profile")


# ---------------------------------------------------------------- consent
def _consent_page(
    request: Request,
    session: Session,
    identity: auth.ConsoleIdentity,
    member_id: uuid.UUID,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
) -> Response:
    return _form_page(
        request,
        session,
        identity,
        member_id,
        "consent",
        values,
        errors,
        channels=[str(c) for c in ConsentChannel],
    )


@router.get("/members/{member_id}/consent")
def edit_consent_page(
    request: Request, session: SessionDep, identity: Identity, member_id: uuid.UUID
) -> Response:
    """Marketing consent per channel, as checkboxes."""
    identity.principal.require(Permission.MANAGE_MEMBERS)
    current = consent.consent_of(session, identity.principal, member_id)
    return _consent_page(request, session, identity, member_id, forms.consent_values(current))


@router.post("/members/{member_id}/consent")
def update_consent(
    request: Request, session: SessionDep, identity: Identity, member_id: uuid.UUID, form: Form
) -> Response:
    """Grant or withdraw marketing consent (same rules as PUT /api/v1/members/{id}/consent)."""
    check_csrf(identity, form)
    identity.principal.require(Permission.MANAGE_MEMBERS)
    current = consent.consent_of(session, identity.principal, member_id)

    def save() -> None:
        items = forms.consent_items(form, current)
        consent.set_consent(
            session, identity.principal, member_id, items, source=ConsentSource.CONSOLE
        )

    errors = _attempt(request, session, identity, save)
    if errors is not None:
        return _consent_page(request, session, identity, member_id, form, errors)
    return redirect(f"/console/members/{member_id}?saved=consent")


# ---------------------------------------------------------------- points
def _points_page(
    request: Request,
    session: Session,
    identity: auth.ConsoleIdentity,
    member_id: uuid.UUID,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
) -> Response:
    balance = points.points_balance(session, identity.principal, member_id)
    return _form_page(
        request, session, identity, member_id, "points", values, errors, balance=balance
    )


@router.get("/members/{member_id}/points")
def adjust_points_page(
    request: Request, session: SessionDep, identity: Identity, member_id: uuid.UUID
) -> Response:
    """The form of a manual points adjustment."""
    identity.principal.require(Permission.MANAGE_MEMBERS)
    return _points_page(request, session, identity, member_id, {"points": "", "reason": ""})


@router.post("/members/{member_id}/points")
def adjust_points(
    request: Request, session: SessionDep, identity: Identity, member_id: uuid.UUID, form: Form
) -> Response:
    """Add or remove available points with a reason (as POST …/points/adjustments)."""
    check_csrf(identity, form)
    identity.principal.require(Permission.MANAGE_MEMBERS)
    service.get_member(session, identity.principal, member_id)  # 404 first

    def save() -> None:
        data = schemas.PointsAdjust.model_validate(forms.points_payload(form))
        points.adjust_points(session, identity.principal, member_id, data)

    errors = _attempt(request, session, identity, save)
    if errors is not None:
        return _points_page(request, session, identity, member_id, form, errors)
    return redirect(f"/console/members/{member_id}?saved=points")
