"""Console forms of a member: edit the profile, set marketing consent, adjust points with a
reason. Each calls the members service the API calls (same rules, same permission); a refused
form is shown again with the fields at fault (HTTP 422).

The three forms share one shape (`/console/members/{id}/<path>`, MANAGE_MEMBERS, back to the
member page with `?saved=<name>`), so each is a `MemberForm` and one pair of handlers serves
them all.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from newretail.console.forms import attempt, render_form
from newretail.console.shell import Form, page_locale, redirect
from newretail.members import consent, forms, points, schemas, service
from newretail.members.models import ConsentChannel, ConsentSource, Gender, MemberStatus
from newretail.tenancy import auth
from newretail.tenancy.dependencies import Identity, SessionDep, posted_by
from newretail.tenancy.permissions import Permission, Principal

router = APIRouter(include_in_schema=False)  # included by members/web.py under /console
# what a member form reads: from the session, as the signed-in principal, of one member
Values = Callable[[Session, Principal, uuid.UUID], dict[str, str]]
Context = Callable[[Session, Principal, uuid.UUID], dict[str, Any]]


@dataclass(frozen=True)
class MemberForm:
    """One form of a member: its address, template, what it shows and what it saves."""

    path: str  # /console/members/{member_id}/<path>
    template: str  # members/<template>_form.html
    saved: str  # the member page confirms `?saved=<saved>`
    values: Values  # the form's first values
    context: Context  # what else the template shows
    save: Callable[[Session, Principal, uuid.UUID, dict[str, str]], None]
    shown: str  # what the GET page is
    saves: str  # what the POST does


def _profile_values(session: Session, principal: Principal, member_id: uuid.UUID) -> dict[str, str]:
    return forms.member_values(service.get_member(session, principal, member_id))


def _profile_choices(
    session: Session, principal: Principal, member_id: uuid.UUID
) -> dict[str, Any]:
    return {
        "genders": [str(g) for g in Gender],
        "statuses": [str(s) for s in MemberStatus],
    }


def _save_profile(
    session: Session, principal: Principal, member_id: uuid.UUID, form: dict[str, str]
) -> None:
    data = schemas.MemberUpdate.model_validate(forms.member_payload(form))
    service.update_member(session, principal, member_id, data)


def _consent_values(session: Session, principal: Principal, member_id: uuid.UUID) -> dict[str, str]:
    return forms.consent_values(consent.consent_of(session, principal, member_id))


def _consent_channels(
    session: Session, principal: Principal, member_id: uuid.UUID
) -> dict[str, Any]:
    return {"channels": [str(c) for c in ConsentChannel]}


def _save_consent(
    session: Session, principal: Principal, member_id: uuid.UUID, form: dict[str, str]
) -> None:
    items = forms.consent_items(form, consent.consent_of(session, principal, member_id))
    consent.set_consent(session, principal, member_id, items, source=ConsentSource.CONSOLE)


def _points_values(session: Session, principal: Principal, member_id: uuid.UUID) -> dict[str, str]:
    return {"points": "", "reason": ""}


def _points_balance(session: Session, principal: Principal, member_id: uuid.UUID) -> dict[str, Any]:
    return {"balance": points.points_balance(session, principal, member_id)}


def _save_points(
    session: Session, principal: Principal, member_id: uuid.UUID, form: dict[str, str]
) -> None:
    data = schemas.PointsAdjust.model_validate(forms.points_payload(form))
    points.adjust_points(session, principal, member_id, data)


MEMBER_FORMS = (
    MemberForm(
        "edit",
        "member",
        "profile",
        _profile_values,
        _profile_choices,
        _save_profile,
        "The form of a member's profile and identifiers.",
        "Change a member's profile (same rules as PATCH /api/v1/members/{id}).",
    ),
    MemberForm(
        "consent",
        "consent",
        "consent",
        _consent_values,
        _consent_channels,
        _save_consent,
        "Marketing consent per channel, as checkboxes.",
        "Grant or withdraw marketing consent (same rules as PUT /api/v1/members/{id}/consent).",
    ),
    MemberForm(
        "points",
        "points",
        "points",
        _points_values,
        _points_balance,
        _save_points,
        "The form of a manual points adjustment.",
        "Add or remove available points with a reason (as POST …/points/adjustments).",
    ),
)


def _form_page(
    request: Request,
    session: Session,
    identity: auth.ConsoleIdentity,
    member_form: MemberForm,
    member_id: uuid.UUID,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
) -> Response:
    principal = identity.principal
    context = member_form.context(session, principal, member_id)
    return render_form(
        request,
        f"members/{member_form.template}_form.html",
        identity,
        values,
        errors,
        section="members",
        member=service.get_member(session, principal, member_id),
        **context,
    )


def _show(member_form: MemberForm) -> Callable[..., Response]:
    def show(
        request: Request, session: SessionDep, identity: Identity, member_id: uuid.UUID
    ) -> Response:
        identity.principal.require(Permission.MANAGE_MEMBERS)
        values = member_form.values(session, identity.principal, member_id)
        return _form_page(request, session, identity, member_form, member_id, values)

    show.__name__ = f"{member_form.template}_form_page"
    show.__doc__ = member_form.shown
    return show


def _submit(member_form: MemberForm) -> Callable[..., Response]:
    def submit(
        request: Request, session: SessionDep, identity: Identity, member_id: uuid.UUID, form: Form
    ) -> Response:
        principal = posted_by(identity, form, Permission.MANAGE_MEMBERS)
        service.get_member(session, principal, member_id)  # 404 first
        with attempt(session, page_locale(request, identity)) as refusal:
            member_form.save(session, principal, member_id, form)
        if refusal.errors:
            return _form_page(
                request, session, identity, member_form, member_id, form, refusal.errors
            )
        return redirect(f"/console/members/{member_id}?saved={member_form.saved}")

    submit.__name__ = f"submit_{member_form.template}_form"
    submit.__doc__ = member_form.saves
    return submit


for _form in MEMBER_FORMS:
    router.add_api_route(f"/members/{{member_id}}/{_form.path}", _show(_form), methods=["GET"])
    router.add_api_route(f"/members/{{member_id}}/{_form.path}", _submit(_form), methods=["POST"])
