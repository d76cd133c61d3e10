"""The campaign page's "Issue coupons" form: an owner starts the bulk issue of a stage's offer
to an audience (the API's background job), the page shows its progress until it is done, an
analyst sees no form, and refusals name the field, in English and Chinese."""

from __future__ import annotations

import re
import time
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from newretail.bootstrap import Container
from newretail.core.database import session_scope
from newretail.marketing import campaigns, schemas
from newretail.marketing.models import Budget, Coupon
from newretail.tenancy import schemas as tenancy_schemas
from newretail.tenancy import users
from newretail.tenancy.models import Role
from tests.audiences.test_api import AS_OF, presale
from tests.audiences.world import cart_history, load_events, make_members
from tests.conftest import PASSWORD, Org, console_login
from tests.marketing.bulk_helpers import OFFER_NAME, a_campaign, owner_of
from tests.marketing.test_campaign_api import THRESHOLD
from tests.marketing.test_console_pages import _csrf


def _audiences(client: TestClient, container: Container, org: Org) -> tuple[str, str]:
    """ "carts" (6 of 8 members, refreshed) and "later" (never refreshed)."""
    ids = make_members(container, org, 8)
    load_events(container, cart_history(org, ids, AS_OF - timedelta(days=1), set(ids[6:])))
    client.put("/api/v1/audiences/settings", headers=org.auth(), json={"min_crowd_size": 2})
    made = [
        client.post(
            "/api/v1/audiences", headers=org.auth(), json={"name": name, "rules": presale(org)}
        ).json()["id"]
        for name in ("carts", "later")
    ]
    refreshed = client.post(
        f"/api/v1/audiences/{made[0]}/refresh?as_of={AS_OF}", headers=org.auth()
    )
    assert refreshed.json()["size"] == 6
    return made[0], made[1]


def _finished(client: TestClient, url: str) -> str:
    for _ in range(300):
        page = client.get(url)
        if 'data-status="running"' not in page.text:
            return page.text
        assert '<meta http-equiv="refresh" content="2">' in page.text
        time.sleep(0.1)
    raise AssertionError("the bulk issue did not finish in 30 s")


def test_an_owner_issues_a_stage_offer_to_an_audience_from_the_campaign_page(
    client: TestClient, container: Container, org: Org
) -> None:
    carts, later = _audiences(client, container, org)
    with session_scope(container.sessions, org.id) as session:
        made = a_campaign(session, org.id, issue_limit=4)
        campaign_id, stage_id = made.campaign.id, made.campaign.stages[0].id
        users.create_user(
            session,
            owner_of(org.id),
            tenancy_schemas.UserCreate(
                email=f"analyst-{org.slug}@example.com", password=PASSWORD, role=Role.ANALYST
            ),
        )
    page_url = f"/console/marketing/campaigns/{campaign_id}"
    action = f"{page_url}/stages/{stage_id}/issue"
    console_login(client, org.owner_email)
    page = client.get(page_url, headers={"Accept-Language": "en-GB"})
    assert f'action="{action}"' in page.text
    assert f'<option value="D11" >{OFFER_NAME}</option>' in page.text
    assert f'<option value="{carts}" >carts</option>' in page.text
    token = _csrf(page.text)

    def post(**fields: str) -> str:
        refused = client.post(action, data={"csrf_token": token, **fields})
        assert refused.status_code in (404, 409, 422), refused.text
        errors = re.findall(r'data-error="(\w+)">([^<]+)<', refused.text)
        assert len(errors) == 1, errors
        return f"{refused.status_code} {errors[0][0]}: {errors[0][1]}"

    assert post(offer_code="D11") == (
        "422 audience_id: Audience: the stage has no audience of its own; choose one."
    )
    assert post(offer_code="D11", audience_id=later) == (
        "409 audience_id: Audience: it has not been refreshed yet; refresh it first."
    )
    other = dict(THRESHOLD, code="OTHER", name="Another offer")
    assert client.post("/api/v1/marketing/offers", headers=org.auth(), json=other).is_success
    assert post(offer_code="OTHER", audience_id=carts) == (
        "422 offer_code: Offer: it is not one of the stage&#39;s offers."
    )
    assert client.post(action, data={"csrf_token": token, "offer_code": "NOPE"}).status_code == 404
    forged = client.post(action, data={"csrf_token": "x", "offer_code": "D11"})
    assert forged.status_code == 403

    started = client.post(
        action,
        data={"csrf_token": token, "offer_code": "D11", "audience_id": carts},
        follow_redirects=False,
    )
    assert started.status_code == 303
    assert re.fullmatch(rf"{page_url}\?issue=[0-9a-f]{{32}}", started.headers["location"])
    done = _finished(client, started.headers["location"].split("#")[0])
    assert '<meta http-equiv="refresh"' not in done
    assert f"Coupons issued · Main day · {OFFER_NAME} → carts</div>" in done
    assert '<div class="small" id="issue-done">6 of 6 members done</div>' in done
    counts = re.search(r'id="issue-counts">([^<]+)</div>', done)
    assert counts is not None
    assert counts.group(1) == (
        "4 issued · 0 already held one · 2 refused: the stage&#39;s budget is spent"
    )
    with session_scope(container.sessions, org.id) as session:
        assert session.scalar(select(func.count()).select_from(Coupon)) == 4
        assert session.scalar(select(Budget.issued)) == 4
        campaigns.change_state(
            session, owner_of(org.id), campaign_id, schemas.CampaignChange.PAUSED
        )

    client.post("/console/preferences/locale", data={"csrf_token": token, "locale": "zh-CN"})
    zh = client.get(started.headers["location"].split("#")[0]).text
    assert "发券完成 · Main day" in zh and "已处理 6 / 6 位会员" in zh
    assert "已发 4 张 · 0 位已持有 · 2 位被拒：阶段预算已用完" in zh
    assert post(offer_code="D11", audience_id=carts) == (
        "409 state: 活动：只有已排期或进行中的活动才能发券。"
    )
    with session_scope(container.sessions, org.id) as session:
        assert session.scalar(select(func.count()).select_from(Coupon)) == 4

    client.cookies.clear()
    console_login(client, f"analyst-{org.slug}@example.com")
    seen = client.get(page_url)
    assert seen.status_code == 200 and "issue-form" not in seen.text
    denied = client.post(action, data={"csrf_token": _csrf(seen.text), "offer_code": "D11"})
    assert denied.status_code == 403
