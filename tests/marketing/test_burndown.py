"""A stage's budget burn-down from the coupon ledger: what is left of each limit at the end of
each local day (Asia/Shanghai), exact values for a small ledger, and the chart on the
campaign's page in both languages."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy import update

from newretail.bootstrap import Container
from newretail.core.database import session_scope
from newretail.marketing import burndown, campaigns, coupons, redemption
from newretail.marketing.models import Budget, CouponChange, CouponLedgerEntry
from tests.conftest import Org, console_login
from tests.marketing.test_campaign_api import THRESHOLD, plan

ZONE = "Asia/Shanghai"
YEAR = 2025  # a stage over by now, so the campaign's page draws all of its days
FROM, UNTIL = datetime(YEAR, 9, 30, 16, tzinfo=UTC), datetime(YEAR, 12, 31, 16, tzinfo=UTC)
STAGE = {
    "name": "Pre-sale",
    "kind": "pre_sale",
    "first_day": f"{YEAR}-10-20",
    "last_day": f"{YEAR}-10-24",
    "offer_codes": ["D11-300-40"],
    "budget": {"issue_limit": 10, "redeem_limit": 5, "amount_limit": "100.00"},
}


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """An instant of October given in Shanghai's wall-clock time."""
    return datetime(YEAR, 10, day, hour, minute, tzinfo=ZoneInfo(ZONE)).astimezone(UTC)


def _ledger(client: TestClient, container: Container, org: Org) -> uuid.UUID:
    """Three coupons of the stage: A issued before its first day and redeemed (¥30.00) on
    day 2; B issued at 23:59 on day 1, redeemed (¥12.50) on day 3 and refunded on day 4; C
    issued at midnight starting day 2 and withdrawn after the stage ended."""
    offer = client.post("/api/v1/marketing/offers", headers=org.auth(), json=THRESHOLD).json()
    body = plan(org, stages=[STAGE])
    campaign_id = uuid.UUID(
        client.post("/api/v1/marketing/campaigns", headers=org.auth(), json=body).json()["id"]
    )
    key, member = f"{campaign_id}:1", uuid.uuid4()
    with session_scope(container.sessions, org.id) as session:
        ids = {}
        for name, holder in (("A", None), ("B", None), ("C", member)):
            request = coupons.Issue(
                uuid.UUID(offer["id"]), name, FROM, UNTIL, member_id=holder, stage_key=key
            )
            ids[name] = coupons.issue(session, org.id, request, "test").id
        for name, discount in (("A", "30.00"), ("B", "12.50")):
            use = redemption.Redemption(f"order-{name}", None, Decimal(discount), None)
            redemption.redeem(session, ids[name], use, "test", now=FROM)
        redemption.restore(session, ids["B"], "order-B", "test", now=FROM)
        coupons.void_member(session, member, "test")
        when = {
            ("A", CouponChange.ISSUED): local(19, 10),
            ("B", CouponChange.ISSUED): local(20, 23, 59),
            ("C", CouponChange.ISSUED): local(21, 0),
            ("A", CouponChange.REDEEMED): local(21, 12),
            ("B", CouponChange.REDEEMED): local(22, 12),
            ("B", CouponChange.RESTORED): local(23, 9),
            ("C", CouponChange.VOIDED): local(30, 12),
        }
        for (name, change), at in when.items():
            session.execute(
                update(CouponLedgerEntry)
                .where(CouponLedgerEntry.coupon_id == ids[name], CouponLedgerEntry.change == change)
                .values(created_at=at)
            )
    return campaign_id


def _series(
    container: Container, org: Org, campaign_id: uuid.UUID, now: datetime
) -> dict[str, object]:
    with session_scope(container.sessions, org.id) as session:
        stage = campaigns.get_campaign(session, campaign_id).stages[0]
        return {
            chart.measure: (chart.limit, [str(v) for v in chart.left], chart.today)
            for chart in burndown.stage_burn_downs(session, stage, ZONE, now)
        }


def test_the_burn_down_of_a_small_ledger(
    client: TestClient, container: Container, org: Org
) -> None:
    campaign_id = _ledger(client, container, org)
    # on day 4 at noon: the opening value, then the end of days 1 to 4 (day 4 so far)
    during = _series(container, org, campaign_id, local(23, 12))
    assert during == {
        "issued": (Decimal(10), ["9", "8", "7", "7", "7"], date(YEAR, 10, 23)),
        "redeemed": (Decimal(5), ["5", "5", "4", "3", "4"], date(YEAR, 10, 23)),
        "discounted": (
            Decimal("100.00"),
            ["100.00", "100.00", "70.00", "57.50", "70.00"],
            date(YEAR, 10, 23),
        ),
    }
    # after the stage: every day; the withdrawal after the last day counts on the last day
    after = _series(container, org, campaign_id, local(26, 12))
    assert after == {
        "issued": (Decimal(10), ["9", "8", "7", "7", "7", "8"], None),
        "redeemed": (Decimal(5), ["5", "5", "4", "3", "4", "4"], None),
        "discounted": (
            Decimal("100.00"),
            ["100.00", "100.00", "70.00", "57.50", "70.00", "70.00"],
            None,
        ),
    }
    with session_scope(container.sessions, org.id) as session:  # the ledger agrees with the budget
        budget = session.query(Budget).filter(Budget.stage_key == f"{campaign_id}:1").one()
        assert (budget.issued, budget.redeemed, budget.discounted) == (2, 1, Decimal("30.00"))
    before = _series(container, org, campaign_id, local(15, 12))  # only the opening value
    assert before["issued"] == (Decimal(10), ["9"], None)


def test_the_campaign_page_draws_the_burn_down(
    client: TestClient, container: Container, org: Org
) -> None:
    campaign_id = _ledger(client, container, org)
    console_login(client, org.owner_email)
    page = client.get(
        f"/console/marketing/campaigns/{campaign_id}", headers={"Accept-Language": "en"}
    )
    section = page.text.split('id="burn-down"', 1)[1].split("</div>\n\n", 1)[0]
    # the stage is over: every day drawn, the last value said
    assert re.findall(r'data-measure="(\w+)"', section) == ["issued", "redeemed", "discounted"]
    assert 'data-left="9,8,7,7,7,8"' in section
    assert 'data-left="100.00,100.00,70.00,57.50,70.00,70.00"' in section
    assert "Coupons left to issue" in section and "at the end: ¥70.00 left" in section
    assert f">{YEAR}-10-20</text>" in section and f">{YEAR}-10-24</text>" in section
    assert f"<title>{YEAR}-10-22: ¥57.50</title>" in section  # each day's point, local days
    chinese = client.get(
        f"/console/marketing/campaigns/{campaign_id}", headers={"Accept-Language": "zh-CN"}
    )
    assert "预算消耗" in chinese.text and "剩余可发券数" in chinese.text
    assert "结束时：剩余 8" in chinese.text
