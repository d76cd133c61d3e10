"""The event retention page and the Data Bank's crowd floor in a real browser, both languages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from newretail.demo.organisation import DEMO_EMAIL, DEMO_PASSWORD
from tests.console.test_browser import TIMEOUT_MS, VIEWPORT, browser, server_url  # noqa: F401

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        ("en-US", ("Event retention", "must be a whole number of days", "Retention saved.")),
        ("zh-CN", ("事件保留期", "必须是整数天数", "保留期已保存。")),
    ],
)
def test_retention_page_refuses_saves_and_runs(
    browser: Browser,  # noqa: F811
    server_url: str,  # noqa: F811
    locale: str,
    words: tuple[str, str, str],
    tmp_path: Path,
) -> None:
    title, refusal, saved = words
    context = browser.new_context(
        base_url=server_url,
        locale=locale,
        viewport=VIEWPORT,
        extra_http_headers={"Accept-Language": locale},
    )
    context.set_default_timeout(4 * TIMEOUT_MS)
    page = context.new_page()
    try:
        page.goto("/console/login")
        page.fill("#email", DEMO_EMAIL)
        page.fill("#password", DEMO_PASSWORD)
        page.click("#login-form button[type=submit]")
        page.goto("/console/settings")
        page.click("#settings-retention a")
        expect(page.locator("h1")).to_have_text(title)
        page.fill("#failed_days", "seven")
        page.click("#retention-form button[type=submit]")
        expect(page.locator("#failed_days + .invalid-feedback")).to_have_text(refusal)
        page.fill("#failed_days", "30")
        page.fill("#default_days", "3650")
        page.fill("#type_days", "ad_impression 3650")
        page.click("#retention-form button[type=submit]")
        expect(page.locator("#retention-done")).to_have_text(saved)
        page.click("#retention-run button[type=submit]")
        expect(page.locator("#retention-runs tbody tr")).not_to_have_count(0)
        page.screenshot(path=str(tmp_path / f"retention-{locale}.png"), full_page=True)
        page.goto("/console/databank")
        expect(page.locator("#databank-zone")).to_be_visible(timeout=8 * TIMEOUT_MS)
        hidden = page.locator("#databank-breakdowns .below-floor")
        if hidden.count():  # the demo's small stores: "< 50" with its tooltip
            expect(hidden.first).to_have_text(re.compile(r"^< 50$"))
            expect(page.locator("#databank-floor-note")).to_be_visible()
        page.screenshot(path=str(tmp_path / f"databank-floor-{locale}.png"), full_page=True)
    finally:
        context.close()
