"""The order page shows what the offers took off: the order's discount, each line's, and the
coupons the order used with their offer and campaign names (en and zh-CN)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from newretail.bootstrap import Container
from tests.conftest import Org, console_login
from tests.orders.coupon_helpers import issue, save_offers
from tests.orders.factory import build_shop
from tests.orders.test_sale_coupons import CODE, pos_body


def _cells(html: str, section: str) -> list[list[str]]:
    body = html.split(f'id="{section}"', 1)[1].split("</table>", 1)[0]
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, flags=re.S)
        if "<td" in row
    ]


def test_the_order_page_shows_the_discount_and_the_coupons_used(
    client: TestClient, container: Container, org: Org
) -> None:
    shop = build_shop(container, org, stock=10)
    offers = save_offers(container, shop)
    issue(container, shop, offers["SPEND-30-SAVE-5"], "t1", code=CODE)
    serum = issue(container, shop, offers["SERUM-10PCT"], "s1")
    sent = client.post(
        "/api/v1/orders/pos",
        headers=org.auth(),
        json=pos_body(shop, "T-1", (3, 1), CODE, str(serum)),
    )
    assert sent.status_code == 201, sent.text
    console_login(client, org.owner_email)
    page = client.get(f"/console/orders/{sent.json()['id']}")
    assert page.status_code == 200, page.text
    html = page.text
    assert re.search(r'id="order-discount">−¥9.00<', html)
    lines = _cells(html, "order-lines")
    assert [(row[4], row[5], row[6]) for row in lines] == [
        ("¥10.00", "−¥6.75", "¥23.25"),
        ("¥10.00", "−¥2.25", "¥7.75"),
    ]
    assert [row[:3] for row in _cells(html, "order-coupons")] == [
        ["Spend-30-Save-5", "—", "−¥5.00"],
        ["Serum-10Pct", "—", "−¥4.00"],
    ]
    csrf = html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    client.post("/console/preferences/locale", data={"csrf_token": csrf, "locale": "zh-CN"})
    chinese = client.get(f"/console/orders/{sent.json()['id']}").text
    assert "使用的优惠券" in chinese and ">优惠</th>" in chinese
