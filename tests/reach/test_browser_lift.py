"""The lift report in a real browser (Debian chromium through Playwright) on the constructed
campaign of tests/reach/lift_data.py: the interval charts drawn, English and Chinese; saves
the screenshots docs/reach.md shows."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect, sync_playwright

from newretail.bootstrap import Container
from newretail.simulator.server import local_server
from tests.conftest import PASSWORD, Org
from tests.console import test_browser as shared
from tests.reach.lift_data import build

pytestmark = pytest.mark.browser


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """The embedded stores only: the page is the same on PostgreSQL (test_lift_report.py)."""
    return sqlite_url


def test_the_lift_report_draws_its_intervals_in_both_languages(
    container: Container, org: Org
) -> None:
    chromium = shared._chromium_path()
    campaign_id = build(container, org).reach.campaign.id
    with local_server(container) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, headless=True, args=shared.CHROMIUM_ARGS
        )
        try:
            for locale, title, arm, shot in (
                ("en-US", "Lift report", "Reached", "console-lift-en.png"),
                ("zh-CN", "增量报告", "触达组", "console-lift-zh-CN.png"),
            ):
                context = browser.new_context(
                    base_url=url,
                    locale=locale,
                    extra_http_headers={"Accept-Language": locale},
                    viewport=shared.VIEWPORT,
                )
                context.set_default_timeout(shared.TIMEOUT_MS)
                page = context.new_page()
                page.goto("/console/login")
                page.fill("#email", org.owner_email)
                page.fill("#password", PASSWORD)
                page.click("#login-form button[type=submit]")
                page.goto(f"/console/marketing/campaigns/{campaign_id}")
                page.click("#lift-report-link")
                expect(page.locator("#lift-title")).to_contain_text(title)
                expect(page.locator("#arm-treated th")).to_have_text(arm)
                expect(page.locator("#arm-treated .arm-members")).to_have_text("4")
                expect(page.locator("#arm-holdout .arm-converted")).to_have_text("1")
                charts = page.locator("svg.lift-chart")
                expect(charts).to_have_count(4)
                for n in range(4):
                    expect(charts.nth(n).locator(".ci-bar")).to_be_visible()
                    expect(charts.nth(n).locator(".ci-point")).to_be_visible()
                page.select_option("#f-stage", "1")
                page.fill("#f-window", "15")
                page.click("#lift-filter button[type=submit]")
                expect(page.locator("#arm-treated .arm-converted")).to_have_text("3")
                shared._screenshot(page, shot)
                context.close()
        finally:
            browser.close()
