"""The marketing console: campaigns with their stages and budgets, approving from the page,
the audit, offers and coupon lookup, in English and Chinese."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

from fastapi.testclient import TestClient

from newretail.bootstrap import Container
from newretail.core.database import session_scope
from newretail.marketing import coupons
from tests.conftest import Org, console_login
from tests.marketing.test_campaign_api import THRESHOLD, plan

# a printed coupon valid over the campaign's days (2027-10-20 to 2027-12-11 in Shanghai)
PRINTED_FROM = datetime(2027, 10, 19, 16, tzinfo=UTC)
PRINTED_UNTIL = datetime(2027, 12, 11, 16, tzinfo=UTC)


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def test_plan_approve_and_look_up_from_the_console(
    client: TestClient, container: Container, org: Org
) -> None:
    client.post("/api/v1/marketing/offers", headers=org.auth(), json=THRESHOLD)
    campaign = client.post("/api/v1/marketing/campaigns", headers=org.auth(), json=plan(org)).json()
    console_login(client, org.owner_email)
    page = client.get("/console/marketing", headers={"Accept-Language": "en-GB"})
    assert page.status_code == 200
    assert f'href="/console/marketing/campaigns/{campaign["id"]}">Double 11</a>' in page.text
    assert ">Draft</span>" in page.text
    assert '<td class="offer-benefit">Spend ¥300, save ¥40, for every ¥300</td>' in page.text
    detail = client.get(f"/console/marketing/campaigns/{campaign['id']}")
    assert "30-day offline extension" in detail.text and "Offline stores only" in detail.text
    assert "Store 0" in detail.text and "0 / 100" in detail.text  # the store budget's burn
    approved = client.post(
        f"/console/marketing/campaigns/{campaign['id']}/state",
        data={"csrf_token": _csrf(detail.text), "change": "approved"},
        follow_redirects=False,
    )
    assert approved.status_code == 303
    after = client.get(approved.headers["location"])
    assert 'id="campaign-state">Scheduled</span>' in after.text
    assert "Approved: the campaign runs on its stages&#39; days." in after.text
    assert [row for row in re.findall(r"<td>(Planned|Approved)</td>", after.text)] == [
        "Planned",
        "Approved",
    ]
    with session_scope(container.sessions, org.id) as session:
        code = coupons.issue_codes(
            session,
            org.id,
            [
                coupons.Issue(
                    offer_id=uuid.uuid4(),
                    issue_key="print-1",
                    valid_from=PRINTED_FROM,
                    valid_until=PRINTED_UNTIL,
                )
            ],
            "print",
        )[0]
    client.post(
        "/console/preferences/locale", data={"csrf_token": _csrf(after.text), "locale": "zh-CN"}
    )
    found = client.get("/console/marketing", params={"code": code.lower()})
    assert "已发放" in found.text and "营销活动" in found.text and "已排期" in found.text
    assert '<td class="text-nowrap">2027-10-20 – 2027-12-11</td>' in found.text
    lookup = client.get("/console/marketing/coupons", params={"code": code})
    assert '<td class="small text-nowrap">2027-10-20 – 2027-12-11</td>' in lookup.text
    missing = client.get("/console/marketing", params={"code": "NOPE-NOPE"})
    assert "没有此券码的优惠券。" in missing.text


def test_the_member_page_lists_the_members_coupons(
    client: TestClient, container: Container, org: Org
) -> None:
    offer = client.post("/api/v1/marketing/offers", headers=org.auth(), json=THRESHOLD).json()
    member = client.post(
        "/api/v1/members", headers=org.auth(), json={"name": "Wu Fang", "phone": "13800138077"}
    ).json()
    console_login(client, org.owner_email)
    empty = client.get(f"/console/members/{member['id']}", headers={"Accept-Language": "en"})
    assert 'id="member-coupons"' in empty.text and "No coupons." in empty.text
    with session_scope(container.sessions, org.id) as session:
        request = coupons.Issue(
            uuid.UUID(offer["id"]),
            "member-1",
            PRINTED_FROM,
            PRINTED_UNTIL,
            member_id=uuid.UUID(member["id"]),
        )
        coupons.issue(session, org.id, request, "test")
    page = client.get(f"/console/members/{member['id']}", headers={"Accept-Language": "en"})
    section = page.text.split('id="member-coupons"', 1)[1].split("</section>", 1)[0]
    assert "Double 11: spend 300 save 40" in section and "<td>Issued</td>" in section
    # whole local days of Asia/Shanghai, the last one inclusive (the end instant is exclusive)
    assert '<td class="text-nowrap">2027-10-20 – 2027-12-11</td>' in section
