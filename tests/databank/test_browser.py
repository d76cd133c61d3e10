"""The Data Bank page in a real browser (Debian chromium): load time, names, the backfill button.

The load time is printed, never asserted (bench/databank_page.py measures it).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect

from newretail.demo.organisation import DEMO_EMAIL, DEMO_PASSWORD
from tests.console.test_browser import TIMEOUT_MS, VIEWPORT, browser, server_url  # noqa: F401

pytestmark = pytest.mark.browser


def test_databank_page_loads_and_the_server_fills_the_missing_days(
    browser: Browser,  # noqa: F811
    server_url: str,  # noqa: F811
) -> None:
    context = browser.new_context(base_url=server_url, locale="en-US", viewport=VIEWPORT)
    # the page's queries take seconds on a loaded machine: wait longer than the console's tests
    context.set_default_timeout(8 * TIMEOUT_MS)
    page = context.new_page()
    try:
        page.goto("/console/login")
        page.fill("#email", DEMO_EMAIL)
        page.fill("#password", DEMO_PASSWORD)
        page.click("#login-form button[type=submit]")
        page.goto("/console/databank")
        expect(page.locator("#databank-zone")).to_contain_text(
            "Asia/Shanghai (UTC+08:00)", timeout=8 * TIMEOUT_MS
        )
        seconds = page.evaluate(
            "() => { const n = performance.getEntriesByType('navigation')[0];"
            " return (n.loadEventEnd - n.startTime) / 1000; }"
        )
        print(f"\nData Bank page load: {seconds:.3f} s (not asserted; see bench/databank_page.py)")
        expect(page.locator("#databank-backfill")).to_contain_text("57", timeout=8 * TIMEOUT_MS)
        page.click("#databank-backfill button[type=submit]", no_wait_after=True)
        page.wait_for_url(re.compile(r".*/console/databank\?brand_id=.*"), timeout=120_000)
        expect(page.locator("#databank-backfill-progress")).to_have_count(0, timeout=300_000)
        form = page.locator("#databank-backfill")
        if form.count():  # say which days stayed missing (once seen in CI, never reproduced)
            pytest.fail(f"days still missing after the backfill: {form.inner_text()}")
        page.reload()  # the page as a user opens it after the fill
        last_week = page.locator("#fast-table tbody tr").last.locator("td")
        expect(last_week.nth(1)).to_have_text(re.compile(r"^\d+$"))  # F, no longer "—"
        expect(last_week.nth(2)).to_have_text(re.compile(r"^\d+\.\d%$"))  # A
    finally:
        context.close()
