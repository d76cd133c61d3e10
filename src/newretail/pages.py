"""Mounts every domain's console pages and the shell's assets, as api.py mounts the routers."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from fastapi import FastAPI
from sqlalchemy.orm import Session

from newretail.audiences import service as audiences_service
from newretail.audiences.web import router as audiences_pages
from newretail.catalog.web import router as catalog_pages
from newretail.console.shell import mount_assets, templates
from newretail.databank.web import router as databank_pages
from newretail.diagnosis.analysis_web import router as analysis_pages
from newretail.diagnosis.cause_web import router as cause_pages
from newretail.diagnosis.recommendation_web import router as recommendation_pages
from newretail.diagnosis.report_routes import console_router as diagnosis_report_pages
from newretail.diagnosis.web import router as diagnosis_pages
from newretail.events.web import router as events_pages
from newretail.identity.web import router as identity_pages
from newretail.inventory.web import router as stock_pages
from newretail.marketing.directory import Named
from newretail.marketing.web import router as marketing_pages
from newretail.members import service as members_service
from newretail.members.models import Member
from newretail.members.web import router as members_pages
from newretail.orders.web import router as orders_pages
from newretail.privacy import export as privacy_export
from newretail.privacy.web import router as privacy_pages
from newretail.reach import inbox as reach_inbox
from newretail.reach.trigger_web import router as reach_trigger_pages
from newretail.reach.web import router as reach_pages
from newretail.reach.web_lift import router as reach_lift_pages
from newretail.reach.web_screen import router as reach_screen_pages
from newretail.tenancy.permissions import Permission, Principal
from newretail.tenancy.web import router as tenancy_pages

DOMAIN_PAGES = [
    tenancy_pages,
    catalog_pages,
    stock_pages,
    members_pages,
    identity_pages,
    events_pages,
    orders_pages,
    privacy_pages,
    databank_pages,
    audiences_pages,
    marketing_pages,
    reach_pages,
    reach_trigger_pages,
    reach_lift_pages,
    reach_screen_pages,
    analysis_pages,
    recommendation_pages,
    cause_pages,
    diagnosis_pages,
    diagnosis_report_pages,
]


class MarketingDirectory:
    """Audiences and members by name for marketing's pages (marketing.directory.Directory)."""

    def audiences(self, session: Session, principal: Principal) -> Sequence[Named]:
        found = audiences_service.list_audiences(session, principal)
        return [Named(uuid.UUID(str(a["id"])), str(a["name"])) for a in found]

    def find_members(
        self, session: Session, principal: Principal, text: str, limit: int
    ) -> Sequence[Named]:
        filters = members_service.MemberFilter(q=text)
        found, _ = members_service.member_page(session, principal, filters, 1, limit)
        return [_member(m) for m in found]

    def member(self, session: Session, principal: Principal, member_id: uuid.UUID) -> Named:
        return _member(members_service.get_member(session, principal, member_id))


def _member(member: Member) -> Named:
    return Named(member.id, member.name or "", member.phone or "")


def member_inbox(session: Session, member_id: uuid.UUID, locale: str) -> Sequence[object]:
    """The member 360 page's inbox section (members.web.MemberInbox): reach's messages."""
    return reach_inbox.message_reads(session, reach_inbox.recent(session, member_id), locale)


def mount_pages(app: FastAPI) -> None:
    """Every domain's console pages and the shell's static assets."""
    app.state.marketing_directory = MarketingDirectory()
    app.state.member_inbox = member_inbox
    app.state.member_data_requests = privacy_export.requests_of
    templates.env.globals["Permission"] = Permission  # `identity.principal.can(Permission.X)`
    for router in DOMAIN_PAGES:
        app.include_router(router)
    mount_assets(app)
