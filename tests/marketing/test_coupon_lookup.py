"""The console's coupon lookup: by printed code or by member (name or phone, several matches
listed to choose from), with names, local times and each coupon's ledger; linked from the
member 360 page."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from decimal import Decimal

from fastapi.testclient import TestClient

from newretail.bootstrap import Container
from newretail.core.database import session_scope
from newretail.marketing import coupons, redemption
from tests.conftest import Org, console_login
from tests.marketing.test_campaign_api import THRESHOLD

VALID_FROM = datetime(2027, 10, 19, 16, tzinfo=UTC)  # 2027-10-20 00:00 in Shanghai
VALID_UNTIL = datetime(2027, 12, 11, 16, tzinfo=UTC)
REDEEMED_AT = datetime(2027, 11, 11, 2, 30, tzinfo=UTC)  # 10:30 in Shanghai


def test_find_a_members_coupons_and_their_history(
    client: TestClient, container: Container, org: Org
) -> None:
    offer = client.post("/api/v1/marketing/offers", headers=org.auth(), json=THRESHOLD).json()
    members = [
        client.post("/api/v1/members", headers=org.auth(), json=body).json()
        for body in (
            {"name": "Wu Fang", "phone": "13800138077"},
            {"name": "Wu Lei", "phone": "13800138078"},
        )
    ]
    fang = uuid.UUID(members[0]["id"])
    with session_scope(container.sessions, org.id) as session:
        issued = [
            coupons.issue(
                session,
                org.id,
                coupons.Issue(
                    uuid.UUID(offer["id"]), f"m-{n}", VALID_FROM, VALID_UNTIL, member_id=fang
                ),
                "planner@example.com",
            )
            for n in (1, 2)
        ]
        use = redemption.Redemption("POS-0042", org.store_ids[0], Decimal("40.00"), fang)
        redemption.redeem(session, issued[0].id, use, "till S0", now=REDEEMED_AT)
        code = coupons.issue_codes(
            session,
            org.id,
            [coupons.Issue(uuid.UUID(offer["id"]), "print-1", VALID_FROM, VALID_UNTIL)],
            "print",
        )[0]
    console_login(client, org.owner_email)
    english = {"Accept-Language": "en"}
    member_page = client.get(f"/console/members/{fang}", headers=english)
    assert f'href="/console/marketing/coupons?member_id={fang}"' in member_page.text

    several = client.get("/console/marketing/coupons", params={"member": "Wu"}, headers=english)
    assert "2 members match: choose one" in several.text
    assert re.findall(r'member_id=[^"]+">([^<]+)</a>', several.text) == ["Wu Fang", "Wu Lei"]

    by_phone = client.get(
        "/console/marketing/coupons", params={"member": "13800138077"}, headers=english
    )
    assert "Coupons of Wu Fang" in by_phone.text
    rows = re.findall(r'coupon-state">([^<]+)</span>', by_phone.text)
    assert sorted(rows) == ["Issued", "Redeemed"]
    assert "Store 0" in by_phone.text and "POS-0042" in by_phone.text
    assert "2027-10-20 – 2027-12-11" in by_phone.text  # local days, the last inclusive
    assert "2027-11-11 10:30" in by_phone.text  # redeemed, local time
    ledger = re.findall(r"<tr><td>([^<]+)</td><td>(Issued|Redeemed)</td>", by_phone.text)
    assert [change for _, change in ledger] == ["Issued", "Issued", "Redeemed"]
    assert str(fang) not in re.sub(r'href="[^"]*"', "", by_phone.text)  # names, not ids

    by_code = client.get(
        "/console/marketing/coupons",
        params={"code": code.lower()},
        headers={"Accept-Language": "zh-CN"},
    )
    assert "已发放" in by_code.text and "Double 11: spend 300 save 40" in by_code.text
    nobody = client.get("/console/marketing/coupons", params={"member": "Nobody"}, headers=english)
    assert "No member matches." in nobody.text
    unknown = client.get(
        "/console/marketing/coupons", params={"code": "NOPE-NOPE"}, headers=english
    )
    assert "No coupon has this code." in unknown.text
