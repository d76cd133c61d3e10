"""A campaign's holdout (SQLite and PostgreSQL): the members it holds out are never issued
its coupons, by a bulk issue or an issue to a list, whatever the batches or reruns; the
rule is checked against an independent computation of the documented hash."""

from __future__ import annotations

import hashlib
import uuid

from sqlalchemy import select

from newretail.bootstrap import Container
from newretail.core.database import session_scope
from newretail.marketing import bulk_issue, schemas, stage_coupons
from newretail.marketing.models import Budget, Coupon
from tests.conftest import Org
from tests.marketing.bulk_helpers import a_campaign, members


def in_holdout(campaign_id: uuid.UUID, member_id: uuid.UUID, percent: int) -> bool:
    """docs/marketing.md's rule: SHA-256 of "campaign:member", first 32 bits, mod 100."""
    value = int.from_bytes(hashlib.sha256(f"{campaign_id}:{member_id}".encode()).digest()[:4])
    return value % 100 < percent


def test_the_holdout_is_never_issued_a_coupon(container: Container, org: Org) -> None:
    people = members(300)
    with session_scope(container.sessions, org.id) as session:
        made = a_campaign(session, org.id, issue_limit=1000, holdout_percent=10)
        plan = made.stage(session)
    held_out = sorted(m for m in people if in_holdout(made.campaign.id, m, 10))
    assert 10 <= len(held_out) <= 60  # about 30 of 300: the hash spreads them
    for _ in range(2):  # a rerun holds out the same members
        *_, last = bulk_issue.in_batches(
            lambda: session_scope(container.sessions, org.id), plan, people, batch_size=70
        )
    assert last.report == bulk_issue.BulkReport(
        members=300, already_held=300 - len(held_out), held_out=len(held_out)
    )
    with session_scope(container.sessions, org.id) as session:
        issued = set(session.scalars(select(Coupon.member_id)))
        assert issued == set(people) - set(held_out)
        assert session.scalar(select(Budget.issued)) == 300 - len(held_out)
        # an issue to a list of members goes through the same rule
        stage = made.campaign.stages[0]
        report = stage_coupons.issue_to_members(
            session,
            made.owner,
            made.campaign.id,
            stage.id,
            schemas.IssueRequest(offer_code=made.offer.code, member_ids=held_out[:5]),
        )
        assert (report.issued, report.held_out, report.already_held) == (0, 5, 0)


def test_no_holdout_holds_out_nobody(container: Container, org: Org) -> None:
    people = members(50)
    with session_scope(container.sessions, org.id) as session:
        made = a_campaign(session, org.id, issue_limit=1000)
        plan = made.stage(session)
    *_, last = bulk_issue.in_batches(
        lambda: session_scope(container.sessions, org.id), plan, people
    )
    assert last.report == bulk_issue.BulkReport(members=50, issued=50)
