"""The counter screen in a real browser (Debian chromium, Playwright) against uvicorn: the
page's own EventSource lists an offer decided after it opened, in English and in Chinese."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect, sync_playwright

from newretail.bootstrap import Container
from tests.conftest import PASSWORD, Org
from tests.console.test_browser import CHROMIUM_ARGS, TIMEOUT_MS, VIEWPORT, _chromium_path
from tests.reach.feed_helpers import decided, describe, reach_on

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("locale", "live", "waiting"),
    [
        ("en-US", "Live: offers appear as they are decided.", "Waiting for offers…"),
        ("zh-CN", "实时：优惠在决策后即时出现。", "等待优惠…"),
    ],
)
def test_the_counter_screen_lists_an_offer_as_it_is_decided(
    server: str,
    container: Container,
    org: Org,
    locale: str,
    live: str,
    waiting: str,
) -> None:
    reach = reach_on(container, org, "store_screen")
    describe(container, org, reach.members[0], name="Li Lei", phone=None, tier="Gold")
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=_chromium_path(), headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context(base_url=server, locale=locale, viewport=VIEWPORT)  # type: ignore[arg-type]
            page = context.new_page()
            page.goto("/console/login")
            page.fill("#email", org.owner_email)
            page.fill("#password", PASSWORD)
            page.click("#login-form button[type=submit]")
            page.wait_for_load_state()
            page.goto(f"/console/reach/screens/{reach.store_id}")
            expect(page.locator("#screen-state")).to_have_text(live)
            expect(page.locator("#screen-empty")).to_have_text(waiting)
            made = decided(reach, reach.members[0], "12:00")
            row = page.locator(f'#screen-offers tr[data-decision="{made}"] td')
            expect(row.nth(0)).to_have_text("Li Lei")
            expect(row.nth(1)).to_have_text("Gold")
            expect(row.nth(2)).to_have_text("Counter: 50 off 300 (COUNTER50)")
            expect(row.nth(3)).to_have_text("Double 11 at the counter · Counter week")
            expect(page.locator("#screen-empty")).to_have_count(0)
        finally:
            browser.close()
