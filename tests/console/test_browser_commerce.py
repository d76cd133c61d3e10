"""The commerce console pages in a real browser on the seeded demo: orders with filters,
an order page, the low-stock view and the catalogue, in English and Chinese.

Reuses the server and browser fixtures of test_browser.py (their own module-scoped instances).
Saves docs/images/console-orders-en.png and console-orders-zh-CN.png.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.console import test_browser as shared

pytestmark = pytest.mark.browser

server_url = shared.server_url
browser = shared.browser


def test_orders_stock_and_catalogue_in_both_languages(browser: Browser, server_url: str) -> None:
    context = browser.new_context(
        base_url=server_url,
        locale="en-US",
        extra_http_headers={"Accept-Language": "en-US,en;q=0.9"},
        viewport=shared.VIEWPORT,
    )
    context.set_default_timeout(shared.TIMEOUT_MS)
    page = context.new_page()
    try:
        page.goto("/console/login")
        page.fill("#email", shared.DEMO_EMAIL)
        page.fill("#password", shared.DEMO_PASSWORD)
        page.click("#login-form button[type=submit]")
        expect(page).to_have_url(f"{server_url}/console/stores")

        page.click("#main-nav a:has-text('Orders')")
        expect(page).to_have_url(f"{server_url}/console/orders")
        expect(page.locator("main h1")).to_have_text("Orders")
        expect(page.locator("#main-nav a.active")).to_have_text("Orders")
        expect(page.locator("#orders-table tbody tr")).to_have_count(200)
        expect(page.locator("#order-count")).to_contain_text("showing the newest 200")

        page.select_option("#channel", "cloud_shelf")
        page.select_option("#status", "fulfilled")
        page.click("#order-filters button[type=submit]")
        expect(page).to_have_url(re.compile(r"channel=cloud_shelf.*status=fulfilled"))
        rows = page.locator("#orders-table tbody tr")
        expect(rows.first).to_be_visible()
        expect(rows.locator("td:nth-child(3)").first).to_have_text("Cloud shelf")
        expect(rows.locator("td:nth-child(6)").first).to_have_text("Fulfilled")
        page.goto("/console/orders?channel=cloud_shelf")
        _screenshot_orders(page, "console-orders-en.png")

        page.locator("#orders-table tbody tr td:nth-child(2) a").first.click()
        expect(page).to_have_url(re.compile(r"/console/orders/[0-9a-f-]{36}$"))
        expect(page.locator("#order-lines tbody tr").first).to_be_visible()
        expect(page.locator("#fulfilment-type")).to_have_text(
            re.compile("^(Ship|Pick up in store)$")
        )

        page.click("#main-nav a:has-text('Stock')")
        page.click("#low-stock-tab")
        expect(page.locator("main h1")).to_have_text("Low stock")
        expect(page.locator("#stock-table tbody tr")).to_have_count(8)
        expect(page.locator("#stock-count")).to_have_text("8 stock levels")

        page.click("#main-nav a:has-text('Catalogue')")
        expect(page.locator("#catalog-count")).to_have_text("Products: 50 · SKUs: 200")

        page.click("#language-switcher button:has-text('中文')")
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        expect(page.locator("#catalog-count")).to_have_text("商品：50 · SKU：200")
        page.goto("/console/orders?channel=cloud_shelf")
        expect(page.locator("main h1")).to_have_text("订单")
        expect(page.locator("#orders-table thead")).to_contain_text("下单时间")
        expect(page.locator("#orders-table tbody tr td:nth-child(3)").first).to_have_text("云货架")
        _screenshot_orders(page, "console-orders-zh-CN.png")
        page.click("#language-switcher button:has-text('English')")
        expect(page.locator("html")).to_have_attribute("lang", "en")
    finally:
        context.close()


def _screenshot_orders(page: Page, name: str) -> None:
    """The page at the viewport's size: the 200-row table would make a very tall image."""
    shared.IMAGES.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shared.IMAGES / name))
