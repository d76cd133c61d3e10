"""The member forms of the console, in English and Chinese, checked through the API: edit a
member, set consent, adjust points with a reason; refused forms name the field; the member
list pages with its total."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from newretail.bootstrap import Container
from newretail.members import schemas, service
from newretail.tenancy import schemas as tenancy_schemas
from newretail.tenancy import users as tenancy_users
from newretail.tenancy.models import Role
from tests.conftest import PASSWORD, Org, console_login
from tests.console_pages import csrf, field_errors, submit, text
from tests.members.conftest import org_session, owner_of
from tests.orders.factory import build_shop

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}


def _member(container: Container, org: Org, name: str = "韩梅梅") -> str:
    with org_session(container, org) as session:
        member = service.create_member(
            session, owner_of(org), schemas.MemberCreate(name=name, phone="13800138000")
        )
        return str(member.id)


def test_edit_member_consent_and_points_in_english(
    client: TestClient, container: Container, org: Org
) -> None:
    member_id = _member(container, org)
    console_login(client, org.owner_email)
    page = f"/console/members/{member_id}"

    edited = submit(
        client,
        f"{page}/edit",
        f"{page}/edit",
        {
            "name": "Han Meimei",
            "city": "Hangzhou",
            "birth_year": "1990",
            "gender": "female",
            "phone": "",
            "email": "Han@Example.com",
            "member_card": "vip-7",
            "status": "active",
        },
    )
    assert (edited.status_code, edited.headers["location"]) == (303, f"{page}?saved=profile")
    consent = submit(client, f"{page}/consent", f"{page}/consent", {"consent_sms": "on"})
    assert consent.status_code == 303
    added = submit(client, f"{page}/points", f"{page}/points", {"points": "120", "reason": "VIP"})
    removed = submit(
        client, f"{page}/points", f"{page}/points", {"points": "-20", "reason": "typo"}
    )
    assert (added.status_code, removed.status_code) == (303, 303)
    shown = client.get(f"{page}?saved=points").text
    assert text(shown, "member-saved") == "Points adjusted."
    assert text(shown, "points-available") == "100"

    auth = org.auth()
    member = client.get(f"/api/v1/members/{member_id}", headers=auth).json()
    assert (member["name"], member["city"], member["birth_year"], member["gender"]) == (
        "Han Meimei",
        "Hangzhou",
        1990,
        "female",
    )
    assert (member["phone"], member["email"], member["points_available"]) == (
        "+8613800138000",
        "han@example.com",
        100,
    )
    by_card = client.get(
        "/api/v1/members/lookup", headers=auth, params={"type": "member_card", "value": "VIP-7"}
    )
    assert by_card.json()["id"] == member_id
    consents = client.get(f"/api/v1/members/{member_id}/consent", headers=auth).json()
    assert [(c["channel"], c["granted"], c["source"]) for c in consents["consents"]] == [
        ("sms", True, "console")
    ]
    ledger = client.get(f"/api/v1/members/{member_id}/points/ledger", headers=auth).json()
    changes = [(e["kind"], e["available_delta"], e["reason"], e["actor"]) for e in ledger["items"]]
    assert changes == [
        ("adjust", 120, "VIP", f"user:{org.owner_email}"),
        ("adjust", -20, "typo", f"user:{org.owner_email}"),
    ]

    withdrawn = submit(client, f"{page}/consent", f"{page}/consent", {})
    assert withdrawn.status_code == 303
    consents = client.get(f"/api/v1/members/{member_id}/consent", headers=auth).json()
    assert [(c["channel"], c["granted"]) for c in consents["consents"]] == [("sms", False)]


def test_refused_forms_name_the_field_in_chinese(
    client: TestClient, container: Container, org: Org
) -> None:
    member_id = _member(container, org)
    console_login(client, org.owner_email)
    page = f"/console/members/{member_id}"

    too_many = submit(
        client, f"{page}/points", f"{page}/points", {"points": "-5", "reason": "x"}, **ZH
    )
    assert too_many.status_code == 422
    assert list(field_errors(too_many.text)) == ["points"]
    assert "可用积分不足" in field_errors(too_many.text)["points"]
    zero = submit(client, f"{page}/points", f"{page}/points", {"points": "0", "reason": "x"}, **ZH)
    assert field_errors(zero.text) == {"points": "不能为 0"}
    bad_phone = submit(
        client, f"{page}/edit", f"{page}/edit", {"phone": "12345", "status": "active"}, **ZH
    )
    assert bad_phone.status_code == 422
    assert field_errors(bad_phone.text) == {"phone": "不是有效的手机号"}

    old = submit(
        client, f"{page}/edit", f"{page}/edit", {"birth_year": "1800", "status": "active"}, **ZH
    )
    assert field_errors(old.text) == {"birth_year": "不能小于 1900"}
    no_reason = submit(client, f"{page}/points", f"{page}/points", {"points": "5"}, **ZH)
    assert field_errors(no_reason.text) == {"reason": "至少 1 个字符"}

    zh_added = submit(
        client, f"{page}/points", f"{page}/points", {"points": "30", "reason": "补偿"}, **ZH
    )
    assert zh_added.status_code == 303
    shown = client.get(f"{page}?saved=points", headers=ZH).text
    assert text(shown, "member-saved") == "积分已调整。"
    balance = client.get(f"/api/v1/members/{member_id}/points", headers=org.auth()).json()
    assert (balance["available"], balance["locked"]) == (30, 0)


def test_a_store_manager_cannot_change_members(
    client: TestClient, container: Container, org: Org
) -> None:
    """Store managers sell to members but do not manage them: no buttons, 403 on the forms."""
    member_id = _member(container, org)
    email = f"manager-{uuid.uuid4().hex[:6]}@example.com"
    with org_session(container, org) as session:
        tenancy_users.create_user(
            session,
            owner_of(org),
            tenancy_schemas.UserCreate(
                email=email, password=PASSWORD, role=Role.STORE_MANAGER, store_ids=org.store_ids
            ),
        )
    console_login(client, email)
    page = f"/console/members/{member_id}"
    assert 'id="edit-member"' not in client.get(page).text
    assert client.get(f"{page}/points").status_code == 403
    csrf_page = client.get(page).text
    refused = client.post(
        f"{page}/points",
        data={"csrf_token": csrf(csrf_page), "points": "10", "reason": "x"},
        follow_redirects=False,
    )
    assert refused.status_code == 403
    balance = client.get(f"/api/v1/members/{member_id}/points", headers=org.auth()).json()
    assert balance["available"] == 0


def test_member_list_has_numbered_pages_with_the_total(
    client: TestClient, container: Container, org: Org
) -> None:
    owner = owner_of(org)
    with org_session(container, org) as session:
        for number in range(53):
            service.create_member(session, owner, schemas.MemberCreate(name=f"M{number:02d}"))
    console_login(client, org.owner_email)
    first = client.get("/console/members").text
    assert text(first, "member-count") == "53 members"
    assert "1–50 of 53" in first and 'rel="next"' in first
    second = client.get("/console/members", params={"page": 2}).text
    assert "51–53 of 53" in second and "M52" in second and "M00" not in second
    chinese = client.get("/console/members", params={"page": 2}, headers=ZH).text
    assert text(chinese, "member-count") == "共 53 位会员"
    assert "第 51–53 条，共 53 条" in chinese
    assert client.get("/console/members", params={"page": "x"}).status_code == 422


def test_one_sale_shows_one_local_time_in_orders_and_ledger(
    client: TestClient, container: Container, org: Org
) -> None:
    """Member 360: the Items column counts units and the Store column names the store (never
    its code); the sale's row in the orders and its points in the ledger show the same
    organisation-local time, and the zone is labelled."""
    shop = build_shop(container, org, skus=1, stock=10)
    h = org.auth()
    renamed = client.patch(
        f"/api/v1/stores/{shop.shop_id}", headers=h, json={"name": "三里屯旗舰店"}
    )
    assert renamed.status_code == 200, renamed.text
    store_code = renamed.json()["code"]
    rule = {"brand_id": str(org.brand_id), "points_per_unit": "1"}
    assert client.post("/api/v1/earn-rules", headers=h, json=rule).status_code == 201
    member_id = _member(container, org)
    sale = client.post(
        "/api/v1/orders/pos",
        headers=h,
        json={
            "store_id": str(shop.shop_id),
            "external_order_id": "POS-360",
            "member_id": member_id,
            "lines": [{"sku_id": str(shop.sku_ids[0]), "quantity": 3}],
        },
    )
    assert sale.status_code == 201, sale.text
    order = sale.json()
    assert order["placed_at"] == order["paid_at"]
    local = datetime.fromisoformat(order["placed_at"]).astimezone(ZoneInfo("Asia/Shanghai"))
    expected = local.strftime("%Y-%m-%d %H:%M")

    console_login(client, org.owner_email)
    for headers in ({}, ZH):
        page = client.get(f"/console/members/{member_id}", headers=headers).text
        row = re.search(rf'data-order="{order["id"]}"><td><a [^>]*>([^<]+)</a>(.*?)</tr>', page)
        assert row, "the sale is not in the orders"
        cells = re.findall(r"<td[^>]*>([^<]*)</td>", row.group(2))
        assert (row.group(1), cells[-2]) == (expected, "3")
        assert cells[1] == "三里屯旗舰店" and store_code not in row.group(2)
        earned = re.search(r'id="ledger-table">.*?<tbody><tr[^>]*><td>([^<]+)</td>', page, re.S)
        assert earned and earned.group(1) == expected
        assert "Asia/Shanghai (UTC+08:00)" in page
        assert "built-in method" not in page
