"""The member operations of the console in a real browser (Debian chromium, Playwright) against
the app under uvicorn, in English and in Chinese: edit a member, set consent, adjust points
with a reason (and a refused adjustment naming the field); each result checked through the API.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from newretail.bootstrap import Container
from newretail.members import schemas, service
from newretail.simulator.server import local_server
from tests.conftest import PASSWORD, Org
from tests.console import test_browser as shared
from tests.members.conftest import org_session, owner_of

pytestmark = pytest.mark.browser

LANGUAGES = {
    "en": {
        "accept": "en-US,en;q=0.9",
        "profile": "Profile saved.",
        "consent": "Consent saved.",
        "points": "Points adjusted.",
        "short": "0 points available, 5000 asked",
    },
    "zh-CN": {
        "accept": "zh-CN,zh;q=0.9",
        "profile": "资料已保存。",
        "consent": "授权已保存。",
        "points": "积分已调整。",
        "short": "可用积分不足：可用 0，需要 5000",
    },
}


@pytest.fixture
def browser() -> Iterator[Browser]:
    """Debian chromium on a fresh temporary profile (skips without it, fails under CI=true)."""
    executable = shared._chromium_path()
    expect.set_options(timeout=shared.TIMEOUT_MS)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True, args=shared.CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


def _sign_in(browser: Browser, url: str, org: Org, language: str) -> tuple[Any, Page]:
    context = browser.new_context(
        base_url=url,
        locale=language,
        extra_http_headers={"Accept-Language": LANGUAGES[language]["accept"]},
        viewport=shared.VIEWPORT,
    )
    context.set_default_timeout(shared.TIMEOUT_MS)
    page = context.new_page()
    page.goto("/console/login")
    page.fill("#email", org.owner_email)
    page.fill("#password", PASSWORD)
    page.click("#login-form button[type=submit]")
    expect(page).to_have_url(f"{url}/console")  # sign-in lands on the home page
    return context, page


@pytest.mark.parametrize(
    ("language", "city", "channel", "gender"),
    [("en", "Hangzhou", "sms", "female"), ("zh-CN", "杭州", "wechat", "male")],
)
def test_member_operations_in_the_browser(
    browser: Browser,
    container: Container,
    org: Org,
    language: str,
    city: str,
    channel: str,
    gender: str,
) -> None:
    words = LANGUAGES[language]
    with org_session(container, org) as session:
        member_id = str(
            service.create_member(
                session, owner_of(org), schemas.MemberCreate(name="韩梅梅", phone="13800138000")
            ).id
        )
    with local_server(container) as url:
        context, page = _sign_in(browser, url, org, language)
        try:
            page.goto("/console/members")
            page.click("#members-table a:has-text('韩梅梅')")
            expect(page).to_have_url(f"{url}/console/members/{member_id}")

            page.click("#edit-member")
            page.fill("#city", city)
            page.select_option("#gender", gender)
            page.fill("#member_card", "vip-88")
            page.click("#member-form button[type=submit]")
            expect(page.locator("#member-saved")).to_have_text(words["profile"])

            page.click("#edit-consent")
            page.check(f"#consent_{channel}")
            page.click("#consent-form button[type=submit]")
            expect(page.locator("#member-saved")).to_have_text(words["consent"])

            page.click("#adjust-points")
            page.fill("#points", "-5000")
            page.fill("#reason", "test")
            page.click("#points-form button[type=submit]")
            expect(page.locator("[data-error=points]")).to_have_text(words["short"])
            page.fill("#points", "120")
            page.fill("#reason", "service recovery")
            page.click("#points-form button[type=submit]")
            expect(page.locator("#member-saved")).to_have_text(words["points"])
            expect(page.locator("#points-available")).to_have_text("120")
        finally:
            context.close()

            api = httpx.Client(base_url=url, headers=org.auth(), timeout=10)
            member = api.get(f"/api/v1/members/{member_id}").json()
            assert (member["city"], member["gender"], member["points_available"]) == (
                city,
                gender,
                120,
            )
            card = api.get(
                "/api/v1/members/lookup", params={"type": "member_card", "value": "VIP-88"}
            )
            assert card.json()["id"] == member_id
            consent = api.get(f"/api/v1/members/{member_id}/consent").json()
            assert [(c["channel"], c["granted"], c["source"]) for c in consent["consents"]] == [
                (channel, True, "console")
            ]
            ledger = api.get(f"/api/v1/members/{member_id}/points/ledger").json()["items"]
            assert [(e["kind"], e["available_delta"], e["reason"]) for e in ledger] == [
                ("adjust", 120, "service recovery")
            ]
            api.close()
