"""Acceptance (issue 16): the export of a demo member lists every fact the member's 360 page
shows. The page is rendered as an owner sees it and its facts are read from the HTML: the
profile, tier and points, consent and its history, OneID's identifier counts, the orders,
the coupons, the inbox, the timeline's events and the newest ledger rows; each is then found
in the export."""

from __future__ import annotations

import html
import random
import re
import uuid
from collections import Counter
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from newretail.bootstrap import Container
from newretail.core.database import session_scope
from newretail.demo.marketing import seed_marketing
from newretail.demo.orders import seed_commerce
from newretail.events.outbox import relay_all
from newretail.marketing.models import Coupon
from newretail.members.models import Member, PointsLedgerEntry
from newretail.orders.models import Order
from newretail.tenancy.models import Membership, Role, UserAccount
from tests.conftest import console_login
from tests.demo.test_commerce import _demo_org

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def _section(page: str, section_id: str) -> str:
    """The HTML of one section of the page, from its id to the section's end."""
    start = page.index(f'id="{section_id}"')
    return page[start : page.index("</section>", start)]


def _text(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment)).strip()


def _cells(fragment: str) -> list[list[str]]:
    """The body rows' cells of the tables in a fragment, as text."""
    rows = []
    for body in re.findall(r"<tbody>(.*?)</tbody>", fragment, re.S):
        for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S):
            rows.append([_text(td) for td in re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)])
    return rows


def _dd(page: str, label: str) -> str:
    found = re.search(rf"<dt[^>]*>{re.escape(label)}</dt><dd[^>]*>(.*?)</dd>", page, re.S)
    assert found is not None, label
    return _text(found.group(1))


@pytest.fixture
def demo_member(container: Container, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The demo organisation with a week of sales and the Double 11 campaign, its facts in
    the warehouse; the member with the most orders among those holding coupons and points
    (the first by phone among equals)."""
    org_id = _demo_org(container, monkeypatch)
    with session_scope(container.sessions, org_id) as session:
        seed_commerce(session, org_id, random.Random(42), days=7)
        seed_marketing(session, org_id, "Asia/Shanghai")
    relay_all(container.sessions, container.warehouse)
    with session_scope(container.sessions, org_id) as session:
        holders = select(Coupon.member_id).where(Coupon.member_id.is_not(None))
        with_points = select(PointsLedgerEntry.member_id)
        member_id, orders = session.execute(
            select(Order.member_id, func.count())
            .join(Member, Member.id == Order.member_id)
            .where(Order.member_id.in_(holders), Order.member_id.in_(with_points))
            .group_by(Order.member_id, Member.phone)
            .order_by(func.count().desc(), Member.phone)
            .limit(1)
        ).one()
        email = session.scalars(
            select(UserAccount.email)
            .join(Membership, Membership.user_id == UserAccount.id)
            .where(Membership.role == Role.OWNER)
        ).one()
    return {"org_id": org_id, "member_id": member_id, "orders": orders, "email": email}


def test_the_export_of_a_demo_member_lists_every_fact_the_360_page_shows(
    client: TestClient, demo_member: dict[str, Any]
) -> None:
    member_id: uuid.UUID = demo_member["member_id"]
    console_login(client, demo_member["email"], "correct horse battery")
    page = client.get(f"/console/members/{member_id}").text
    answer = client.get(f"/console/members/{member_id}/export.json")
    assert answer.status_code == 200
    sections = answer.json()["sections"]
    profile = sections["profile"][0]
    assert demo_member["orders"] >= 2  # a member with a history worth exporting

    # profile and loyalty
    assert _text(_section(page, "member-profile")) != ""
    assert _text(re.search(r'id="member-name">(.*?)</h1>', page).group(1)) == profile["name"]  # type: ignore[union-attr]
    assert _dd(page, "Phone") == profile["phone"]
    assert _dd(page, "E-mail") == (profile["email"] or "—")
    assert _dd(page, "City") == (profile["city"] or "—")
    assert _text(re.search(r'id="member-tier">(.*?)</dd>', page).group(1)) == (  # type: ignore[union-attr]
        profile["tier"] or "—"
    )
    balance = sections["points_balance"][0]
    assert _text(re.search(r'id="points-available">(.*?)</dd>', page).group(1)) == str(  # type: ignore[union-attr]
        balance["available"]
    )
    assert _text(re.search(r'id="points-locked">(.*?)</dd>', page).group(1)) == str(  # type: ignore[union-attr]
        balance["locked"]
    )

    # OneID: the identifier counts the page shows are the identifiers the export holds
    shown = re.findall(r"· ([^·<]+?) × (\d+)", _section(page, "member-identity"))
    held = Counter(i["type"] for i in sections["identifiers"])
    assert sum(int(n) for _, n in shown) == sum(held.values()) >= 1
    assert sorted(int(n) for _, n in shown) == sorted(held.values())

    # consent now (purpose, channel, granted) and every change of it
    consent_section = _section(page, "member-consent")
    if 'id="consent-history"' not in consent_section:  # the page says there is none
        assert sections["consent"] == sections["consent_history"] == []
        consent_section += 'id="consent-history"'
    current, history = consent_section.split('id="consent-history"')
    assert len(_cells(current)) == len(sections["consent"])
    granted = Counter(cells[2] for cells in _cells(current))
    assert granted == Counter("Yes" if c["granted"] else "No" for c in sections["consent"])
    assert len(_cells(history)) == len(sections["consent_history"])

    # orders: each one on the page, and the count the page states
    orders = {o["id"]: o for o in sections["orders"]}
    on_page = re.findall(rf'data-order="({UUID})"', _section(page, "member-orders"))
    assert on_page and set(on_page) <= set(orders)
    count_text = _text(re.search(r'id="member-order-count">(.*?)</p>', page).group(1))  # type: ignore[union-attr]
    assert count_text.startswith(f"{len(orders)} order")
    for cells, order_id in zip(_cells(_section(page, "member-orders")), on_page, strict=True):
        assert cells[4] == str(orders[order_id]["items"])
        assert cells[5].replace("¥", "").replace(",", "") == orders[order_id]["total_amount"]

    # coupons: offer, campaign and state of every row the page shows
    coupon_rows = _cells(_section(page, "member-coupons"))
    assert len(coupon_rows) == len(sections["coupons"]) >= 1
    assert Counter(row[0] for row in coupon_rows) == Counter(
        c["offer_name"] for c in sections["coupons"]
    )
    assert Counter(row[1].split(" · ")[0] for row in coupon_rows) == Counter(
        c["campaign_name"] for c in sections["coupons"]
    )

    # inbox messages and the timeline's events, by id
    inbox_ids = re.findall(rf'data-message="({UUID})"', _section(page, "member-inbox"))
    assert set(inbox_ids) <= {m["id"] for m in sections["inbox_messages"]}
    timeline = _section(page, "member-timeline")
    event_ids = re.findall(r'data-message="([^"]+)"', timeline)
    events = {e["message_id"]: e for e in sections["events"]}
    assert event_ids and set(event_ids) <= set(events)
    assert re.findall(r'data-type="([^"]+)"', timeline) == [events[i]["type"] for i in event_ids]

    # the newest ledger rows (kind, available and locked changes, balance after, reason)
    ledger_rows = _cells(_section(page, "member-ledger"))
    newest = sections["points_ledger"][::-1][: len(ledger_rows)]
    assert len(ledger_rows) >= 1
    for cells, entry in zip(ledger_rows, newest, strict=True):
        assert (cells[2], cells[3]) == (
            f"{entry['available_delta']:+d}",
            f"{entry['locked_delta']:+d}",
        )
        assert cells[4] == f"{entry['available_after']} / {entry['locked_after']}"
        assert cells[5] == (entry["reason"] or "")
