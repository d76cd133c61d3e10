"""Console pages of audiences: the list with sizes over time, the builder, insight, export."""

from __future__ import annotations

import json
import uuid
from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError

from newretail.audiences import (
    charts,
    crowd_settings,
    exports,
    forms,
    from_templates,
    refreshing,
    schemas,
    service,
)
from newretail.audiences import insight as audience_insight
from newretail.audiences import web_views as views
from newretail.audiences.conditions import AGE_BANDS, RECENCY_BUCKETS
from newretail.audiences.errors import RuleError
from newretail.audiences.templates import TEMPLATES
from newretail.console.shell import Form, check_csrf, redirect, render, request_locale
from newretail.core import error_text
from newretail.core.errors import InvalidInput, NewRetailError
from newretail.core.i18n import translator
from newretail.members.models import IdentifierType
from newretail.tenancy.dependencies import ContainerDep, Identity, SessionDep, posted_by
from newretail.tenancy.permissions import Permission

router = APIRouter(prefix="/console", include_in_schema=False)


def _t(request: Request, identity: Any) -> Any:
    return translator(request_locale(request, identity.user.locale))


@router.get("/audiences")
def audiences_page(
    request: Request, session: SessionDep, identity: Identity, saved: str = ""
) -> Response:
    principal = identity.principal
    audiences = service.list_audiences(session, principal)
    t = _t(request, identity)
    trends = {
        a["id"]: charts.sizes(
            refreshing.size_history(session, principal, a["id"]),
            t("audiences.size"),
            identity.organization.time_zone,
        )
        for a in audiences
        if a["refreshed_at"] is not None
    }
    return render(
        request,
        "audiences/list.html",
        identity,
        section="audiences",
        audiences=audiences,
        trends=trends,
        templates=list(TEMPLATES.values()),
        floor=crowd_settings.min_crowd_size(session),
        can_manage=principal.can(Permission.MANAGE_MARKETING),
        saved=saved,
    )


@router.post("/audiences/templates")
def create_from_template(
    request: Request, session: SessionDep, identity: Identity, form: Form
) -> Response:
    """Save an audience from a template, named in the reader's language."""
    check_csrf(identity, form)
    key = form.get("key", "")
    name = _t(request, identity)(f"audiences.template.{key}") if key in TEMPLATES else None
    data = schemas.TemplateApply(name=name)
    created = from_templates.apply_template(session, identity.principal, key, data)
    return redirect(f"/console/audiences/{created['id']}")


def _error_text(error: NewRetailError | None, request: Request, identity: Any) -> str | None:
    """A fault as the reader reads it, after the field at fault (rule faults name their
    path in the tree and say why in the reader's language)."""
    if error is None:
        return None
    locale = request_locale(request, identity.user.locale)
    text = error_text.domain_error(error, locale)
    if isinstance(error, RuleError) or not error.field:
        return text
    return f"{error.field}: {text}"


def _builder(
    request: Request,
    session: SessionDep,
    identity: Any,
    container: ContainerDep,
    form: dict[str, str],
    tree: dict[str, Any],
    error: NewRetailError | None = None,
    status_code: int = 200,
) -> Response:
    principal = identity.principal
    estimate: dict[str, Any] | None = None
    conditions = tree.get("all", tree.get("any", []))
    if error is None and conditions:
        try:
            request_body = schemas.EstimateRequest(rules=tree)
            estimate = service.estimate(session, principal, container.warehouse, request_body)
        except NewRetailError as exc:
            error, status_code = exc, 422
    t = _t(request, identity)
    return render(
        request,
        "audiences/builder.html",
        identity,
        status_code,
        section="audiences",
        tree=tree,
        rules_json=json.dumps(tree, ensure_ascii=False),
        pretty=json.dumps(tree, ensure_ascii=False, indent=2),
        conditions=views.condition_rows(session, principal, conditions, t),
        combinator="any" if "any" in tree else "all",
        estimate=estimate,
        error=error,
        error_text=_error_text(error, request, identity),
        name=form.get("name", ""),
        **views.builder_choices(session, principal, t),
        audiences=service.list_audiences(session, principal),
        age_bands=AGE_BANDS,
        buckets=[*RECENCY_BUCKETS, "never"],
        kinds=forms.CONDITION_KINDS,
    )


@router.get("/audiences/new")
def builder_page(
    request: Request, session: SessionDep, identity: Identity, container: ContainerDep
) -> Response:
    identity.principal.require(Permission.MANAGE_MARKETING)
    return _builder(request, session, identity, container, {}, {"all": []})


@router.post("/audiences/new")
def builder_action(
    request: Request,
    session: SessionDep,
    identity: Identity,
    container: ContainerDep,
    form: Form,
) -> Response:
    """Add or remove a condition, apply edited JSON, or save the audience."""
    posted_by(identity, form, Permission.MANAGE_MARKETING)
    action = form.get("action", "")
    try:
        tree = forms.top_level(forms.tree_from_form(form), form.get("combinator", "all"))
        key = "any" if "any" in tree else "all"
        if action == "add":
            tree[key].append(forms.condition_from_form(form))
        elif action == "remove":
            index = int(form.get("index", "-1"))
            if 0 <= index < len(tree[key]):
                tree[key].pop(index)
        elif action == "save":
            body = schemas.AudienceCreate(
                name=form.get("name", "").strip() or "?",
                rules=tree,
                refresh_hours=int(form["refresh_hours"]) if form.get("refresh_hours") else None,
            )
            created = service.create_audience(session, identity.principal, body)
            return redirect(f"/console/audiences/{created['id']}")
    except (NewRetailError, ValidationError, ValueError) as exc:
        # nothing was written: the services validate before they add (the request owns
        # the transaction)
        error = exc if isinstance(exc, NewRetailError) else InvalidInput(str(exc), field="form")
        fallback = form.get("rules", "") or '{"all": []}'
        try:
            kept = forms.tree_from_form({"rules": fallback})
        except NewRetailError:
            kept = {"all": []}
        return _builder(request, session, identity, container, form, kept, error, 422)
    return _builder(request, session, identity, container, form, tree)


@router.post("/audiences/estimate")
def live_estimate(
    request: Request,
    session: SessionDep,
    identity: Identity,
    container: ContainerDep,
    form: Form,
) -> Response:
    """The builder's live estimate (JSON), the same service as POST /api/v1/audiences/estimate."""
    check_csrf(identity, form)
    try:
        tree = forms.tree_from_form(form)
        result = service.estimate(
            session, identity.principal, container.warehouse, schemas.EstimateRequest(rules=tree)
        )
    except NewRetailError as exc:
        problem = exc.as_problem()
        problem["message"] = _error_text(exc, request, identity) or exc.message
        return JSONResponse(problem, status_code=exc.status_code)
    return JSONResponse(
        {"size": result["size"], "suppressed": result["suppressed"], "as_of": str(result["as_of"])}
    )


@router.get("/audiences/{audience_id}")
def audience_page(
    request: Request,
    session: SessionDep,
    identity: Identity,
    container: ContainerDep,
    audience_id: uuid.UUID,
    brand: str = "",
) -> Response:
    principal = identity.principal
    audience = service.get_audience(session, principal, audience_id)
    history = refreshing.size_history(session, principal, audience_id)
    report = audience_insight.insight(
        session, principal, container.warehouse, audience_id, brand or None
    )
    t = _t(request, identity)
    bars = {
        name: charts.bars(
            dimension,
            partial(views.insight_label, t, name),
            t("audiences.hidden_cells"),
        )
        for name, dimension in report["dimensions"].items()
    }
    return render(
        request,
        "audiences/detail.html",
        identity,
        section="audiences",
        audience=audience,
        sentences=views.rule_sentences(session, audience["rules"], t),
        combinator=views.combinator_of(audience["rules"]),
        brands=audience_insight.brands_by_name(session),
        history=history,
        sizes_svg=charts.sizes(history, t("audiences.size"), identity.organization.time_zone)
        if history
        else None,
        report=report,
        bars=bars,
        exports=exports.list_exports(session, principal, audience_id),
        identifier_types=list(IdentifierType),
        can_manage=principal.can(Permission.MANAGE_MARKETING),
    )


@router.post("/audiences/{audience_id}/refresh")
def refresh(
    session: SessionDep,
    identity: Identity,
    container: ContainerDep,
    audience_id: uuid.UUID,
    form: Form,
) -> Response:
    check_csrf(identity, form)
    refreshing.refresh_audience(session, identity.principal, container.warehouse, audience_id)
    return redirect(f"/console/audiences/{audience_id}")


@router.post("/audiences/{audience_id}/export")
def export(
    session: SessionDep,
    identity: Identity,
    container: ContainerDep,
    audience_id: uuid.UUID,
    form: Form,
) -> Response:
    check_csrf(identity, form)
    types = [key.removeprefix("type_") for key in form if key.startswith("type_")]
    try:
        body = schemas.ExportRequest.model_validate(
            {
                "format": form.get("format", "csv"),
                "identifier_types": types or None,
                "consent_channel": form.get("consent_channel") or None,
            }
        )
    except ValidationError as exc:
        raise InvalidInput(
            "choose csv or parquet and known identifier types", field="format"
        ) from exc
    result = exports.export_audience(
        session, identity.principal, container.warehouse, audience_id, body
    )
    return Response(
        result.content,
        media_type=result.media_type,
        headers={"Content-Disposition": f'attachment; filename="{result.filename}"'},
    )
