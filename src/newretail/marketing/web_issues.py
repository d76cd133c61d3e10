"""The campaign page's "Issue coupons" form of a stage: the refusals of a bulk issue to an
audience in the reader's language, by form field, and the started job's progress as the
page shows it (the job itself is `audience_issues`, the same the API starts)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from newretail.core import error_text
from newretail.core.errors import NewRetailError, NotFound
from newretail.core.i18n import translator
from newretail.marketing import audience_issues, schemas
from newretail.tenancy.permissions import Principal
from newretail.warehouse.connection import Warehouse

# (field, error code) of the refusals the form explains in its own words
# (`marketing.issue.refused.<field>.<code>`); an unknown offer or audience is a 404 page
REFUSALS = {
    ("state", "conflict"),
    ("offer_code", "invalid_input"),
    ("audience_id", "invalid_input"),
    ("audience_id", "conflict"),
    ("audience_id", "below_privacy_floor"),
}
FIELDS = ("offer_code", "audience_id")


def request_of(form: Mapping[str, str]) -> schemas.AudienceIssueRequest:
    """The form's offer and audience (blank audience: the stage's own)."""
    audience = form.get("audience_id", "").strip()
    return schemas.AudienceIssueRequest.model_validate(
        {"offer_code": form.get("offer_code", "").strip(), "audience_id": audience or None}
    )


def refusal(exc: Exception, locale: str) -> dict[str, str]:
    """Form field → why the bulk issue was refused (`state` is the campaign's)."""
    t = translator(locale)
    if isinstance(exc, ValidationError):
        fields = [str(e.get("loc", ("offer_code",))[0]) for e in exc.errors()]
        field = next((f for f in fields if f in FIELDS), "offer_code")
        return {field: t(f"marketing.issue.refused.{field}.invalid")}
    if isinstance(exc, NewRetailError):
        field = exc.field or "_form"
        if (field, str(exc.code)) in REFUSALS:
            return {field: t(f"marketing.issue.refused.{field}.{exc.code}")}
        return {field: error_text.domain_error(exc, locale)}
    raise exc


def job_of(warehouse: Warehouse, principal: Principal, job_id: str) -> dict[str, Any] | None:
    """A bulk issue of the organisation as the page shows it (None: not known to this server,
    which forgets its jobs when it restarts)."""
    if not job_id:
        return None
    try:
        job = audience_issues.runner(warehouse).find(principal, job_id)
    except NotFound:
        return None
    shown = job.as_dict()
    shown["share"] = round(100 * job.done / job.total) if job.total else 100
    return shown
