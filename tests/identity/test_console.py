"""The OneID console page names people (never internal ids), lists both members of a conflict
and shows times in the organisation's zone, labelled, in English and Chinese."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from newretail.bootstrap import Container
from tests.conftest import Org, console_login
from tests.identity.conftest import create_member, one

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TAG = re.compile(r"<[^>]*>")


def _cells(html: str, css_class: str) -> list[str]:
    """Text of the table cells of a class, tags removed."""
    found = re.findall(rf'<td class="{css_class}">(.*?)</td>', html, re.S)
    return [" ".join(TAG.sub(" ", cell).split()) for cell in found]


def test_a_conflict_lists_both_members_by_name_and_no_page_shows_an_id(
    client: TestClient, container: Container, org: Org
) -> None:
    lin = create_member(container, org, name="林霞", phone="13800138000", account_id="lin-1")
    web = one(container, org, ("anonymous_id", "web-lin"), ("account_id", "lin-1"))
    assert web.member_id == lin
    other = one(container, org, ("account_id", "new-account"), ("phone", "+8613800138000"))
    assert other.member_id != lin  # the phone stays with 林霞: a conflict, nothing moves
    assert one(container, org, ("anonymous_id", "web-lin")).member_id == lin
    console_login(client, org.owner_email)
    page = client.get("/console/identity")
    assert page.status_code == 200
    assert sorted(_cells(page.text, "conflict-side")) == [
        "Unnamed member (account)",
        "林霞 ••• 8000",
    ]
    assert "The two members hold different account values" in page.text
    assert "Asia/Shanghai (UTC+08:00)" in page.text
    assert UUID.findall(TAG.sub(" ", page.text)) == []
    chinese = client.get("/console/identity", headers={"Accept-Language": "zh-CN"})
    assert sorted(_cells(chinese.text, "conflict-side")) == ["未命名会员 (账号)", "林霞 ••• 8000"]
    assert "两个会员的账号不同" in chinese.text
    assert UUID.findall(TAG.sub(" ", chinese.text)) == []
    member_page = client.get(f"/console/members/{lin}")
    assert member_page.status_code == 200
    section = member_page.text.split('id="member-identity"', 1)[1].split("</section>", 1)[0]
    text = " ".join(TAG.sub(" ", section).split())
    assert UUID.findall(text) == []
    assert "Unnamed member (anonymous id) · 2026-11-20 17:00 Asia/Shanghai (UTC+08:00)" in text
