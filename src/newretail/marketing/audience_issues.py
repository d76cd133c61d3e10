"""Bulk issue of a campaign stage's offer to audiences, as a background job of the server.

`POST …/stages/{stage_id}/bulk-issues` checks the request (the campaign issues, the offer is
one of the stage's, the audiences are refreshed and above the privacy floor) and reads the
audiences' stored members in the request, then issues in a thread of the server, a batch of
20,000 members per transaction (`bulk_issue.in_batches`); its progress is read back by id
(`GET /bulk-issues/{id}`), as the Data Bank's backfills are. A crash or restart loses only the
job's record: the batches committed stay, and starting it again issues only what is missing.

The audiences' members live in the warehouse, which marketing does not read (it sits below
audiences in the layers): it names what it needs (`AudienceMembers`) and the composition root
that mounts the API (`newretail.api`) supplies it on `app.state.audience_members`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Annotated, Any, Protocol
from weakref import WeakKeyDictionary

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from newretail.core.background import BackgroundJob, JobRegistry
from newretail.core.database import session_scope
from newretail.core.errors import InvalidInput, NotFound
from newretail.core.http import supplied
from newretail.marketing import bulk_issue, campaigns, schemas, stage_coupons
from newretail.stores import Stores
from newretail.tenancy.permissions import Permission, Principal
from newretail.warehouse.connection import Warehouse


class AudienceMembers(Protocol):
    def __call__(
        self, session: Session, principal: Principal, warehouse: Warehouse, audience_id: uuid.UUID
    ) -> list[uuid.UUID]:
        """The stored members of an audience (refused before its first refresh and below the
        privacy floor)."""
        ...


def audience_members(request: Request) -> AudienceMembers:
    found: AudienceMembers = supplied(request, "audience_members", "newretail.api.mount_api")
    return found


AudienceMembersDep = Annotated[AudienceMembers, Depends(audience_members)]


@dataclass
class BulkIssueJob(BackgroundJob):
    """One bulk issue's progress: members done of the total and the report so far."""

    campaign: str
    stage: str
    offer_code: str
    audience_ids: list[uuid.UUID]
    total: int
    done: int = 0
    report: bulk_issue.BulkReport = field(default_factory=bulk_issue.BulkReport)

    def as_dict(self) -> dict[str, Any]:
        """The API's view of the job."""
        return {
            "id": self.id,
            "campaign": self.campaign,
            "stage": self.stage,
            "offer_code": self.offer_code,
            "audience_ids": self.audience_ids,
            "total": self.total,
            "done": self.done,
            "status": self.status,
            "error": self.error,
            "issued": self.report.issued,
            "already_held": self.report.already_held,
            "no_consent": self.report.no_consent,
            "held_out": self.report.held_out,
            "refused_budget": self.report.refused_budget,
            "refused_member_limit": self.report.refused_member_limit,
            "refused": self.report.refusals(),
            "started_at": self.started_at,
            "finished_at": self.finished_at,
        }


def audience_plan(
    session: Session,
    principal: Principal,
    warehouse: Warehouse,
    members_of: AudienceMembers,
    campaign_id: uuid.UUID,
    stage_id: uuid.UUID,
    body: schemas.AudienceIssueRequest,
) -> tuple[bulk_issue.BulkPlan, list[uuid.UUID], list[uuid.UUID]]:
    """The plan, the audiences (the one asked for, else the stage's own) and their members
    (each once, in id order)."""
    plan = stage_coupons.stage_plan(
        session, principal, campaign_id, stage_id, body.offer_code, store_id=body.store_id
    )
    stage = campaigns.stage_of(campaigns.get_campaign(session, campaign_id), stage_id)
    audience_ids = (
        [body.audience_id]
        if body.audience_id is not None
        else [uuid.UUID(a) for a in stage.audience_ids]
    )
    if not audience_ids:
        raise InvalidInput("the stage has no audience; name one", field="audience_id")
    members: set[uuid.UUID] = set()
    for audience_id in audience_ids:
        members.update(members_of(session, principal, warehouse, audience_id))
    return plan, audience_ids, sorted(members)


def start(
    session: Session,
    principal: Principal,
    stores: Stores,
    members_of: AudienceMembers,
    campaign_id: uuid.UUID,
    stage_id: uuid.UUID,
    body: schemas.AudienceIssueRequest,
) -> BulkIssueJob:
    """Check the request, read the audiences' members and start the bulk issue in a thread of
    the server; the API and the console both start it here."""
    plan, audience_ids, members = audience_plan(
        session, principal, stores.warehouse, members_of, campaign_id, stage_id, body
    )
    campaign = campaigns.get_campaign(session, campaign_id)
    names = (campaign.name, campaigns.stage_of(campaign, stage_id).name)
    return runner(stores.warehouse).start(stores.sessions, plan, names, audience_ids, members)


class BulkIssueRunner:
    """The bulk issues of one server."""

    def __init__(self) -> None:
        self._jobs: JobRegistry[BulkIssueJob] = JobRegistry("marketing-bulk-issue", "bulk issue")

    def start(
        self,
        sessions: sessionmaker[Session],
        plan: bulk_issue.BulkPlan,
        names: tuple[str, str],
        audience_ids: list[uuid.UUID],
        members: Sequence[uuid.UUID],
    ) -> BulkIssueJob:
        """Issue to the members in a thread; returns the job, its progress updated per batch."""
        job = BulkIssueJob(
            uuid.uuid4().hex,
            plan.organization_id,
            names[0],
            names[1],
            plan.offer_code,
            audience_ids,
            len(members),
        )

        def work(issue: BulkIssueJob) -> None:
            transaction = partial(session_scope, sessions, plan.organization_id)
            for progress in bulk_issue.in_batches(transaction, plan, members):
                issue.done, issue.report = progress.done, progress.report

        return self._jobs.start(lambda: job, work)

    def find(self, principal: Principal, job_id: str) -> BulkIssueJob:
        """A bulk issue of the principal's organisation."""
        principal.require(Permission.READ)
        missing = NotFound("no such bulk issue in this server", field="job_id")
        return self._jobs.find(principal.organization_id, job_id, missing)


_RUNNERS: WeakKeyDictionary[Warehouse, BulkIssueRunner] = WeakKeyDictionary()


def runner(warehouse: Warehouse) -> BulkIssueRunner:
    """The bulk issues of the server that holds this warehouse."""
    return _RUNNERS.setdefault(warehouse, BulkIssueRunner())
