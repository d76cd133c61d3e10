"""Consent honoured by every activation (SQLite and PostgreSQL): a stage's coupons issued in
bulk go only to members whose marketing consent allows it now (the members domain's one rule,
`members.consent.consenting`), the others are counted (`no_consent`), and a withdrawal counts
from the very next issue, with nothing refreshed in between."""

from __future__ import annotations

import re
import uuid

import sqlalchemy as sa
from fastapi.testclient import TestClient

from newretail.bootstrap import Container
from newretail.core.database import session_scope
from newretail.marketing.models import Coupon
from newretail.members import consent
from newretail.members.models import ConsentChannel, ConsentPurpose, ConsentSource, Member
from newretail.members.schemas import ConsentItem
from tests.audiences.world import make_members
from tests.conftest import Org, console_login
from tests.marketing.bulk_helpers import a_campaign
from tests.marketing.test_console_issue import _audiences, _finished
from tests.marketing.test_console_pages import _csrf


def test_a_bulk_issue_leaves_out_members_without_consent_and_a_withdrawal_at_once(
    client: TestClient, container: Container, org: Org
) -> None:
    ids = make_members(container, org, 6)  # members 0, 2 and 4 grant marketing everywhere
    with session_scope(container.sessions, org.id) as session:
        made = a_campaign(session, org.id, stages=2, issue_limit=100)
        stages = [str(s.id) for s in made.campaign.stages]
        campaign_id = str(made.campaign.id)
    url = f"/api/v1/marketing/campaigns/{campaign_id}/stages/{{}}/coupons"
    body = {"offer_code": "D11", "member_ids": ids}
    first = client.post(url.format(stages[0]), headers=org.auth(), json=body)
    assert first.status_code == 200, first.text
    assert first.json() | {"refused": {}} == {
        "issued": 3,
        "already_held": 0,
        "no_consent": 3,
        "held_out": 0,
        "refused_budget": 0,
        "refused_member_limit": 0,
        "refused": {},
    }
    # member 2 withdraws marketing consent on every channel; the next issue leaves them out
    withdrawn = client.put(
        f"/api/v1/members/{ids[2]}/consent",
        headers=org.auth(),
        json={
            "consents": [{"channel": str(c), "granted": False} for c in ConsentChannel],
            "source": "api",
        },
    )
    assert withdrawn.status_code == 200, withdrawn.text
    second = client.post(url.format(stages[1]), headers=org.auth(), json=body)
    assert second.status_code == 200, second.text
    assert (second.json()["issued"], second.json()["no_consent"]) == (2, 4)
    with session_scope(container.sessions, org.id) as session:
        holders = session.execute(
            sa.select(Coupon.stage_key, Coupon.member_id).order_by(Coupon.stage_key)
        ).all()
        by_stage: dict[str, set[str]] = {}
        for stage_key, member_id in holders:
            by_stage.setdefault(stage_key, set()).add(str(member_id))
        assert sorted(by_stage.values(), key=len) == [{ids[0], ids[4]}, {ids[0], ids[2], ids[4]}]


def test_consent_on_one_channel_allows_a_coupon_and_a_contact_on_that_channel_only(
    container: Container, org: Org
) -> None:
    ids = [uuid.UUID(i) for i in make_members(container, org, 2)]  # member 0 grants everywhere
    with session_scope(container.sessions, org.id) as session:
        member = session.get(Member, ids[1])
        assert member is not None
        item = ConsentItem(
            purpose=ConsentPurpose.MARKETING, channel=ConsentChannel.SMS, granted=True
        )
        consent.apply_consent(session, member, [item], source=ConsentSource.API, actor="test")
        session.flush()
        assert consent.consenting(session, ids) == set(ids)
        assert consent.consenting(session, ids, channel=ConsentChannel.SMS) == set(ids)
        assert consent.consenting(session, ids, channel=ConsentChannel.EMAIL) == {ids[0]}
        # the SQL form (`consenting`) and the Python form reach uses (`permits`) agree
        granted = consent.granted_channels(session, ids, ConsentPurpose.MARKETING)
        for channel in [None, *ConsentChannel]:
            python = {m for m in ids if consent.permits(granted.get(m, set()), channel)}
            assert consent.consenting(session, ids, channel=channel) == python
        email = ConsentChannel.EMAIL
        assert consent.allows(session, ids[1], ConsentPurpose.MARKETING, email) is False
        assert consent.allows(session, ids[1], ConsentPurpose.MARKETING, None) is True


def test_the_campaign_page_counts_the_members_left_out_for_want_of_consent(
    client: TestClient, container: Container, org: Org
) -> None:
    carts, _ = _audiences(client, container, org)  # 6 members, 3 of them consenting
    with session_scope(container.sessions, org.id) as session:
        made = a_campaign(session, org.id, issue_limit=100)
        campaign_id, stage_id = made.campaign.id, made.campaign.stages[0].id
    page_url = f"/console/marketing/campaigns/{campaign_id}"
    console_login(client, org.owner_email)
    token = _csrf(client.get(page_url, headers={"Accept-Language": "en-GB"}).text)
    started = client.post(
        f"{page_url}/stages/{stage_id}/issue",
        data={"csrf_token": token, "offer_code": "D11", "audience_id": carts},
        follow_redirects=False,
    )
    assert started.status_code == 303, started.text
    done = _finished(client, started.headers["location"].split("#")[0])
    counts = re.search(r'id="issue-counts">([^<]+)</div>', done)
    assert counts is not None
    assert counts.group(1) == (
        "3 issued · 0 already held one · 3 without marketing consent (not sent)"
    )
    client.post("/console/preferences/locale", data={"csrf_token": token, "locale": "zh-CN"})
    zh = client.get(started.headers["location"].split("#")[0]).text
    assert "已发 3 张 · 0 位已持有 · 3 位未同意营销（不发放）" in zh
